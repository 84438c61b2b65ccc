"""Search queries evaluated in memory, with Intercom's operators and limits.

A query is one filter `{field, operator, value}` or a group `{operator: AND|OR, value: [...]}`
nested at most two levels, with at most 15 filters per group. List-valued fields
(`contact_ids`, `tag_ids`) match when they contain the value. Dates are compared as whole
seconds (Intercom documents day granularity for contact search; the sandbox is exact).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.intercom.sandbox.errors import invalid

Predicate = Callable[[dict[str, Any]], bool]
FieldReader = Callable[[dict[str, Any], str], Any]


def _compare(actual: Any, operator: str, expected: Any) -> bool:
    if isinstance(actual, list):
        if operator in ("=", "IN"):
            wanted = expected if isinstance(expected, list) else [expected]
            return any(str(item) in {str(value) for value in wanted} for item in actual)
        if operator in ("!=", "NIN"):
            return not _compare(actual, "=", expected)
        raise invalid(f"operator {operator} is not supported on this field")
    if operator == "IN":
        return actual in expected or str(actual) in {str(value) for value in expected}
    if operator == "NIN":
        return not _compare(actual, "IN", expected)
    if actual is None:
        return operator == "=" and expected is None or operator == "!=" and expected is not None
    if operator == "=":
        return actual == expected or str(actual) == str(expected)
    if operator == "!=":
        return not (actual == expected or str(actual) == str(expected))
    if operator in ("<", ">", "<=", ">="):
        try:
            left, right = float(actual), float(expected)
        except (TypeError, ValueError):
            raise invalid(f"{expected!r} cannot be compared with {operator}", code="type_mismatch") from None
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[operator]
    text, needle = str(actual).casefold(), str(expected).casefold()
    return {"~": needle in text, "!~": needle not in text, "^": text.startswith(needle), "$": text.endswith(needle)}[operator]


def compile_query(query: Any, read: FieldReader, fields: frozenset[str], depth: int = 0) -> Predicate:
    if not isinstance(query, dict):
        raise invalid("query must be an object")
    operator = query.get("operator")
    if operator in ("AND", "OR"):
        if depth >= 2:
            raise invalid("There's a limit of max 2 nested filters")
        members = query.get("value")
        if not isinstance(members, list) or not members:
            raise invalid("AND/OR needs a list of filters")
        if len(members) > 15:
            raise invalid("There's a limit of max 15 filters for each AND or OR group")
        parts = [compile_query(member, read, fields, depth + 1) for member in members]
        return (lambda obj: all(part(obj) for part in parts)) if operator == "AND" else (lambda obj: any(part(obj) for part in parts))
    field = query.get("field")
    if operator not in ("=", "!=", "IN", "NIN", "<", ">", "<=", ">=", "~", "!~", "^", "$"):
        raise invalid(f"operator {operator!r} is not supported")
    if not isinstance(field, str) or not (field in fields or field.partition(".")[0] + ".*" in fields):
        raise invalid(f"{field!r} is not a searchable field")
    value = query.get("value")
    if operator in ("IN", "NIN") and not isinstance(value, list):
        raise invalid(f"{operator} needs a list value")
    return lambda obj: _compare(read(obj, field), operator, value)


def dotted(obj: dict[str, Any], path: str) -> Any:
    """obj["a"]["b"] for "a.b"; None when any step is missing."""
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current
