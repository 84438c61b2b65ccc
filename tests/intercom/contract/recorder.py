"""An httpx transport that checks every exchange against the OpenAPI description.

Wrapped around the sandbox's transport, it validates each request body against the
operation's requestBody schema and each JSON response against the schema documented for
its status (error statuses fall back to the `error` schema), and records which operations
ran, so a test can assert both "no violation" and "every operation was exercised".
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.intercom.contract.openapi import Contract, Violation

# Where the description contradicts itself, the sandbox follows the operation's text and
# the response is checked against the schema that text names.
RESPONSE_OVERRIDES = {
    # "When external_id is provided, returns a single matching instance (not a list)."
    ("listCustomObjectInstances", "external_id"): "custom_object_instance",
}


@dataclass
class Exchange:
    operation: str
    method: str
    path: str
    status: int


@dataclass
class ContractRecorder(httpx.AsyncBaseTransport):
    contract: Contract
    inner: httpx.AsyncBaseTransport
    violations: list[Violation] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        op = self.contract.match(request.method, path)
        if op is None:
            self.violations.append(Violation("request", "?", f"no operation for {request.method} {path}", "$"))
            return await self.inner.handle_async_request(request)
        body = await request.aread()
        if body:
            self.violations += self.contract.check_request(op, json.loads(body))
        elif self.contract.request_schema(op) is not None and request.method in ("POST", "PUT"):
            required = op.node.get("requestBody", {}).get("required", False)
            if required:
                self.violations.append(Violation("request", op.operation_id, "required body missing", "$"))
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        self.exchanges.append(Exchange(op.operation_id, request.method, path, response.status_code))
        if content and response.headers.get("content-type", "").startswith("application/json"):
            override = next(
                (name for (op_id, param), name in RESPONSE_OVERRIDES.items() if op_id == op.operation_id and param in request.url.params),
                None,
            )
            schema = self.contract.schema_ref(override) if override else None
            self.violations += self.contract.check_response(op, response.status_code, json.loads(content), schema)
        return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)

    def operations(self) -> Counter[str]:
        return Counter(exchange.operation for exchange in self.exchanges)

    def statuses(self, operation: str) -> set[int]:
        return {exchange.status for exchange in self.exchanges if exchange.operation == operation}
