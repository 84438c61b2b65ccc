"""The sandbox in process, no sockets: faults become the errors a connection would raise.

Two ways in. `SandboxTransport` is an httpx transport, for anything that holds an httpx
client (test doubles wrap it to record or break requests), and a `session.DirectTransport`:
handed it as it is, the Intercom session sends through `InProcessConnection`s. There the
request is the very bytes `wire.Wire` would write to a socket (request line, headers, JSON
body), handed to the same ASGI app as one HTTP/1.1 request, and the answer comes back as a
`wire.Answer` (status, headers, body), a fault as the wire's own failure (`failures.py`).
It skips httpx's client and ASGI transport, whose CPU per request was more than the
sandbox's own work on it (bench/README.md).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote

import httpx

from connectors.intercom import failures
from connectors.intercom.sandbox.middleware import IN_PROCESS, SimulatedDisconnect, SimulatedTimeout, replay
from connectors.intercom.session import DirectTransport
from connectors.intercom.wire import Answer, Wire

_CLIENT = ("127.0.0.1", 50_000)


class SandboxTransport(httpx.AsyncBaseTransport, DirectTransport):
    """httpx.ASGITransport over the sandbox app; a dropped or hung answer raises what a
    real connection would (RemoteProtocolError, ReadTimeout)."""

    def __init__(self, app: Any) -> None:
        async def marked(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await app({**scope, IN_PROCESS: True}, receive, send)

        self.app = app
        self._inner = httpx.ASGITransport(app=marked)

    def connection(self, base_url: str, headers: dict[str, str]) -> InProcessConnection:
        """A sender for the Intercom session's slots: requests as they would go on the wire."""
        return InProcessConnection(self.app, Wire(base_url, headers, timeout=None, keepalive_expiry=0.0))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await _let_others_run()
        try:
            return await self._inner.handle_async_request(request)
        except SimulatedDisconnect:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request) from None
        except SimulatedTimeout:
            raise httpx.ReadTimeout("The read operation timed out", request=request) from None


async def _let_others_run() -> None:
    # A request over a network lets the event loop run others while it waits; in process
    # nothing waits, and without this a long chain of calls (a 300-message thread) would
    # hold the loop to itself, starving every other task (progress, heartbeats, the UI's
    # worker messages) until it ends.
    await asyncio.sleep(0)


class InProcessConnection:
    """One HTTP/1.1 exchange per request with the sandbox's ASGI app; any number at once."""

    def __init__(self, app: Any, wire: Wire) -> None:
        self.app = app
        self.wire = wire

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                      json: Any = None) -> Answer:
        data = self.wire.request_bytes(method, path, params, json)
        head, _, body = data.partition(b"\r\n\r\n")
        request_line, *lines = head.split(b"\r\n")
        target = request_line.split(b" ")[1]
        raw_path, _, query = target.partition(b"?")
        headers = []
        for line in lines:
            name, _, value = line.partition(b":")
            headers.append((name.lower(), value.strip()))
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": self.wire.scheme, "server": (self.wire.host, self.wire.port), "client": _CLIENT,
            "root_path": "", "path": unquote(raw_path.decode("ascii")), "raw_path": target, "query_string": query,
            "headers": headers, IN_PROCESS: True,
        }
        answered = asyncio.Event()
        receive = replay(body, answered)

        status: int | None = None
        complete = False
        answer_headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, complete
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    answer_headers[name.decode("latin-1").lower()] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    complete = True
                    answered.set()

        await _let_others_run()
        try:
            await self.app(scope, receive, send)
        except SimulatedDisconnect:
            raise failures.RemoteProtocolError("Server disconnected without sending a response.") from None
        except SimulatedTimeout:
            raise failures.ReadTimeout("The read operation timed out") from None
        finally:
            answered.set()
        if status is None or not complete:
            raise failures.RemoteProtocolError("Server disconnected without sending a response.")
        return Answer(status, answer_headers, b"" if method == "HEAD" else b"".join(chunks))

    async def aclose(self) -> None:
        return None
