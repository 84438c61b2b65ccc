"""Validate requests and responses against the vendored Intercom OpenAPI 2.16 description.

The description is OpenAPI 3.0.1. It is turned into JSON Schema 2020-12 once per session:
`nullable: true` becomes a `null` alternative (also beside a `$ref`, which is what the
authors mean there), and every local `$ref` is made absolute so any sub-schema can be a
validator's root. `format` stays an annotation (the description says `format: uuid` for
24-character Intercom ids), `discriminator` is ignored (the `oneOf` branches already tell
the variants apart by their `data_type` enums).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).with_name("api.intercom.io.yaml")
SPEC_SHA256 = "212b09336bf561992d998e6650d4eaacb44aa0a0f02504e398cf10f1cfb9d238"
BASE_URI = "urn:intercom-openapi-2.16"
_METHODS = ("get", "post", "put", "patch", "delete")


def file_sha256(path: Path = SPEC_PATH) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as handle:
        return yaml.load(handle, Loader=loader)


def to_json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 document (or part of one) as JSON Schema 2020-12."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: to_json_schema(value) for key, value in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        out["$ref"] = BASE_URI + ref
    if out.get("nullable") is True:
        del out["nullable"]
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    elif out.get("nullable") is False:
        del out["nullable"]
    return out


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    node: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Violation:
    where: str  # "request" or "response <status>"
    operation: str
    message: str
    path: str  # JSON path inside the body


class Contract:
    """The operations of the description, path matching, and cached validators."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = to_json_schema(spec)
        self.registry = Registry().with_resource(BASE_URI, Resource(contents=self.spec, specification=DRAFT202012))
        self._routes = self._build_routes()
        self._validators: dict[tuple[str, str], Draft202012Validator | None] = {}

    def _build_routes(self) -> list[tuple[re.Pattern[str], str, Operation]]:
        routes = []
        for template, item in self.spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$")
            literal = sum(1 for part in template.split("/") if part and not part.startswith("{"))
            for method in _METHODS:
                if method in item:
                    op = Operation(item[method].get("operationId") or f"{method} {template}", method, template, item[method])
                    routes.append((literal, pattern, method, op))
        routes.sort(key=lambda route: -route[0])  # literal segments win: /contacts/search before /contacts/{id}
        return [(pattern, method, op) for _, pattern, method, op in routes]

    @cached_property
    def operation_ids(self) -> frozenset[str]:
        return frozenset(op.operation_id for _, _, op in self._routes)

    def match(self, method: str, path: str) -> Operation | None:
        method = method.lower()
        for pattern, route_method, op in self._routes:
            if route_method == method and pattern.match(path):
                return op
        return None

    def _validator(self, key: tuple[str, str], schema: dict[str, Any] | None) -> Draft202012Validator | None:
        if key not in self._validators:
            self._validators[key] = None if schema is None else Draft202012Validator(schema, registry=self.registry)
        return self._validators[key]

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            pointer = node["$ref"].removeprefix(BASE_URI + "#/").split("/")
            node = self.spec
            for part in pointer:
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def request_schema(self, op: Operation) -> dict[str, Any] | None:
        body = op.node.get("requestBody")
        if not body:
            return None
        content = self._resolve(body).get("content", {})
        return content.get("application/json", {}).get("schema")

    def response_schema(self, op: Operation, status: int) -> dict[str, Any] | None:
        """The documented schema for a status; error bodies fall back to the `error` schema."""
        responses = op.node.get("responses", {})
        response = responses.get(str(status))
        if response is not None:
            schema = self._resolve(response).get("content", {}).get("application/json", {}).get("schema")
            if schema is not None or status < 400:
                return schema
        if status >= 400:
            return {"$ref": BASE_URI + "#/components/schemas/error"}
        return None

    def check_request(self, op: Operation, body: Any) -> list[Violation]:
        validator = self._validator((op.operation_id, "request"), self.request_schema(op))
        return self._errors(validator, body, "request", op)

    def check_response(self, op: Operation, status: int, body: Any, schema: dict[str, Any] | None = None) -> list[Violation]:
        if schema is not None:
            validator = self._validator((op.operation_id, f"override {status}"), schema)
        else:
            validator = self._validator((op.operation_id, str(status)), self.response_schema(op, status))
        return self._errors(validator, body, f"response {status}", op)

    @staticmethod
    def _errors(validator: Draft202012Validator | None, body: Any, where: str, op: Operation) -> list[Violation]:
        if validator is None:
            return []
        return [
            Violation(where, op.operation_id, error.message[:300], error.json_path)
            for error in validator.iter_errors(body)
        ]

    def schema_ref(self, name: str) -> dict[str, Any]:
        return {"$ref": f"{BASE_URI}#/components/schemas/{name}"}
