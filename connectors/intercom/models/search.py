"""Search queries for contacts, conversations and tickets.

`where("external_id", "=", "st-1")` is one filter; `all_of(...)` and `any_of(...)` combine
them (Intercom allows two levels of nesting and 15 filters per group).
"""

from __future__ import annotations

from typing import Any

Query = dict[str, Any]
OPERATORS = frozenset({"=", "!=", "IN", "NIN", "<", "<=", ">", ">=", "~", "!~", "^", "$"})
MAX_FILTERS_PER_GROUP = 15


def where(field: str, operator: str, value: Any) -> Query:
    if operator not in OPERATORS:
        raise ValueError(f"unknown search operator {operator!r}")
    return {"field": field, "operator": operator, "value": value}


def _group(operator: str, filters: tuple[Query, ...]) -> Query:
    if not filters:
        raise ValueError("a search group needs at least one filter")
    if len(filters) > MAX_FILTERS_PER_GROUP:
        raise ValueError(f"Intercom allows at most {MAX_FILTERS_PER_GROUP} filters per group")
    return {"operator": operator, "value": list(filters)}


def all_of(*filters: Query) -> Query:
    return _group("AND", filters)


def any_of(*filters: Query) -> Query:
    return _group("OR", filters)
