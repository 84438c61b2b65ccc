"""A compiled yes/no answer to "does this body fit the schema?", for the common case.

jsonschema walks a schema anew for every request (a validator object per sub-schema, every
`$ref` looked up in the registry): about a third of a millisecond for a reply, the
sandbox's largest cost after the routes themselves. Nearly every request the loader sends
fits, so the contract first asks a check compiled once per schema into plain closures;
only a body it does not pass goes to jsonschema, which says why (or finds it fits after
all: the check never passes what jsonschema refuses, and may refuse what it passes).

It knows the keywords of Intercom's request schemas and their JSON Schema 2020-12 meaning
as jsonschema applies it (`format` an annotation, unknown keywords ignored); a schema that
uses any other keyword (or an enum of anything but strings and null) gets no quick check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

ANNOTATIONS = frozenset({"title", "description", "example", "examples", "default", "format", "readOnly",
                         "writeOnly", "deprecated", "discriminator", "x-tags", "$comment"})
_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


class Unsupported(Exception):
    """The schema uses a keyword the quick check does not know."""


def compile_check(schema: Any, lookup: Callable[[str], Any]) -> Check | None:
    """The quick check for a schema (None: it uses what the check does not know).
    `lookup` gives the schema a `$ref` names (one step: its own `$ref` is its own keyword),
    or raises `Unsupported`."""
    try:
        return _Compiler(lookup).compile(schema)
    except Unsupported:
        return None


class _Compiler:
    def __init__(self, lookup: Callable[[str], Any]) -> None:
        self.lookup = lookup
        self.done: dict[int, Check] = {}
        self.keep: list[Any] = []  # the schemas compiled, alive while their ids are the keys above

    def compile(self, schema: Any) -> Check:
        if schema is True or schema == {}:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        key = id(schema)
        if key in self.done:
            return self.done[key]
        cell: list[Check] = []
        self.done[key] = lambda v: cell[0](v)  # a schema that refers to itself calls itself through this
        self.keep.append(schema)
        checks = [self._keyword(schema, name, value) for name, value in schema.items() if name not in ANNOTATIONS]
        checks = [c for c in checks if c is not None]
        check = _all(checks)
        cell.append(check)
        self.done[key] = check
        return check

    def _keyword(self, schema: dict[str, Any], name: str, value: Any) -> Check | None:
        if name == "$ref":
            return self.compile(self.lookup(value))
        if name == "type":
            kinds = [value] if isinstance(value, str) else list(value)
            if not all(k in _TYPES for k in kinds):
                raise Unsupported(f"type {value!r}")
            tests = tuple(_TYPES[k] for k in kinds)
            return lambda v: any(t(v) for t in tests)
        if name == "properties":
            props = tuple((prop, self.compile(sub)) for prop, sub in value.items())

            def properties(v: Any) -> bool:
                if not isinstance(v, dict):
                    return True
                for prop, check in props:
                    if prop in v and not check(v[prop]):
                        return False
                return True
            return properties
        if name == "additionalProperties":
            known = frozenset(schema.get("properties", {}))
            if "patternProperties" in schema:
                raise Unsupported("patternProperties")
            extra = self.compile(value)
            return lambda v: not isinstance(v, dict) or all(extra(item) for k, item in v.items() if k not in known)
        if name == "required":
            names = tuple(value)
            return lambda v: not isinstance(v, dict) or all(n in v for n in names)
        if name == "items":
            each = self.compile(value)
            return lambda v: not isinstance(v, list) or all(each(item) for item in v)
        if name == "enum":
            if not all(isinstance(e, str) or e is None for e in value):
                raise Unsupported("enum of other values")
            words, none = frozenset(e for e in value if e is not None), None in value
            return lambda v: (isinstance(v, str) and v in words) or (v is None and none)
        if name in ("anyOf", "oneOf", "allOf"):
            branches = tuple(self.compile(sub) for sub in value)
            if name == "anyOf":
                return lambda v: any(b(v) for b in branches)
            if name == "allOf":
                return lambda v: all(b(v) for b in branches)
            return lambda v: sum(1 for b in branches if b(v)) == 1
        if name in ("minimum", "maximum"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise Unsupported(f"{name} {value!r}")
            number = _TYPES["number"]
            if name == "minimum":
                return lambda v: not number(v) or v >= value
            return lambda v: not number(v) or v <= value
        if name in ("minLength", "maxLength", "minItems", "maxItems"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise Unsupported(f"{name} {value!r}")
            kind = str if name.endswith("Length") else list
            if name.startswith("min"):
                return lambda v: not isinstance(v, kind) or len(v) >= value
            return lambda v: not isinstance(v, kind) or len(v) <= value
        raise Unsupported(name)


def _always(_v: Any) -> bool:
    return True


def _never(_v: Any) -> bool:
    return False


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    every = tuple(checks)
    return lambda v: all(c(v) for c in every)
