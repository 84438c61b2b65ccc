"""What sits in front of the routes: latency, the token check, the version header, the
rate-limit windows, faults, and the counters the inspection endpoint reports.

Pure ASGI (no BaseHTTPMiddleware) to keep the per-request cost low under benchmark load.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from connectors.intercom.sandbox.config import SandboxConfig
from connectors.intercom.sandbox.errors import error_body
from connectors.intercom.sandbox.faults import FaultInjector
from connectors.intercom.sandbox.ratelimit import WindowLimiter

Scope = dict[str, Any]
INSPECTION_PREFIX = "/__sandbox__/"
KNOWN_VERSIONS = frozenset({"1.0", "1.1", "1.2", "1.3", "1.4", *(f"2.{minor}" for minor in range(17)), "Preview", "Unstable"})
IN_PROCESS = "helpmig.sandbox.in_process"  # scope key set by SandboxTransport
_GATEWAY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


class SimulatedDisconnect(Exception):
    """The connection is dropped after the write was applied (in-process: RemoteProtocolError)."""


class SimulatedTimeout(Exception):
    """The answer never comes (in-process: ReadTimeout)."""


class SandboxMiddleware:
    def __init__(self, app: Any, config: SandboxConfig, limiter: WindowLimiter, faults: FaultInjector, rng: random.Random) -> None:
        self.app = app
        self.config = config
        self.clock = config.clock
        self.limiter = limiter
        self.faults = faults
        self.rng = rng
        self.stats: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(INSPECTION_PREFIX):
            await self.app(scope, receive, send)
            return
        self.stats["requests"] += 1
        if self.config.latency_ms:
            await self.clock.sleep(self.config.latency_ms / 1000)
        headers = dict(scope["headers"])
        token = _bearer(headers.get(b"authorization", b""))
        if not token or (self.config.tokens is not None and token not in self.config.tokens):
            await self._reply(send, 401, [], "unauthorized", "Access Token Invalid")
            return
        version = headers.get(b"intercom-version", b"").decode("latin-1")
        self.versions[version or "(none)"] += 1
        verdict = self.limiter.check(token, self.clock.time())
        if not verdict.allowed:
            limit = verdict.headers[0][1].decode()
            await self._reply(send, 429, verdict.headers, "rate_limit_exceeded", f"Exceeded rate limit of {limit} in 10_seconds")
            return
        if version and version not in KNOWN_VERSIONS:
            await self._reply(send, 400, verdict.headers, "intercom_version_invalid", "Requested resource is not available in current API version.")
            return
        fault = self.faults.decide(scope["method"], scope["path"])
        if fault == "error_before":
            status = self.faults.status_before()
            await self._reply(send, status, verdict.headers, "server_error" if status == 500 else "service_unavailable", "The server had a problem")
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *verdict.headers]}
                self.stats[f"status {message['status']}"] += 1
            await send(message)

        if fault is None:
            await self.app(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, _discard)  # applied; the caller never sees the answer
        if fault == "error_after":
            self.stats["status 502"] += 1
            await send({"type": "http.response.start", "status": 502, "headers": [(b"content-type", b"text/html")]})
            await send({"type": "http.response.body", "body": _GATEWAY_PAGE})
            return
        if fault == "hang_after":
            if scope.get(IN_PROCESS):
                raise SimulatedTimeout()
            await self.clock.sleep(self.config.hang_seconds)
        if not scope.get(IN_PROCESS):  # over a socket: start an answer, then break the connection
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        raise SimulatedDisconnect()

    async def _reply(self, send: Any, status: int, headers: list[tuple[bytes, bytes]], code: str, message: str) -> None:
        self.stats[f"status {status}"] += 1
        body = error_body(code, message, self.rng)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), *headers]})
        await send({"type": "http.response.body", "body": body})


async def _discard(message: dict[str, Any]) -> None:
    return None


def _bearer(value: bytes) -> str:
    scheme, _, token = value.decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
