"""`Sandbox`: an Intercom look-alike (Starlette ASGI app) with state you can inspect.

    sandbox = Sandbox(rate_limit=1667, latency_ms=100)
    client = sandbox.client()            # an IntercomClient wired in process
    ...
    sandbox.state.counts()               # {"contacts": 3, "conversations": 2, "parts": 7, ...}
    sandbox.faults.plan("error_after", method="POST", path="/conversations")
    sandbox.report()                     # what was refused for breaking Intercom's rules, by rule

Every sandbox is strict by default: requests are held to the OpenAPI description and to
Intercom's documented refusals, and what breaks them is refused and counted
(`violations`; the test suite finds every sandbox's log through `violations.watching()`).
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.intercom.sandbox.config import SandboxConfig
from connectors.intercom.sandbox.errors import ApiError, error_body
from connectors.intercom.sandbox.faults import FaultInjector
from connectors.intercom.sandbox.middleware import INSPECTION_PREFIX, SandboxMiddleware
from connectors.intercom.sandbox.ratelimit import WindowLimiter
from connectors.intercom.sandbox.routes import (
    admins,
    attributes,
    companies,
    contacts,
    conversations,
    custom_objects,
    help_center,
    tags,
    tickets,
)
from connectors.intercom.sandbox.routing import JsonResponse
from connectors.intercom.sandbox.state import WORKSPACE_ID, SandboxState
from connectors.intercom.sandbox.store import Store
from connectors.intercom.sandbox.transport import SandboxTransport
from connectors.intercom.sandbox.violations import ViolationLog
from connectors.intercom.sandbox_address import DEFAULT_TOKEN, SANDBOX_URL

if TYPE_CHECKING:
    from connectors.intercom.client import IntercomClient


class Sandbox:
    def __init__(self, config: SandboxConfig | None = None, **options: Any) -> None:
        self.config = replace(config, **options) if config else SandboxConfig(**options)
        self.store = Store(self.config.state_path)
        self.violations = ViolationLog()
        self.state = SandboxState(self.store, self.config.clock, self.config.custom_object_types, self.violations,
                                  self.config.search_lag)
        self.limiter = WindowLimiter(self.config.rate_limit, self.config.workspace_rate_limit, self.config.window_seconds,
                                     self.workspace_of)
        self.faults = FaultInjector(self.config.faults, self.config.fault_kinds, self.config.fault_seed)
        self._rng = random.Random(self.config.fault_seed)
        self.middleware = SandboxMiddleware(self._starlette(), self.config, self.limiter, self.faults, self._rng,
                                            self.violations)
        self.app = self.middleware

    def workspace_of(self, token: str) -> str:
        """The workspace a token's app belongs to (config.workspaces, else the sandbox's)."""
        return self.config.workspaces.get(token, WORKSPACE_ID)

    def _starlette(self) -> Starlette:
        state = self.state
        routes: list[Route] = [
            Route(f"{INSPECTION_PREFIX}state", self._inspect_state, methods=["GET"]),
            Route(f"{INSPECTION_PREFIX}stats", self._inspect_stats, methods=["GET"]),
            Route(f"{INSPECTION_PREFIX}report", self._inspect_report, methods=["GET"]),
            *admins.routes(state, self.workspace_of),
            *attributes.routes(state),  # before conversations: /conversations/attributes is not a conversation id
            *contacts.routes(state),
            *companies.routes(state),
            *tags.routes(state),
            *conversations.routes(state),
            *help_center.routes(state),
            *custom_objects.routes(state),
            *tickets.routes(state),
        ]
        return Starlette(
            routes=routes,
            exception_handlers={ApiError: self._api_error, HTTPException: self._http_error},
        )

    async def _api_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        if exc.rule:
            self.violations.record(exc.rule, request.method, request.url.path, exc.message, exc.field)
        return Response(error_body(exc.code, exc.message, self._rng, exc.field), status_code=exc.status, media_type="application/json")

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        # Intercom answers an unknown route or an unsupported method with 404.
        return Response(error_body("not_found", "Resource Not Found", self._rng), status_code=404, media_type="application/json")

    async def _inspect_state(self, request: Request) -> Response:
        return JsonResponse(self.state.counts())

    async def _inspect_stats(self, request: Request) -> Response:
        return JsonResponse({"stats": dict(self.middleware.stats), "faults": dict(self.faults.injected),
                             "versions": dict(self.middleware.versions), "rate_limited": self.limiter.refused})

    async def _inspect_report(self, request: Request) -> Response:
        return JsonResponse(self.report())

    def report(self) -> dict[str, Any]:
        """Violations by rule, with examples, and the requests they came from."""
        return {**self.violations.report(), "requests": self.middleware.stats["requests"],
                "rate_limited": self.limiter.refused, "operations": dict(self.middleware.operations)}

    def transport(self) -> SandboxTransport:
        """An httpx transport that calls this sandbox in process."""
        return SandboxTransport(self.app)

    def client(self, token: str = DEFAULT_TOKEN, **options: Any) -> IntercomClient:
        """An IntercomClient talking to this sandbox in process (options go to IntercomClient)."""
        from connectors.intercom.client import IntercomClient

        options.setdefault("clock", self.config.clock)
        return IntercomClient(token, base_url=SANDBOX_URL, transport=self.transport(), **options)

    def add_team(self, name: str) -> str:
        """A team in the workspace (teams cannot be created through the API): for demos
        and tests that need the source's groups to match."""
        team_id = self.state.number_id("teams", 5_017_100)
        self.store.put("teams", {"id": team_id, "name": name, "admin_ids": []})
        return team_id

    def add_admin(self, name: str, email: str, team_ids: tuple[str, ...] = ()) -> str:
        """A teammate in the workspace (admins cannot be created through the API either)."""
        admin_id = self.state.number_id("admins", 991_267_100)
        self.store.put("admins", {"id": admin_id, "name": name, "email": email, "job_title": "Agent",
                                  "team_ids": [int(t) for t in team_ids]})
        return admin_id

    def close(self) -> None:
        self.store.close()
