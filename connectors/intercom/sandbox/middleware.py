"""What sits in front of the routes: latency, the token check, the version header, the
rate-limit windows, the API description (every request checked against it before a route
runs; a breach is refused as Intercom refuses, 400 with the pointer, and counted), faults,
and the counters the inspection endpoint reports.

Pure ASGI (no BaseHTTPMiddleware) to keep the per-request cost low under benchmark load.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

from connectors.intercom.sandbox.config import SandboxConfig
from connectors.intercom.sandbox.contract import contract
from connectors.intercom.sandbox.errors import error_body
from connectors.intercom.sandbox.faults import FaultInjector
from connectors.intercom.sandbox.ratelimit import WindowLimiter
from connectors.intercom.sandbox.violations import ViolationLog

Scope = dict[str, Any]
INSPECTION_PREFIX = "/__sandbox/"
KNOWN_VERSIONS = frozenset({"1.0", "1.1", "1.2", "1.3", "1.4", *(f"2.{minor}" for minor in range(17)), "Preview", "Unstable"})
IN_PROCESS = "helpmig.sandbox.in_process"  # scope key set by SandboxTransport
_GATEWAY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


class SimulatedDisconnect(Exception):
    """The connection is dropped after the write was applied (in-process: RemoteProtocolError)."""


class SimulatedTimeout(Exception):
    """The answer never comes (in-process: ReadTimeout)."""


class SandboxMiddleware:
    def __init__(self, app: Any, config: SandboxConfig, limiter: WindowLimiter, faults: FaultInjector, rng: random.Random,
                 violations: ViolationLog) -> None:
        self.app = app
        self.violations = violations
        self.config = config
        self.clock = config.clock
        self.limiter = limiter
        self.faults = faults
        self.rng = rng
        self.stats: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()
        self.operations: Counter[str] = Counter()  # requests per operation of the description

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
            self.violations.record("spec.header", scope["method"], scope["path"],
                                   f"Intercom-Version {version!r} is not a version of the API", "Intercom-Version")
            await self._reply(send, 400, verdict.headers, "intercom_version_invalid", "Requested resource is not available in current API version.")
            return
        body = await _read_body(receive)
        if body is None:  # the caller hung up before its body arrived: nothing to act on, no one to answer
            self.stats["dropped by the caller"] += 1
            return
        if self.config.strict and not await self._conforms(scope, headers, body, send, verdict.headers):
            return
        receive = replay(body)
        refused = self.faults.refusal(scope["method"], scope["path"])
        if refused is not None:
            await self._reply(send, 400, verdict.headers, "parameter_invalid", refused)
            return
        fault = self.faults.decide(scope["method"], scope["path"])
        if fault == "refuse":
            await self._reply(send, 400, verdict.headers, "parameter_invalid", "This workspace does not accept it")
            return
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

    async def _conforms(self, scope: Scope, headers: dict[bytes, bytes], body: bytes, send: Any,
                        limit_headers: list[tuple[bytes, bytes]]) -> bool:
        """False (and the answer sent) when the request breaks the API description."""
        method, path = scope["method"], _raw_path(scope)
        spec = contract()
        found = spec.route(method, path)
        if found is None:
            self.violations.record("spec.operation", method, path, f"no operation {method} {path} in the API description")
            await self._reply(send, 404, limit_headers, "not_found", "Resource Not Found")
            return False
        op, path_values = found
        self.operations[op.operation_id] += 1
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        named = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers.items()}
        refused = None
        for breach in spec.check(op, path_values, query, named, body):
            noted = breach.code == "noted"
            self.violations.record(breach.rule, method, path, f"{op.operation_id}: {breach.message}", breach.field,
                                   refused=not noted)
            if not noted and refused is None:
                refused = breach
        if refused is None:
            return True
        await self._reply(send, 400, limit_headers, refused.code, refused.message, refused.field)
        return False

    async def _reply(self, send: Any, status: int, headers: list[tuple[bytes, bytes]], code: str, message: str,
                     field: str | None = None) -> None:
        self.stats[f"status {status}"] += 1
        body = error_body(code, message, self.rng, field)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), *headers]})
        await send({"type": "http.response.body", "body": body})


async def _discard(message: dict[str, Any]) -> None:
    return None


def _raw_path(scope: Scope) -> str:
    """The path as sent (still percent-encoded: an external id may hold a '/')."""
    raw = scope.get("raw_path")
    if not raw:
        return scope["path"]
    return raw.split(b"?", 1)[0].decode("latin-1")


async def _read_body(receive: Any) -> bytes | None:
    """The request's body; None when the connection dropped before all of it arrived (the
    server then hands over `http.disconnect`, never the body: dispatching would invent a
    request the caller did not send)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def replay(body: bytes, answered: asyncio.Event | None = None) -> Any:
    """A receive callable that hands the app a body already read whole; after it, the
    client's disconnect, at once or (a caller still waiting) only once `answered` is set."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if answered is not None:
            await answered.wait()
        return {"type": "http.disconnect"}

    return receive


def _bearer(value: bytes) -> str:
    scheme, _, token = value.decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
