"""Turning Infraon JSON into record values: dotted paths, dates, discovered fields, option lists."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any

from connectors.base import FieldSpec, FieldType
from connectors.flags import read_flag
from connectors.infraon.endpoints import TYPES
from connectors.local_time import noted_utc, parse_iso

_DATE_NAME = re.compile(r"(_time|_date|_on|_at|^created|^updated|^modified)$")
_FORMATS = ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%b %d, %Y %I:%M %p", "%d %b %Y %H:%M")

# defaults from the connector that documents them (sources.md §4.1); a tenant's options win
DEFAULT_OPTIONS: dict[str, list[tuple[str, str]]] = {
    "priorities": [("1", "Critical"), ("2", "High"), ("3", "Medium"), ("4", "Low"), ("5", "Very low")],
    "urgencies": [("1", "High"), ("2", "Medium"), ("3", "Low")],
    "impacts": [("1", "Business"), ("2", "Location"), ("3", "Department"), ("4", "Group"), ("5", "User")],
    "statuses": [],
    "severities": [],
}
# fields holding an option's id: yielded as strings, like the lookups' keys
CODE_FIELDS = ("status", "priority", "urgency", "impact")
# lookup object -> keys of the detail reply's `options` that may hold it
OPTION_KEYS = {
    "priorities": ("priority_matrix", "priority"),
    "urgencies": ("urgency",),
    "impacts": ("impact",),
    "statuses": ("status",),
    "severities": ("severity",),
}


def at(item: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(item, dict) or part not in item:
            return None
        item = item[part]
    return item


def pick(item: dict, paths: list[str]) -> Any:
    """The first present, non-empty value among candidate paths; a dict found for a scalar path gives its id."""
    for path in paths:
        value = at(item, path)
        if value is None or value == "":
            continue
        return value
    return None


def is_date_name(name: str) -> bool:
    return bool(_DATE_NAME.search(name))


def reads_as_date(value: Any) -> bool:
    try:
        return parse_when(value, UTC) is not None
    except ValueError:
        return False


def date_by_values(name: str, values: list[Any]) -> bool:
    """A field whose name says date (`preferred_contact_time`) is one only when the values
    seen read as dates: a tenant's custom field may hold "Morning" or "Evening" under it."""
    seen = [v for v in values if v not in (None, "")]
    return is_date_name(name) and all(reads_as_date(v) for v in seen)


def kind_of(name: str, values: list[Any]) -> FieldType | None:
    """The documented type, else a date when the name and the values agree; None: by value."""
    if name in TYPES:
        return TYPES[name]
    return FieldType.DATETIME if date_by_values(name, values) else None


def parse_when(value: Any, local: tzinfo, noted: list[tuple[str, str]] | None = None) -> datetime | None:
    """ISO-8601 first, then the day-first formats Infraon screens use; naive values are read
    in `local` (those the DST rule settled go to `noted`, see `noted_utc`)."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("a number is not a date")
    text = str(value).strip()
    parsed = parse_iso(text, local, noted)
    if parsed is not None:
        return parsed
    for fmt in _FORMATS:
        try:
            return noted_utc(datetime.strptime(text, fmt), local, noted)
        except ValueError:
            continue
    raise ValueError(f"not a date: {text[:40]!r}")


def scalar(value: Any) -> Any:
    """A dict with a name becomes its name; lists and other values stay."""
    if isinstance(value, dict):
        for key in ("name", "full_name", "title", "display_name"):
            if value.get(key) not in (None, ""):
                return value[key]
        return value.get("id", value)
    return value


def convert(name: str, value: Any, local: tzinfo, kind: FieldType | None = None,
            noted: list[tuple[str, str]] | None = None) -> Any:
    """A record's value as the schema types it (`kind`; without one, as the name suggests)."""
    kind = kind or TYPES.get(name) or (FieldType.DATETIME if is_date_name(name) else None)
    if kind is FieldType.DATETIME:
        return parse_when(value, local, noted)
    if kind is FieldType.BOOLEAN:
        return read_flag(value)
    if kind in (FieldType.JSON, FieldType.LIST):
        return value
    value = scalar(value)
    is_code = name.endswith("_id") or name in CODE_FIELDS
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and is_code else value


def flatten(item: dict) -> dict[str, Any]:
    """Top-level values of an item; a nested {id, name} gives `key` (the id) and `key_name`."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict) and any(k in value for k in ("name", "full_name", "title")):
            out[key] = value.get("id")
            out[f"{key}_name"] = scalar(value)
        else:
            out[key] = value
    return out


def discovered_specs(samples: list[dict], key: str) -> tuple[FieldSpec, ...]:
    """FieldSpecs for the fields seen on a first page (custom CI and asset fields included)."""
    seen: dict[str, Any] = {key: None}
    values: dict[str, list[Any]] = {}
    for sample in samples:
        for name, value in flatten(sample).items():
            values.setdefault(name, []).append(value)
            if seen.get(name) is None:
                seen[name] = value
    specs = []
    for name, value in seen.items():
        documented = kind_of(name, values.get(name, []))
        if documented is not None:
            kind = documented
        elif isinstance(value, bool):
            kind = FieldType.BOOLEAN
        elif isinstance(value, int):
            kind = FieldType.INTEGER
        elif isinstance(value, float):
            kind = FieldType.FLOAT
        elif isinstance(value, list):
            kind = FieldType.LIST
        elif isinstance(value, dict):
            kind = FieldType.JSON
        elif "email" in name:
            kind = FieldType.EMAIL
        else:
            kind = FieldType.STRING
        specs.append(FieldSpec(name, kind, label=name.replace("_", " ").capitalize(), nullable=name != key,
                               description="discovered from the first page"))
    return tuple(specs)


def option_entries(raw: Any) -> list[tuple[str, str]]:
    """(id, name) pairs from an options list, or a dict of entries (the priority matrix)."""
    entries = raw.values() if isinstance(raw, dict) else (raw or [])
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        ident = entry.get("id", entry.get("priority_id", entry.get("value")))
        name = entry.get("name", entry.get("priority_name", entry.get("label")))
        if ident is not None and name:
            out.append((str(ident), str(name)))
    return out
