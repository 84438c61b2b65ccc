"""Every failure a transport can raise, through the session's retry and in-doubt rules.

httpx's failures (an injected transport's) are translated into the wire's at the edge
(`httpx_sender.py`); the session reads the wire's classes only. Each row: a write that
cannot be sent twice safely (a conversation) and a read (`GET /me`) meet the failure
once, then the sandbox answers.
What the loader does with each outcome: retried (the write is made once, nothing in doubt),
in doubt (`WriteInDoubt`: read back, never sent blind) or failed (`IntercomConnectionError`:
the record fails with the reason).
"""

from __future__ import annotations

import httpx
import pytest

from connectors.intercom import IntercomClient, IntercomConnectionError, RetryPolicy, WriteInDoubt, failures
from connectors.intercom.models import ContactCreate, ConversationCreate
from connectors.intercom.sandbox import SANDBOX_URL, Sandbox
from connectors.intercom.sandbox.transport import InProcessConnection
from connectors.intercom.session import DirectTransport
from tests.support.virtual_time import LoopClock, run_virtual

RETRIED, IN_DOUBT, FAILED = "retried", "in doubt", "failed"

HTTPX = [
    (httpx.ConnectError, RETRIED, "connect_error"),
    (httpx.ConnectTimeout, RETRIED, "timeout"),
    (httpx.PoolTimeout, RETRIED, "timeout"),
    (httpx.ProxyError, RETRIED, "connect_error"),  # the proxy would not open the tunnel: nothing reached Intercom
    (httpx.WriteError, IN_DOUBT, "disconnected"),
    (httpx.WriteTimeout, IN_DOUBT, "timeout"),
    (httpx.ReadError, IN_DOUBT, "disconnected"),
    (httpx.ReadTimeout, IN_DOUBT, "timeout"),
    (httpx.RemoteProtocolError, IN_DOUBT, "disconnected"),
    (httpx.CloseError, IN_DOUBT, "transport_error"),
    (httpx.DecodingError, IN_DOUBT, "transport_error"),
    (httpx.TooManyRedirects, IN_DOUBT, "transport_error"),
    (httpx.TimeoutException, IN_DOUBT, "timeout"),  # which step timed out is not said: it may have been sent
    (httpx.NetworkError, IN_DOUBT, "transport_error"),
    (httpx.ProtocolError, IN_DOUBT, "transport_error"),
    (httpx.TransportError, IN_DOUBT, "transport_error"),
    (httpx.UnsupportedProtocol, FAILED, "transport_error"),
    (httpx.LocalProtocolError, FAILED, "transport_error"),
]

# the wire's own failures, raised by a sender the session is handed (`DirectTransport`):
# each means what httpx's failure of its name means
WIRE = [(getattr(failures, failure.__name__), expected, label) for failure, expected, label in HTTPX
        if hasattr(failures, failure.__name__)]


class FailingOnce(httpx.AsyncBaseTransport):
    """The sandbox behind httpx, but the first request to `path` raises `failure` instead."""

    def __init__(self, sandbox: Sandbox, path: str, failure: type[Exception]) -> None:
        self.inner, self.path, self.failure = sandbox.transport(), path, failure
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        if request.url.path == self.path and self.requests.count(self.path) == 1:
            raise self.failure(f"{self.failure.__name__} on purpose", request=request)
        return await self.inner.handle_async_request(request)


class DirectFailingOnce(DirectTransport):
    """The sandbox as the session's direct sender, but the first request to `path` raises `failure`."""

    def __init__(self, sandbox: Sandbox, path: str, failure: type[Exception]) -> None:
        self.sandbox, self.path, self.failure = sandbox, path, failure
        self.requests: list[str] = []

    def connection(self, base_url: str, headers: dict[str, str]) -> DirectFailingOnce.Sender:
        return self.Sender(self, self.sandbox.transport().connection(base_url, headers))

    class Sender:
        def __init__(self, owner: DirectFailingOnce, inner: InProcessConnection) -> None:
            self.owner, self.inner = owner, inner

        async def request(self, method, path, *, params=None, json=None):
            owner = self.owner
            owner.requests.append(path)
            if path == owner.path and owner.requests.count(path) == 1:
                raise owner.failure(f"{owner.failure.__name__} on purpose")
            return await self.inner.request(method, path, params=params, json=json)

        async def aclose(self) -> None:
            await self.inner.aclose()


def outcome_of(make_transport, failure: type[Exception], path: str):
    """What a call to `path` (a conversation create, or `GET /me`) came to when its first try raised `failure`."""
    clock = LoopClock(1_767_225_600)
    sandbox = Sandbox(clock=clock)
    transport = make_transport(sandbox, path, failure)

    async def main():
        async with IntercomClient("t", base_url=SANDBOX_URL, transport=transport, clock=clock,
                                  retry=RetryPolicy(max_attempts=3)) as client:
            try:
                if path == "/me":
                    await client.me()
                else:
                    contact = await client.contacts.create(ContactCreate(external_id="st-1", email="ann@example.com"))
                    await client.conversations.create(ConversationCreate.model_validate(
                        {"from": {"type": "user", "id": contact.id}, "body": "It broke", "created_at": 1_600_000_000}))
            except WriteInDoubt as doubt:
                return IN_DOUBT, doubt.cause, client.metrics()
            except IntercomConnectionError as error:
                return FAILED, str(error), client.metrics()
            return RETRIED, None, client.metrics()

    result, said, metrics = run_virtual(main())
    return result, said, metrics, transport.requests.count(path), sandbox.state.counts()["conversations"]


def check_row(make_transport, failure, expected, label):
    write, cause, metrics, tries, made = outcome_of(make_transport, failure, "/conversations")
    assert write == expected
    assert metrics.calls["conversations.create"][label] == 1  # the failure as the metrics count it
    if expected == RETRIED:  # nothing was sent: sent again, made once, nothing in doubt
        assert (tries, made, metrics.retries, metrics.in_doubt) == (2, 1, 1, 0)
    elif expected == IN_DOUBT:  # it may have been applied: never sent again
        assert (tries, metrics.retries, metrics.in_doubt, cause) == (1, 0, 1, label)
    else:  # retrying cannot help: failed at once, with the failure's words
        assert (tries, made, metrics.retries, metrics.in_doubt) == (1, 0, 0, 0)
        assert f"{failure.__name__}: {failure.__name__} on purpose" in cause
    read, _, metrics, tries, _ = outcome_of(make_transport, failure, "/me")
    assert read == (FAILED if expected == FAILED else RETRIED)  # a read is sent again whenever it can help
    assert tries == (1 if expected == FAILED else 2) and metrics.in_doubt == 0


@pytest.mark.parametrize(("failure", "expected", "label"), HTTPX, ids=[row[0].__name__ for row in HTTPX])
def test_an_httpx_failure_of_an_injected_transport(failure, expected, label):
    check_row(FailingOnce, failure, expected, label)


@pytest.mark.parametrize(("failure", "expected", "label"), WIRE, ids=[row[0].__name__ for row in WIRE])
def test_the_wire_s_own_failures_are_classified_as_before(failure, expected, label):
    check_row(DirectFailingOnce, failure, expected, label)


def test_every_failure_class_is_in_the_tables():
    """A failure class httpx or the wire adds must be given its meaning here, not fall to 'sent' unseen."""
    every = {cls for cls in vars(httpx).values()
             if isinstance(cls, type) and issubclass(cls, httpx.RequestError) and cls is not httpx.RequestError}
    assert every == {row[0] for row in HTTPX}
    wire = {cls for cls in vars(failures).values()
            if isinstance(cls, type) and issubclass(cls, failures.RequestError) and cls is not failures.RequestError}
    assert wire == {row[0] for row in WIRE}


class Raising(httpx.AsyncBaseTransport):
    def __init__(self, failure: Exception) -> None:
        self.failure = failure

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise self.failure


def sent_through_httpx(failure: Exception) -> BaseException:
    """What `HttpxSender.request` raises when its transport raises `failure`."""
    from connectors.intercom.httpx_sender import HttpxSender

    async def main() -> BaseException:
        sender = HttpxSender(SANDBOX_URL, {}, failures.Timeout(5.0), Raising(failure), 1, 3.0)
        try:
            await sender.request("POST", "/contacts", json={"role": "user"})
        except BaseException as exc:  # noqa: BLE001 - what came out is the subject
            return exc
        finally:
            await sender.aclose()
        raise AssertionError("nothing was raised")

    return run_virtual(main())


@pytest.mark.parametrize("failure", [row[0] for row in HTTPX], ids=[row[0].__name__ for row in HTTPX])
def test_the_translation_keeps_the_name_the_words_and_the_original(failure):
    original = failure("what httpx said")
    translated = sent_through_httpx(original)
    assert isinstance(translated, failures.RequestError) and translated.__cause__ is original
    assert str(translated) == "what httpx said"
    assert type(translated) is getattr(failures, failure.__name__, failures.RequestError)  # bases: the wire's base


@pytest.mark.parametrize("failure", [httpx.StreamClosed(), httpx.InvalidURL("no"), RuntimeError("a bug in the double")],
                         ids=["StreamClosed", "InvalidURL", "RuntimeError"])
def test_what_is_no_transport_failure_goes_through_untouched(failure):
    assert sent_through_httpx(failure) is failure


def test_only_a_declared_direct_transport_is_handed_the_wire_s_bytes():
    """The session sends the wire's bytes to a `DirectTransport` it was handed; any other
    transport goes through httpx, whatever attributes it has."""
    from connectors.intercom.httpx_sender import HttpxSender

    sandbox = Sandbox()

    class Lookalike(httpx.AsyncBaseTransport):  # a `connection` of its own, but no DirectTransport
        def connection(self, base_url: str, headers: dict[str, str]) -> None:
            raise AssertionError("a transport that did not declare itself was asked for a connection")

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return await sandbox.transport().handle_async_request(request)

    async def main() -> list[type]:
        senders = []
        for transport in (Lookalike(), sandbox.transport()):
            async with IntercomClient("t", base_url=SANDBOX_URL, transport=transport) as client:
                assert (await client.me()).id
                senders.append(type(client.session.apps[0].clients[0]))
        return senders

    assert run_virtual(main()) == [HttpxSender, InProcessConnection]
