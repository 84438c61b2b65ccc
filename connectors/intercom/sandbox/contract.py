"""The description the sandbox holds every request to: Intercom's OpenAPI 2.16.

`openapi/api.intercom.io.json` is the official description as JSON (the vendored YAML in
tests/intercom/contract is the upstream file; a test checks this is its faithful copy).
It is OpenAPI 3.0.1, turned into JSON Schema 2020-12 once per process: `nullable: true`
becomes a `null` alternative (beside a `$ref` too, which is what the authors mean there)
and every local `$ref` is made absolute so any sub-schema can be a validator's root.
`format` stays an annotation (the description says `format: uuid` for 24-hex ids), and
`discriminator` is ignored (the `oneOf` branches tell the variants apart by their enums).

Where the description contradicts its own examples, the sandbox accepts what the examples
send, and says so here:
- a map of values (`additionalProperties`) whose own example holds other types widens to
  them: company `custom_attributes` are typed string, conversation `custom_attributes`
  string | integer | datetime | object list, yet their examples (and Intercom) carry
  booleans and decimals. Custom object instances' `custom_attributes` have no example and
  stay strings;
- a `oneOf` that an operation's own request example satisfies more than once is read as
  `anyOf` (`PUT /data_attributes/{id}` offers "list attribute" and an unconstrained "other
  type", so its own example, which sends options, fits both);
- `GET /contacts`, `GET /articles` and `GET /help_center/collections` list no paging
  parameters in 2.16, yet their answers carry `pages` and the docs' pagination page gives
  them (`per_page` and `starting_after` for contacts, `page` and `per_page` for the others).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from connectors.intercom.sandbox.quickcheck import Check, Unsupported, compile_check

SPEC_JSON = Path(__file__).with_name("openapi") / "api.intercom.io.json"
BASE_URI = "urn:intercom-openapi-2.16"
VERSION_HEADER = "intercom-version"
_METHODS = ("get", "post", "put", "patch", "delete")
_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"), (dict, "object"))
_PER_PAGE = {"type": "integer", "minimum": 1, "maximum": 150}
_UNDOCUMENTED_QUERY = {
    "ListContacts": {"per_page": _PER_PAGE, "starting_after": {"type": "string"}},
    "listArticles": {"page": {"type": "integer", "minimum": 1}, "per_page": _PER_PAGE},
    "listAllCollections": {"page": {"type": "integer", "minimum": 1}, "per_page": _PER_PAGE},
}


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
    parameters: tuple[dict[str, Any], ...] = field(repr=False, compare=False, default=())

    def parameter(self, where: str, name: str) -> dict[str, Any] | None:
        wanted = name.casefold() if where == "header" else name
        for p in self.parameters:
            if p.get("in") == where and (p["name"].casefold() if where == "header" else p["name"]) == wanted:
                return p
        return None


@dataclass(frozen=True)
class Breach:
    """One way a request breaks the description: `rule` for the report, `code` and
    `field` as Intercom's error.list would carry them."""

    rule: str
    message: str
    field: str | None = None
    code: str = "parameter_invalid"


@dataclass(frozen=True)
class Violation:
    """A request or response that does not match the description (the contract tests)."""

    where: str  # "request" or "response <status>"
    operation: str
    message: str
    path: str  # JSON path inside the body


class Contract:
    """The operations of the description, path matching, and cached validators."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = to_json_schema(spec)
        self._accept_example_types()
        self.registry = Registry().with_resource(BASE_URI, Resource(contents=self.spec, specification=DRAFT202012))
        self._routes = self._build_routes()
        self._validators: dict[tuple[str, str], Draft202012Validator | None] = {}
        self._quick: dict[Any, Check | None] = {}  # operation id (its body) or parameter key -> quick check
        self._lock = threading.Lock()
        self._relaxing = threading.Lock()

    def _accept_example_types(self) -> None:
        """Value maps whose example breaks their own value schema accept the example's types."""
        def walk(node: Any) -> None:
            if isinstance(node, list):
                for item in node:
                    walk(item)
                return
            if not isinstance(node, dict):
                return
            values, example = node.get("additionalProperties"), node.get("example")
            if isinstance(values, dict) and isinstance(example, dict):
                extra = sorted({_json_type(v) for v in example.values()} - self._declared_types(values))
                if extra:
                    node["additionalProperties"] = {"anyOf": [values, *({"type": t} for t in extra)]}
            for child in node.values():
                walk(child)

        walk(self.spec["components"])

    def _declared_types(self, schema: dict[str, Any]) -> set[str]:
        """The JSON types a value schema admits (no type at all: every one)."""
        schema = self._resolve(schema)
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                return set().union(*(self._declared_types(s) for s in schema[combinator]))
        kind = schema.get("type")
        if kind is None:
            return {name for _, name in _JSON_TYPES}
        kinds = {kind} if isinstance(kind, str) else set(kind)
        return kinds | ({"integer"} if "number" in kinds else set())

    def _build_routes(self) -> list[tuple[re.Pattern[str], str, Operation]]:
        routes = []
        for template, item in self.spec["paths"].items():
            names = re.findall(r"\{([^/}]+)\}", template)
            pattern = "^" + re.escape(template) + "$"
            for index, name in enumerate(names):
                pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<p{index}>[^/]+)")
            compiled = re.compile(pattern)
            literal = sum(1 for part in template.split("/") if part and not part.startswith("{"))
            shared = [self._resolve(p) for p in item.get("parameters", [])]
            for method in _METHODS:
                if method in item:
                    node = item[method]
                    own = [self._resolve(p) for p in node.get("parameters", [])]
                    op = Operation(node.get("operationId") or f"{method} {template}", method, template, node,
                                   tuple(shared + own))
                    routes.append((literal, compiled, method, op, names))
        routes.sort(key=lambda route: -route[0])  # literal segments win: /contacts/search before /contacts/{id}
        self._names = {id(op): names for _, _, _, op, names in routes}
        return [(pattern, method, op) for _, pattern, method, op, _ in routes]

    @cached_property
    def operation_ids(self) -> frozenset[str]:
        return frozenset(op.operation_id for _, _, op in self._routes)

    def match(self, method: str, path: str) -> Operation | None:
        found = self.route(method, path)
        return found[0] if found else None

    def route(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for a request line and its path parameters (as sent)."""
        method = method.lower()
        for pattern, route_method, op in self._routes:
            if route_method != method:
                continue
            hit = pattern.match(path)
            if hit:
                names = self._names[id(op)]
                return op, {name: hit.group(f"p{i}") for i, name in enumerate(names)}
        return None

    def _validator(self, key: tuple[str, str], schema: dict[str, Any] | None) -> Draft202012Validator | None:
        with self._lock:
            if key not in self._validators:
                self._validators[key] = None if schema is None else Draft202012Validator(schema, registry=self.registry)
            return self._validators[key]

    def _lookup(self, ref: str) -> Any:
        """The node a `$ref` of the description names (one step)."""
        if not isinstance(ref, str) or not ref.startswith(BASE_URI + "#/"):
            raise Unsupported(f"$ref {ref!r}")
        node: Any = self.spec
        for part in ref.removeprefix(BASE_URI + "#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self._lookup(node["$ref"])
        return node

    def request_schema(self, op: Operation) -> dict[str, Any] | None:
        body = op.node.get("requestBody")
        if not body:
            return None
        content = self._resolve(body).get("content", {})
        return content.get("application/json", {}).get("schema")

    def body_required(self, op: Operation) -> bool:
        body = op.node.get("requestBody")
        return bool(body and self._resolve(body).get("required"))

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

    # -- requests ------------------------------------------------------------------------

    def check(self, op: Operation, path_values: dict[str, str], query: list[tuple[str, str]],
              headers: dict[str, str], body: bytes) -> list[Breach]:
        """Every way this request breaks the description: path, query, headers, body."""
        breaches: list[Breach] = []
        for name, raw in path_values.items():
            param = op.parameter("path", name) or {"schema": {"type": "string"}}
            breaches += self._parameter("spec.path", name, raw, param)
        seen = set()
        extra = _UNDOCUMENTED_QUERY.get(op.operation_id, {})
        for name, raw in query:
            seen.add(name)
            param = op.parameter("query", name) or ({"schema": extra[name]} if name in extra else None)
            if param is None:
                breaches.append(Breach("spec.query", f"{name} is not a parameter of {op.operation_id}", name))
                continue
            breaches += self._parameter("spec.query", name, raw, param)
        for p in op.parameters:
            if p.get("in") == "query" and p.get("required") and p["name"] not in seen:
                breaches.append(Breach("spec.query", f"{p['name']} is a required parameter", p["name"], "parameter_not_found"))
        version = headers.get(VERSION_HEADER)
        if version is None:
            breaches.append(Breach("spec.header", "no Intercom-Version header: the app's default version applies",
                                   "Intercom-Version", "noted"))
        breaches += self._body(op, body)
        return breaches

    def _parameter(self, rule: str, name: str, raw: str, param: dict[str, Any]) -> list[Breach]:
        schema = param.get("schema") or {}
        value: Any = raw
        kind = schema.get("type")
        kind = kind[0] if isinstance(kind, list) else kind
        try:
            if kind == "integer":
                value = int(raw)
            elif kind == "number":
                value = float(raw)
            elif kind == "boolean":
                if raw.lower() not in ("true", "false"):
                    raise ValueError(raw)
                value = raw.lower() == "true"
        except ValueError:
            return [Breach(rule, f"{name} must be {'an' if kind == 'integer' else 'a'} {kind}, not {raw!r}", name)]
        key = (f"param {id(schema)}", name)
        validator = self._validator(key, {k: v for k, v in schema.items() if k not in ("title", "description", "example")})
        assert validator is not None
        if key not in self._quick:  # compiled once per parameter, as a body's check is per operation
            self._quick[key] = compile_check(validator.schema, self._lookup)
        quick = self._quick[key]
        if quick is not None and quick(value):
            return []
        return [Breach(rule, f"{name}: {error.message[:200]}", name) for error in validator.iter_errors(value)]

    def _request_validator(self, op: Operation) -> Draft202012Validator | None:
        key = (op.operation_id, "request")
        with self._relaxing:
            if key not in self._validators:
                schema = self.request_schema(op)
                if schema is not None:
                    self._relax_for_examples(op, Draft202012Validator(schema, registry=self.registry))
                    self._quick[op.operation_id] = compile_check(schema, self._lookup)
                return self._validator(key, schema)
        return self._validators[key]

    def _fits(self, op: Operation, data: Any) -> bool:
        """The quick check's word that the body fits (it never passes what jsonschema refuses;
        False: ask jsonschema, also for a body nested too deep for it)."""
        quick = self._quick.get(op.operation_id)
        try:
            return quick is not None and quick(data)
        except RecursionError:
            return False

    def _relax_for_examples(self, op: Operation, validator: Draft202012Validator) -> None:
        body = op.node.get("requestBody")
        examples = self._resolve(body).get("content", {}).get("application/json", {}).get("examples", {}) if body else {}
        for example in examples.values():
            value = self._resolve(example).get("value") if isinstance(example, dict) else None
            ambiguous = [e.schema for e in list(validator.iter_errors(value))
                         if e.validator == "oneOf" and "is valid under each of" in e.message]
            for schema in ambiguous:
                if "oneOf" in schema:
                    schema["anyOf"] = schema.pop("oneOf")

    def _body(self, op: Operation, body: bytes) -> list[Breach]:
        schema = self.request_schema(op)
        if not body.strip():
            if schema is not None and self.body_required(op):
                return [Breach("spec.body", "the request body is required", None, "parameter_not_found")]
            return []
        try:
            data = json.loads(body)
        except ValueError:
            return [Breach("spec.body", "There was a problem in the JSON you submitted")]
        if schema is None:
            return []
        validator = self._request_validator(op)
        assert validator is not None
        if self._fits(op, data):
            return []
        out = []
        for error in validator.iter_errors(data):
            where = error.json_path.removeprefix("$").lstrip(".") or None
            code = "parameter_not_found" if error.validator == "required" else "parameter_invalid"
            out.append(Breach("spec.body", f"{error.json_path}: {_message(error)}", where, code))
            if len(out) >= 5:
                break
        return out

    # -- the contract tests --------------------------------------------------------------

    def check_request(self, op: Operation, body: Any) -> list[Violation]:
        validator = self._request_validator(op)
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
        return [Violation(where, op.operation_id, error.message[:300], error.json_path) for error in validator.iter_errors(body)]

    def schema_ref(self, name: str) -> dict[str, Any]:
        return {"$ref": f"{BASE_URI}#/components/schemas/{name}"}


def _json_type(value: Any) -> str:
    return next(name for kind, name in _JSON_TYPES if isinstance(value, kind))


def _message(error: Any) -> str:
    """A validation error in a line: for oneOf/anyOf, the closest branch's first complaint."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        best = min(error.context, key=lambda e: (len(list(e.absolute_path)) * -1, len(e.message)))
        return f"{best.message[:200]} (no variant of the description fits)"
    return error.message[:300]


_CONTRACT: Contract | None = None
_LOAD = threading.Lock()


def contract() -> Contract:
    """The description, parsed once per process (about 0.2 s, on first use)."""
    global _CONTRACT
    with _LOAD:
        if _CONTRACT is None:
            _CONTRACT = Contract(json.loads(SPEC_JSON.read_bytes()))
        return _CONTRACT
