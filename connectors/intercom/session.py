"""The HTTP pipeline under every operation: apps, connections, pacing, retries, in-doubt, metrics.

A slot pool holds one entry per allowed request in flight, each with its own keep-alive
connection (`wire.Connection`: plain asyncio streams, not httpx, whose client, pool and
parser cost more CPU per request than the loader's own work on it): taking a slot is both
the concurrency bound and the choice of connection. An injected `DirectTransport` (the
in-process sandbox) is handed the same request bytes through the `Sender` it makes; any
other injected transport (test doubles) is driven through one `httpx.AsyncClient`
(`httpx_sender.py`, the only place that imports httpx, and where its failures become the
wire's: a load through the wire never imports it).

Several access tokens (private apps of one workspace) multiply the rate: each app gets
its own connections and slots and its own pacer (its own X-RateLimit headers), and every
request also passes the workspace's pacer, whose limit is the workspace's (25,000 calls a
minute unless told otherwise). Slots of the apps are interleaved, so requests spread
over the apps.

Retry rules: a 429 was not applied, so every request waits for the window and goes
again. A failure before the request left (connect error or timeout, pool timeout, a proxy
that would not connect) is retried for every request. After the request left (read
timeout, dropped connection, 5xx), only idempotent requests are retried, with capped
exponential backoff and jitter; anything else is reported as `WriteInDoubt` and never
re-sent. A request that cannot be written (a bad URL, a header that is not ASCII) fails
at once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import random
import weakref
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import SecretStr

from connectors.intercom.clock import Clock, SystemClock
from connectors.intercom.config import API_VERSION, RetryPolicy
from connectors.intercom.errors import (
    IntercomApiError,
    IntercomConnectionError,
    SentRequest,
    WriteInDoubt,
    api_error,
)
from connectors.intercom.failures import (
    ConnectError,
    ConnectTimeout,
    LocalProtocolError,
    PoolTimeout,
    ReadError,
    RemoteProtocolError,
    RequestError,
    Timeout,
    TimeoutException,
    UnsupportedProtocol,
    WriteError,
    timeout_of,
)
from connectors.intercom.metrics import ClientMetrics, MetricsSnapshot
from connectors.intercom.ratelimit import Handoff, RatePacer, WindowBudget, is_prioritized
from connectors.intercom.wire import Answer, Connection, Wire, tls_context

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("connectors.intercom")

# Failures that prove the request never reached the server (a proxy's refusal is a ConnectError).
_NOT_SENT = (ConnectError, ConnectTimeout, PoolTimeout)
# Failures that retrying cannot fix (a bad URL, a request that cannot be written).
_HOPELESS = (UnsupportedProtocol, LocalProtocolError)
# Every open session, so a command line can say what the process is waiting for.
_LIVE: weakref.WeakSet[IntercomSession] = weakref.WeakSet()
WAIT_WORTH_SAYING_S = 1.0  # an answer slower than this is worth telling the operator about


@dataclass(frozen=True)
class Call:
    """One API operation to perform. `idempotent`: safe to send again after any failure."""

    operation: str
    method: str
    path: str
    idempotent: bool
    params: dict[str, Any] | None = None
    body: Any = None
    app: int | None = None  # sent with this token (its index), outside the slot pool: checks per app

    def sent(self) -> SentRequest:
        return SentRequest(self.operation, self.method, self.path, self.params, self.body)


def describe_waits() -> str | None:
    """What this process's Intercom sessions wait for, in one line; None when nothing is slow."""
    found = [text for session in list(_LIVE) if (text := session.waiting())]
    return "; ".join(found) or None


def _failure_text(exc: Exception) -> str:
    """A transport failure's own words (a refused connection, a TLS handshake), one line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _outcome(exc: Exception) -> str:
    if isinstance(exc, TimeoutException):
        return "timeout"
    if isinstance(exc, ConnectError):
        return "connect_error"
    if isinstance(exc, (RemoteProtocolError, ReadError, WriteError)):
        return "disconnected"
    return "transport_error"


class Sender(Protocol):
    """What a slot sends through: a wire connection, the in-process sandbox's connection, or
    an injected transport's httpx client (`httpx_sender.HttpxSender`). A request that gets
    no usable answer raises a `failures.RequestError`, never another family's."""

    async def request(self, method: str, url: str, *, params: dict[str, Any] | None = ...,
                      json: Any = ...) -> httpx.Response | Answer: ...

    async def aclose(self) -> None: ...


class DirectTransport(ABC):
    """An injected transport that takes the wire's request bytes itself (the in-process
    sandbox): the session sends through the `Sender` it makes, not through an httpx client.
    Declared by inheriting, so no other transport is taken for one by an attribute's name."""

    @abstractmethod
    def connection(self, base_url: str, headers: dict[str, str]) -> Sender:
        """A sender for every slot of one app (these headers, its token among them): any number of requests at once."""


WORKSPACE_LIMIT_PER_MINUTE = 25_000  # Intercom's published limit for all private apps of a workspace
# An idle connection is dropped before servers commonly drop it (uvicorn 5 s, load balancers
# 60 s): a request sent on a connection the server is closing gets no answer, and a write
# without an answer is in doubt (read back for minutes before it may be sent again).
KEEPALIVE_EXPIRY_S = 3.0


@dataclass
class _App:
    """One access token: its connections (or its httpx client) and its pacer."""

    token: SecretStr
    pacer: RatePacer
    clients: list[Sender] = field(default_factory=list)


@dataclass(frozen=True)
class _Slot:
    app: _App
    client: Sender


def _secret(token: str | SecretStr) -> SecretStr:
    secret = token if isinstance(token, SecretStr) else SecretStr(token)
    if not secret.get_secret_value():
        raise ValueError("the Intercom access token is empty")
    return secret


class IntercomSession:
    def __init__(
        self,
        token: str | SecretStr | Sequence[str | SecretStr],
        base_url: str,
        *,
        version: str = API_VERSION,
        max_concurrency: int = 32,
        timeout: Timeout | httpx.Timeout | float = Timeout(60.0, connect=10.0),
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | DirectTransport | None = None,
        pacer: RatePacer | None = None,
        rng: random.Random | None = None,
        user_agent: str = "helpmig-intercom",
        workspace_limit_per_minute: int | None = WORKSPACE_LIMIT_PER_MINUTE,
    ) -> None:
        """`token`: one access token, or several of one workspace (then `max_concurrency`
        is per token). `workspace_limit_per_minute` paces all tokens together (None: not)."""
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        tokens = [token] if isinstance(token, (str, SecretStr)) else list(token)
        if not tokens:
            raise ValueError("no Intercom access token")
        if pacer is not None and len(tokens) > 1:
            raise ValueError("a pacer can be given for one token only")
        self.base_url = base_url
        self.clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self.metrics = ClientMetrics()
        self._rng = rng or random.Random()
        self.apps = [_App(_secret(t), pacer or RatePacer(self.clock)) for t in tokens]
        if len({a.token.get_secret_value() for a in self.apps}) != len(self.apps):
            raise ValueError("the same access token was given twice")
        self.pacer = self.apps[0].pacer
        # one app never reaches the workspace's limit alone: its own headers pace it
        self.workspace_pacer = (RatePacer(self.clock, limit=round(workspace_limit_per_minute / 6))
                                if workspace_limit_per_minute and len(self.apps) > 1 else None)
        timeout = timeout_of(timeout)
        # one TLS context for every connection: each costs ~30 ms to build (the CA bundle is parsed)
        tls = tls_context() if transport is None and base_url.lower().startswith("https:") else None
        for app in self.apps:
            headers = {
                "Authorization": f"Bearer {app.token.get_secret_value()}",
                "Intercom-Version": version,
                "Accept": "application/json",
                "User-Agent": user_agent,
            }
            if transport is None:  # a connection per slot
                wire = Wire(base_url, headers, timeout=timeout, keepalive_expiry=KEEPALIVE_EXPIRY_S, tls=tls)
                app.clients = [Connection(wire) for _ in range(max_concurrency)]
            elif isinstance(transport, DirectTransport):
                app.clients = [transport.connection(base_url, headers)]  # in process: any number at once, no pool
            else:  # an injected transport has no pool to spread over
                from connectors.intercom.httpx_sender import HttpxSender

                app.clients = [HttpxSender(base_url, headers, timeout, transport, max_concurrency, KEEPALIVE_EXPIRY_S)]
        self._requests: dict[int, tuple[str, float]] = {}  # in flight: ticket -> (operation, started)
        self._tickets = itertools.count()
        _LIVE.add(self)
        # slots interleaved app by app: requests spread over the apps
        self._free: Handoff[_Slot] = Handoff([_Slot(app, app.clients[index % len(app.clients)])
                                              for index in range(max_concurrency) for app in self.apps])

    def __repr__(self) -> str:
        tokens = ", ".join(repr(a.token) for a in self.apps)
        return f"IntercomSession(base_url={self.base_url!r}, tokens=[{tokens}])"

    async def aclose(self) -> None:
        _LIVE.discard(self)
        for app in self.apps:
            for client in app.clients:
                await client.aclose()

    def budget(self) -> WindowBudget:
        """The window of all apps together: the sum of theirs, within the workspace's."""
        budgets = [a.pacer.budget() for a in self.apps]
        if len(budgets) == 1:
            return budgets[0]

        def total(values: list[int | None]) -> int | None:
            return None if any(v is None for v in values) else sum(v for v in values if v is not None)

        limit, remaining = total([b.limit for b in budgets]), total([b.remaining for b in budgets])
        estimated = total([b.estimated_remaining for b in budgets])
        resets = [b.reset_at for b in budgets if b.reset_at is not None]
        blocked = [b.blocked_until for b in budgets if b.blocked_until is not None]
        if self.workspace_pacer is not None:
            workspace = self.workspace_pacer.budget()
            if workspace.limit is not None:
                limit = workspace.limit if limit is None else min(limit, workspace.limit)
                if estimated is not None and workspace.estimated_remaining is not None:
                    estimated = min(estimated, workspace.estimated_remaining)
            if workspace.blocked_until:
                blocked.append(workspace.blocked_until)
        return WindowBudget(limit=limit, remaining=remaining, estimated_remaining=estimated,
                            reset_at=min(resets) if resets else None, blocked_until=max(blocked) if blocked else None)

    def waiting(self) -> str | None:
        """What this session waits for now: a rate-limit window (with a countdown), or an answer."""
        now = self.clock.time()
        budget = self.budget()
        refused = self.metrics.rate_limited
        storm = f"{refused} answer was 429" if refused == 1 else f"{refused} answers were 429"
        if budget.blocked_until and budget.blocked_until > now:
            return f"Intercom's rate limit: {storm} so far; next try in {math.ceil(budget.blocked_until - now)} s"
        if (budget.limit and budget.estimated_remaining is not None and budget.estimated_remaining < 1
                and budget.reset_at and budget.reset_at > now):
            spent = f"Intercom's rate limit: the window of {budget.limit} requests is used up"
            return spent + (f" ({storm} so far)" if refused else "") + \
                f"; next try in {math.ceil(budget.reset_at - now)} s"
        pending = list(self._requests.values())
        if not pending:
            return None
        operation, started = min(pending, key=lambda p: p[1])
        age = self.clock.monotonic() - started
        if age < WAIT_WORTH_SAYING_S:
            return None
        return f"waiting for Intercom to answer {operation} ({age:.0f} s; {len(pending)} in flight)"

    def snapshot(self) -> MetricsSnapshot:
        return self.metrics.snapshot(self.budget())

    async def _exchange(self, call: Call) -> tuple[httpx.Response | Answer | None, Exception | None, _Slot,
                                                   tuple[int, int]]:
        """One attempt: a slot (an app and one of its clients), the pacers' permission, the request."""
        priority = is_prioritized()
        pinned = call.app is not None
        slot = _Slot(self.apps[call.app], self.apps[call.app].clients[0]) if call.app is not None \
            else await self._free.get(priority)
        client = slot.client
        try:
            sequence = (await slot.app.pacer.acquire(priority),
                        await self.workspace_pacer.acquire(priority) if self.workspace_pacer is not None else 0)
            self.metrics.started()
            started = self.clock.monotonic()
            ticket = next(self._tickets)
            self._requests[ticket] = (call.operation, started)
            try:
                response = await client.request(call.method, call.path, params=call.params, json=call.body)
            except RequestError as exc:  # every sender's failures are the wire's (failures.py)
                self.metrics.finished(call.operation, _outcome(exc), None)
                return None, exc, slot, sequence
            except asyncio.CancelledError:  # the caller stopped (pause, quit): no longer in flight
                self.metrics.finished(call.operation, "cancelled", None)
                raise
            finally:
                self._requests.pop(ticket, None)
            took = getattr(response, "exchange_s", None)  # without the connection's handshakes, when known
            answered = self.clock.monotonic()
            self.metrics.finished(call.operation, response.status_code,
                                  took if took is not None else answered - started, started, answered)
            return response, None, slot, sequence
        finally:
            if not pinned:
                self._free.put(slot)

    async def send(self, call: Call) -> httpx.Response | Answer:
        """Perform a call; a 2xx response, or a typed exception (see module doc)."""
        attempt = 0
        rate_limit_waits = 0
        uncertain = False  # an earlier attempt may have been applied
        while True:
            attempt += 1
            response, failure, slot, (sequence, workspace_sequence) = await self._exchange(call)
            if response is not None:
                status = response.status_code
                pacer = slot.app.pacer
                pacer.observe(sequence, response.headers)
                if self.workspace_pacer is not None:
                    self.workspace_pacer.observe(workspace_sequence, response.headers)
                if status < 400:
                    pacer.succeeded()
                    return response
                if status == 429:
                    rate_limit_waits += 1
                    if rate_limit_waits > self.retry.max_rate_limit_waits:
                        raise self._api_error(call, response, uncertain)
                    wait = pacer.rate_limited(sequence, response.headers)
                    if self.workspace_pacer is not None:  # the app's or the workspace's budget: the headers do not say
                        wait = max(wait, self.workspace_pacer.rate_limited(workspace_sequence, response.headers))
                    self.metrics.retries += 1
                    attempt -= 1  # a 429 is not a failed attempt: nothing was applied
                    log.info("%s %s %s: 429, waiting %.1f s for the rate-limit window", call.operation, call.method, call.path, wait)
                    continue
                if status < 500:
                    raise self._api_error(call, response, uncertain)
                if not call.idempotent:
                    raise self._in_doubt(call, f"HTTP {status}", status, attempt)
                if attempt >= self.retry.max_attempts:
                    raise self._api_error(call, response, uncertain)
                uncertain = True
                reason = f"HTTP {status}"
            else:
                assert failure is not None
                if isinstance(failure, _HOPELESS):
                    raise IntercomConnectionError(f"{call.operation} {call.method} {call.path}: {_failure_text(failure)}", operation=call.operation) from None
                was_sent = not isinstance(failure, _NOT_SENT)
                if was_sent and not call.idempotent:
                    raise self._in_doubt(call, _outcome(failure), None, attempt)
                if attempt >= self.retry.max_attempts:
                    raise IntercomConnectionError(
                        f"{call.operation} {call.method} {call.path}: {_outcome(failure)} after {attempt} attempts ({_failure_text(failure)})",
                        operation=call.operation,
                    ) from None
                uncertain = uncertain or was_sent
                reason = _outcome(failure)
            delay = self.retry.backoff(attempt, self._rng)
            self.metrics.retries += 1
            log.info("%s %s %s: %s, retry %d in %.2f s", call.operation, call.method, call.path, reason, attempt, delay)
            await self.clock.sleep(delay)

    def _api_error(self, call: Call, response: httpx.Response | Answer, uncertain: bool) -> IntercomApiError:
        error = api_error(response.status_code, response.content, operation=call.operation, method=call.method, path=call.path)
        error.after_uncertain_attempt = uncertain
        return error

    def _in_doubt(self, call: Call, cause: str, status: int | None, attempts: int) -> WriteInDoubt:
        self.metrics.in_doubt += 1
        log.warning("%s %s %s: %s after sending; reported in doubt, not re-sent", call.operation, call.method, call.path, cause)
        return WriteInDoubt(call.sent(), cause, status=status, attempts=attempts)
