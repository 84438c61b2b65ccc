"""The Intercom client over a real socket, against answers shaped as HTTP/1.1 allows
(RFC 9112) and not as our sandbox happens to write them: chunked bodies with extensions
and trailers, gzip, headers that come a byte at a time or in odd case, a server that
closes its keep-alive connections, bodies cut short, no answer at all.

The server here is a raw asyncio socket with its own small request parser, so the checks
share nothing with the client's HTTP code (httpx or otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.intercom.config import RetryPolicy
from connectors.intercom.errors import IntercomConnectionError, WriteInDoubt
from connectors.intercom.session import Call, IntercomSession

TOKEN = "tok-http-answers"


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ")
    assert version == "HTTP/1.1", lines[0]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            assert name == name.strip() and name, f"bad header line {line!r}"
            headers[name.lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, target, headers, body)


Handler = Callable[[Request, asyncio.StreamWriter, int], Awaitable[bool]]  # -> keep the connection open


@dataclass
class Server:
    """Answers each request with `handler`; counts connections and keeps every request."""

    handler: Handler
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                self.requests.append(request)
                if not await self.handler(request, writer, len(self.requests)):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client went away, or the test ended with the connection open
        finally:
            writer.close()


def _answer(status: int, body: bytes, *, headers: list[tuple[str, str]] = (), reason: str = "OK") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{n}: {v}" for n, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _json_answer(payload: object, status: int = 200, *, extra: list[tuple[str, str]] = ()) -> bytes:
    body = json.dumps(payload).encode()
    return _answer(status, body, headers=[("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                          *extra])


def _session(url: str, **kwargs: object) -> IntercomSession:
    options = dict(max_concurrency=2, timeout=httpx.Timeout(2.0, connect=2.0),
                   retry=RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_cap=0.05))
    options.update(kwargs)
    return IntercomSession(TOKEN, url, **options)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def _served(handler: Handler, **options: object) -> AsyncIterator[tuple[Server, IntercomSession]]:
    """The server, and a session to it that is closed afterwards."""
    async with Server(handler) as server:
        session = _session(server.url, **options)
        try:
            yield server, session
        finally:
            await session.aclose()


def _post(n: int = 0) -> Call:
    return Call("create contact", "POST", "/contacts", idempotent=False, body={"role": "user", "email": f"a{n}@x.test"})


def _get(path: str = "/contacts/1", params: dict[str, object] | None = None) -> Call:
    return Call("get contact", "GET", path, idempotent=True, params=params)


async def test_the_request_is_well_formed_http_with_its_query_and_body_intact():
    async def handler(request: Request, writer: asyncio.StreamWriter, n: int) -> bool:
        writer.write(_json_answer({"ok": n}))
        await writer.drain()
        return True

    params = {"query": "näme & co+1 = yes", "per_page": 150, "starting_after": "WzE2NzA=/?#"}
    body = {"role": "user", "name": "Zoë \u201cquoted\u201d \u20ac", "custom_attributes": {"x": "line\nbreak"}}
    async with _served(handler) as (server, session):
        host = server.url.removeprefix("http://")
        await session.send(Call("list", "GET", "/contacts", idempotent=True, params=params))
        await session.send(Call("create", "POST", "/contacts", idempotent=False, body=body))
    get, post = server.requests
    assert get.path == "/contacts" and get.query == {k: [str(v)] for k, v in params.items()}
    assert get.headers["host"] == host
    assert get.headers["authorization"] == f"Bearer {TOKEN}"
    assert get.headers["intercom-version"]
    assert post.method == "POST" and json.loads(post.body.decode("utf-8")) == body
    assert post.headers.get("content-type", "").startswith("application/json")
    if "content-length" in post.headers:
        assert int(post.headers["content-length"]) == len(post.body)


async def test_chunked_answers_with_extensions_and_trailers_are_read_whole():
    payload = {"type": "contact", "id": "1", "name": "Ünïcode " * 2000, "notes": ["x" * 70_000]}
    raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")

    async def handler(request: Request, writer: asyncio.StreamWriter, n: int) -> bool:
        writer.write(_answer(200, b"", headers=[("content-type", "application/json; charset=utf-8"),
                                                ("transfer-encoding", "chunked")]))
        for start in range(0, len(raw), 997):  # odd sizes, a chunk extension on some
            piece = raw[start:start + 997]
            ext = ";name=value" if start % 2 else ""
            writer.write(f"{len(piece):X}{ext}\r\n".encode() + piece + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\nX-Trailer: done\r\n\r\n")
        await writer.drain()
        return True

    async with _served(handler) as (server, session):
        first = await session.send(_get())
        second = await session.send(_get())  # after the trailer: a connection left clean, or a new one
    assert first.json() == payload and second.json() == payload


async def test_a_gzip_answer_is_decoded_when_the_client_asked_for_it():
    payload = {"type": "list", "data": [{"id": str(i), "email": f"p{i}@x.test"} for i in range(500)]}

    async def handler(request: Request, writer: asyncio.StreamWriter, n: int) -> bool:
        body = json.dumps(payload).encode()
        if "gzip" in request.headers.get("accept-encoding", ""):
            packed = gzip.compress(body)
            writer.write(_answer(200, packed, headers=[("Content-Type", "application/json"),
                                                       ("Content-Encoding", "gzip"),
                                                       ("Content-Length", str(len(packed)))]))
        else:
            writer.write(_json_answer(payload))
        await writer.drain()
        return True

    async with _served(handler) as (server, session):
        answer = await session.send(_get("/contacts"))
    assert answer.json() == payload


async def test_headers_that_come_a_byte_at_a_time_in_any_case_are_read():
    async def handler(request: Request, writer: asyncio.StreamWriter, n: int) -> bool:
        raw = _json_answer({"id": "7"}, extra=[("x-RATELIMIT-limit", "1000"), ("X-RateLimit-Remaining", "999"),
                                               ("X-Ratelimit-Reset", "9999999999")])
        for i in range(len(raw)):
            writer.write(raw[i:i + 1])
            await writer.drain()
        return True

    async with _served(handler) as (server, session):
        answer = await session.send(_get())
    assert answer.json() == {"id": "7"}
    assert answer.headers["x-ratelimit-remaining"] == "999"


async def test_a_server_that_closes_its_idle_connections_never_leaves_a_write_in_doubt():
    """Keep-alive without the header: the server answers, then closes, as a load balancer
    does at its idle timeout. The next POST must go on a fresh connection, not into the
    closed one (which would make a write in doubt of a write that was never sent)."""

    async def handler(request: Request, writer: asyncio.StreamWriter, n: int) -> bool:
        writer.write(_json_answer({"id": str(n)}))
        await writer.drain()
        return False  # close right after the answer, with no Connection: close

    async with _served(handler, max_concurrency=1) as (server, session):
        ids = []
        for n in range(6):
            answer = await session.send(_post(n))
            ids.append(answer.json()["id"])
            await asyncio.sleep(0.05)  # the close reaches the client's socket before the next write
    assert ids == [str(n) for n in range(1, 7)]
    assert len(server.requests) == 6  # each sent once: none lost, none twice


async def test_connection_close_is_honoured():
    async def handler(request: Request, writer: asyncio.StreamWriter, n: int) -> bool:
        writer.write(_json_answer({"id": str(n)}, extra=[("Connection", "close")]))
        await writer.drain()
        return False

    async with _served(handler, max_concurrency=1) as (server, session):
        ids = [(await session.send(_post(n))).json()["id"] for n in range(4)]
    assert ids == ["1", "2", "3", "4"] and server.connections == 4


async def test_an_answer_without_a_body_and_one_ended_by_closing():
    async def handler(request: Request, writer: asyncio.StreamWriter, n: int) -> bool:
        if request.method == "DELETE":
            writer.write(_answer(204, b"", reason="No Content"))
            await writer.drain()
            return True
        # no Content-Length and no chunking: the body ends when the connection does (RFC 9112 6.3)
        writer.write(_answer(200, json.dumps({"id": "9"}).encode(), headers=[("Content-Type", "application/json")]))
        await writer.drain()
        return False

    async with _served(handler, max_concurrency=1) as (server, session):
        deleted = await session.send(Call("delete", "DELETE", "/tags/1", idempotent=True))
        got = await session.send(_get())
    assert deleted.status_code == 204 and deleted.content == b""
    assert got.json() == {"id": "9"}


async def test_a_body_cut_short_is_in_doubt_for_a_write_and_retried_for_a_read():
    async def handler(request: Request, writer: asyncio.StreamWriter, n: int) -> bool:
        if n == 1 or (request.method == "GET" and n == 3):
            writer.write(_answer(200, b'{"id": "1", "na', headers=[("Content-Type", "application/json"),
                                                                    ("Content-Length", "200")]))
            await writer.drain()
            return False  # closes mid-body
        writer.write(_json_answer({"id": str(n)}))
        await writer.drain()
        return True

    async with _served(handler, max_concurrency=1) as (server, session):
        with pytest.raises(WriteInDoubt):
            await session.send(_post())
        assert (await session.send(_post(2))).json() == {"id": "2"}
        assert (await session.send(_get())).json() == {"id": "4"}  # the cut answer (3) was asked again
    assert [r.method for r in server.requests] == ["POST", "POST", "GET", "GET"]


async def test_no_answer_is_a_write_in_doubt_and_never_sent_twice():
    async def handler(request: Request, writer: asyncio.StreamWriter, n: int) -> bool:
        await asyncio.sleep(5)  # longer than the client's read timeout
        return False

    async with _served(handler, timeout=httpx.Timeout(0.5, connect=2.0)) as (server, session):
        with pytest.raises(WriteInDoubt):
            await session.send(_post())
    assert len(server.requests) == 1


async def _never(request: Request, writer: asyncio.StreamWriter, n: int) -> bool:
    return False


async def test_nothing_listening_is_a_connection_error_not_a_write_in_doubt():
    async with Server(_never) as server:
        url = server.url
    await asyncio.sleep(0.05)
    session = _session(url)
    try:
        with pytest.raises(IntercomConnectionError):
            await session.send(_post())
    finally:
        await session.aclose()


async def test_latency_is_the_exchange_without_the_connections_handshakes(monkeypatch):
    """The plan and the ETA time chains of calls on kept-alive connections: a new
    connection's handshakes (TCP, TLS: several round trips to Intercom) are not latency."""
    import time

    from connectors.intercom import wire

    async def handler(request: Request, writer: asyncio.StreamWriter, n: int) -> bool:
        await asyncio.sleep(0.05)
        writer.write(_json_answer({"ok": n}))
        await writer.drain()
        return True

    opened = asyncio.open_connection

    async def slow_handshake(*args: object, **kwargs: object):
        await asyncio.sleep(0.3)
        return await opened(*args, **kwargs)

    monkeypatch.setattr(wire.asyncio, "open_connection", slow_handshake)
    async with _served(handler, max_concurrency=1) as (_server, session):
        started = time.monotonic()
        await session.send(_get())  # one call, on a new connection
        took = time.monotonic() - started
    snapshot = session.snapshot()
    assert snapshot.latency_p50_ms is not None and snapshot.latency_p50_ms >= 50  # the exchange: the server's wait
    assert snapshot.latency_p50_ms / 1000 <= took - 0.3  # the handshake (0.3 s of it) is not in it
