"""The fields ITSM 365 objects expose, and how a Naumen value becomes a field value.

Naumen returns references as `{UUID, title, ...}` (or a bare UUID string), dates as
`yyyy.MM.dd HH:mm:ss` in the tenant's time zone, and lists of references for
multi-valued attributes. A reference field `x` yields `x` (the UUID) and `x_name`
(the title), so maps can use either.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from connectors.base import FieldSpec, FieldType, SourceError, ValueNote
from connectors.flags import read_flag
from connectors.local_time import noted_utc, parse_iso, value_notes

TYPES: dict[str, FieldType] = {
    "number": FieldType.INTEGER,
    "state": FieldType.OPTIONS,
    "type": FieldType.OPTIONS,
    "kind": FieldType.OPTIONS,
    "state_name": FieldType.OPTIONS,
    "description": FieldType.TEXT,
    "description_html": FieldType.HTML,
    "text": FieldType.HTML,
    "client_email": FieldType.EMAIL,
    "email": FieldType.EMAIL,
    "client_phone": FieldType.PHONE,
    "phone": FieldType.PHONE,
    "work_phone": FieldType.PHONE,
    "private": FieldType.BOOLEAN,
    "archived": FieldType.BOOLEAN,
    "size": FieldType.INTEGER,
    "files": FieldType.LIST,
    "services": FieldType.LIST,
    "recipients_ou": FieldType.LIST,
    "sla_deadline": FieldType.DATETIME,
    "resolved_at": FieldType.DATETIME,
    "request_date": FieldType.DATETIME,
    "state_start": FieldType.DATETIME,
    "created": FieldType.DATETIME,
    "updated": FieldType.DATETIME,
}

# reference field -> the object it points at (None: a catalog we do not read, or an
# employee who may be a technician or a requester: both share the employees' keys)
REFERENCES: dict[str, str | None] = {
    "client": "employees",
    "client_ou": "ous",
    "author": None,
    "responsible": "technicians",
    "responsible_team": "teams",
    "priority": "priorities",
    "urgency": "urgencies",
    "impact": "impacts",
    "category": None,
    "service": "slm_services",
    "agreement": "agreements",
    "ou": "ous",
    "parent": "ous",
    "leader": "technicians",
    "section": None,
    "source": None,
}

LABELS: dict[str, str] = {
    "uuid": "UUID",
    "number": "Number",
    "subject": "Short description",
    "description_html": "Description (HTML)",
    "client": "Client employee",
    "client_ou": "Client company",
    "responsible_team": "Responsible team",
    "sla_deadline": "SLA deadline",
    "resolved_at": "Resolved at",
    "state_name": "State",
}

_NAUMEN_DATE = re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$")
_DAY_ONLY = re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})$")


def parse_date(value: Any, local: tzinfo, noted: list[tuple[str, str]] | None = None) -> datetime | None:
    """A Naumen date (`yyyy.MM.dd HH:mm:ss[.SSS]`, or ISO) as aware UTC; None when empty.
    A wall-clock time the DST rule settled goes to `noted` (see `noted_utc`).

    Anything else is a SourceError: a tenant sending another format must be configured,
    not silently read as empty.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return noted_utc(value, local, noted)
    text = str(value).strip()
    match = _NAUMEN_DATE.match(text)
    if match:
        y, mo, d, h, mi, s, frac = match.groups()
        micro = int((frac or "0").ljust(6, "0"))
        return noted_utc(datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), micro), local, noted)
    match = _DAY_ONLY.match(text)
    if match:
        return noted_utc(datetime(*map(int, match.groups())), local, noted)
    parsed = parse_iso(text, local, noted)
    if parsed is not None:
        return parsed
    raise ValueError(f"not a Naumen date: {text[:40]!r}")


def naumen_local(value: datetime) -> str:
    return value.strftime("%Y.%m.%d %H:%M:%S")


def reference(value: Any) -> tuple[str | None, str | None]:
    """(UUID, title) of a reference value in any of the shapes Naumen sends."""
    if value is None or value == "":
        return None, None
    if isinstance(value, dict):
        uuid = value.get("UUID") or value.get("uuid")
        title = value.get("title") or value.get("code")
        return (str(uuid) if uuid else None), (str(title) if title is not None else None)
    return str(value), None


def plain(value: Any) -> Any:
    """A scalar for a non-reference field: a reference's title, a list's items, text as is."""
    if isinstance(value, dict):
        uuid, title = reference(value)
        return title if title is not None else uuid
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def to_bool(value: Any) -> bool | None:
    return read_flag(value)


def to_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"not a whole number: {str(value)[:40]!r}") from None


def specs_for(attrs: dict[str, str | None], extra: tuple[FieldSpec, ...] = ()) -> tuple[FieldSpec, ...]:
    """FieldSpecs for a class's attrs: references add a `_name` field; unknown names are custom."""
    out: list[FieldSpec] = []
    for name, code in attrs.items():
        if not code:
            continue
        if name in REFERENCES:
            out.append(FieldSpec(name, FieldType.STRING, label=LABELS.get(name, name.replace("_", " ").capitalize()), references=REFERENCES[name], description=f"Naumen attribute {code} (UUID)"))
            out.append(FieldSpec(f"{name}_name", FieldType.STRING, label=LABELS.get(name, name.replace("_", " ").capitalize()) + " name", description=f"title of {code}"))
        else:
            known = name in TYPES or name in LABELS or name in {"title", "first_name", "last_name", "middle_name", "position", "login", "license", "additional_name", "code", "mime_type", "description_html", "subject", "client_name", "uuid"}
            out.append(
                FieldSpec(
                    name,
                    TYPES.get(name, FieldType.STRING),
                    label=LABELS.get(name, name.replace("_", " ").capitalize()),
                    nullable=name != "uuid",
                    custom=not known,
                    description=f"Naumen attribute {code}",
                    # Naumen sends every date without an offset: a wall-clock time in the tenant's zone
                    local_time=TYPES.get(name) is FieldType.DATETIME,
                    column=code if TYPES.get(name) is FieldType.DATETIME else "",
                )
            )
    out.extend(extra)
    return tuple(out)


def convert(attrs: dict[str, str | None], raw: dict, local: tzinfo,
            notes: list[ValueNote] | None = None) -> tuple[dict[str, Any], list[str]]:
    """A record's data from a Naumen object, and the names of fields whose value was
    unreadable; the dates the DST rule settled go to `notes`."""
    data: dict[str, Any] = {}
    bad: list[str] = []
    for name, code in attrs.items():
        if not code:
            continue
        value = raw.get(code)
        if name in REFERENCES:
            data[name], data[f"{name}_name"] = reference(value)
            continue
        kind = TYPES.get(name, FieldType.STRING)
        try:
            if kind is FieldType.DATETIME:
                noted: list[tuple[str, str]] = []
                data[name] = parse_date(value, local, noted)
                if notes is not None:
                    notes += value_notes(name, noted)
            elif kind is FieldType.BOOLEAN:
                data[name] = to_bool(value)
            elif kind is FieldType.INTEGER:
                data[name] = to_int(value)
            elif kind is FieldType.LIST:
                data[name] = [reference(item)[0] if isinstance(item, dict) else str(item) for item in (value or [])] if isinstance(value, list) else ([] if value in (None, "") else [str(plain(value))])
            else:
                value = plain(value)
                data[name] = None if value is None else (value if isinstance(value, (list, bool, int, float)) else str(value))
        except ValueError:
            data[name] = None
            bad.append(name)
    return data, bad


def check_date_format(value: Any, local: tzinfo, what: str) -> datetime | None:
    """parse_date for the window attribute, where an unreadable date stops the read."""
    try:
        return parse_date(value, local)
    except ValueError as exc:
        raise SourceError(
            f"ITSM 365 sent an unreadable date for {what}: {exc}",
            hint="dates are expected as yyyy.MM.dd HH:mm:ss",
            code="source.malformed",
        ) from None
