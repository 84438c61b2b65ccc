"""Scripted transports for fault and rate-limit tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from connectors.intercom.clock import Clock

Responder = Callable[[httpx.Request, int], httpx.Response | Exception]


@dataclass
class ScriptedTransport(httpx.AsyncBaseTransport):
    """Answers each request with `respond(request, attempt_number)`; records send times."""

    respond: Responder
    clock: Clock
    sent_at: list[float] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent_at.append(self.clock.time())
        self.requests.append(request)
        await request.aread()
        outcome = self.respond(request, len(self.requests))
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers={"content-type": "application/json", **(headers or {})}, content=json.dumps(body).encode())


def error_list(status: int, code: str, message: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"type": "error.list", "request_id": "00000000-0000-4000-8000-000000000000", "errors": [{"code": code, "message": message}]}
    return json_response(status, body, headers)


ADMIN_BODY = {"type": "admin", "id": "1", "name": "A", "email": "a@example.com"}
