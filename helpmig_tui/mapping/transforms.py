"""The transforms a field map applies to a value, in order, and what each one does.

Each transform is a small pydantic model (so maps serialise, hash and validate) with an
`apply(value, ctx)` method. A value a transform cannot handle raises `TransformProblem`
with a reason; `apply_map` turns that into a flag, or into a rejection when the field is
required. No transform raises anything else on bad data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from helpmig_tui.mapping.html_text import html_to_text

# Unambiguous layouts tried after ISO 8601 (Naumen's yyyy.MM.dd HH:mm:ss among them).
DEFAULT_DATE_FORMATS = (
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
)
_MS_THRESHOLD = 100_000_000_000  # epoch numbers above this are milliseconds (after 5138 AD in seconds)
_MAX_EPOCH = 253_402_300_799  # 9999-12-31 23:59:59 UTC
_DIGITS = re.compile(r"^-?\d+(\.\d+)?$")


class TransformProblem(Exception):
    """A value a transform cannot turn into what the target needs. `code` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Flag:
    """Something about a record the reports should show: a cut value, an unmapped status."""

    field: str
    code: str
    message: str


@dataclass
class TransformContext:
    """What a transform may look at besides the value: the record, the source's time
    zone, the lookup tables, and where to leave flags and extra tags."""

    field: str
    record: Mapping[str, Any]
    zone: tzinfo
    lookups: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    reference_matches: dict[str, str] = field(default_factory=dict)  # source field -> key | email | name

    def flag(self, code: str, message: str) -> None:
        self.flags.append(Flag(self.field, code, message))


@lru_cache(maxsize=64)
def zone_named(name: str) -> tzinfo:
    if name.upper() == "UTC":
        return UTC
    return ZoneInfo(name)


def check_zone(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        zone_named(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)") from None
    return name


def short_repr(value: Any, limit: int = 40) -> str:
    if isinstance(value, str) and len(value) > 2 * limit:
        value = value[: 2 * limit]  # a 50 MB value is never copied whole to say what it starts with
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Transform(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def describe(self) -> str:
        """One short line for tables: what the transform does."""
        raise NotImplementedError


class ValueMap(_Transform):
    """Source values to target values (status names to open/closed, priority names to
    itsm_priority values). Matching ignores case and surrounding spaces; an empty target
    value drops the value on purpose (a public comment has no forced direction)."""

    op: Literal["value_map"] = "value_map"
    mapping: dict[str, str]  # "" drops the value on purpose
    default: str | None = None  # for values not in the mapping; None flags them

    def apply(self, value: Any, ctx: TransformContext) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, list):
            return [v for v in (self.apply(item, ctx) for item in value) if v is not None]
        key = str(value).strip()
        if key in self.mapping:
            return self.mapping[key]
        folded = {k.strip().casefold(): v for k, v in self.mapping.items()}
        if key.casefold() in folded:
            return folded[key.casefold()]
        if self.default is not None:
            return self.default
        raise TransformProblem("unmapped_value", f"{short_repr(key)} is not in the value map")

    def describe(self) -> str:
        targets = sorted({v for v in self.mapping.values() if v})
        shown = "/".join(targets[:4]) + ("/..." if len(targets) > 4 else "")
        return f"value map ({len(self.mapping)} → {shown})" + (f", else {self.default}" if self.default else "")


class DateToUnix(_Transform):
    """A date to Unix seconds. Naive values are read in the source's time zone (the
    map's, unless this transform names one); `formats` are tried after ISO 8601."""

    op: Literal["date"] = "date"
    timezone: str | None = None
    formats: list[str] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return check_zone(value)

    def apply(self, value: Any, ctx: TransformContext) -> Any:
        zone = zone_named(self.timezone) if self.timezone else ctx.zone
        return to_unix(value, zone, self.formats)

    def describe(self) -> str:
        return "date → unix" + (f" ({self.timezone})" if self.timezone else "")


def to_unix(value: Any, zone: tzinfo, formats: list[str] | tuple[str, ...] = ()) -> int | None:
    """Unix seconds from a datetime, a date, an epoch number or a date string."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TransformProblem("date_unparseable", f"{short_repr(value)} is not a date")
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return int(moment.timestamp())
    if isinstance(value, date):
        return int(datetime.combine(value, time(), tzinfo=zone).timestamp())
    if isinstance(value, (int, float)):
        number = float(value)
        if number != number or abs(number) > _MAX_EPOCH * 1000:  # NaN, infinities, absurd numbers
            raise TransformProblem("date_unparseable", f"{short_repr(value)} is not a date")
        return int(number / 1000 if abs(number) >= _MS_THRESHOLD else number)
    text = str(value).strip()
    if not text:
        return None
    if _DIGITS.match(text):
        return to_unix(float(text), zone)
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        for layout in (*formats, *DEFAULT_DATE_FORMATS):
            try:
                parsed = datetime.strptime(text, layout)
                break
            except ValueError:
                continue
    if parsed is None:
        raise TransformProblem("date_unparseable", f"{short_repr(text)} is not a date this map can read")
    return to_unix(parsed, zone)


class HtmlToText(_Transform):
    """HTML to plain text (Intercom's conversation body and replies take text)."""

    op: Literal["html_to_text"] = "html_to_text"

    def apply(self, value: Any, ctx: TransformContext) -> Any:
        if value is None:
            return None
        return html_to_text(str(value)) or None

    def describe(self) -> str:
        return "html → text"


class Truncate(_Transform):
    """Cut long text to `max_length` characters and say so: a flag in the reports, and
    optionally a tag or a boolean attribute on the record."""

    op: Literal["truncate"] = "truncate"
    max_length: int = Field(gt=0)
    tag: str | None = None
    flag_attribute: str | None = None

    def apply(self, value: Any, ctx: TransformContext) -> Any:
        if value is None or isinstance(value, (bool, int, float)):
            return value
        text = str(value)
        if len(text) <= self.max_length:
            return value
        ctx.flag("truncated", f"{ctx.field} cut from {len(text):,} to {self.max_length:,} characters")
        if self.tag:
            ctx.tags.append(self.tag)
        if self.flag_attribute:
            ctx.attributes[self.flag_attribute] = True
        return text[: self.max_length]

    def describe(self) -> str:
        return f"truncate {self.max_length}"


class Join(_Transform):
    """This field's value followed by other fields' values (first + last name)."""

    op: Literal["join"] = "join"
    fields: list[str] = Field(min_length=1)
    separator: str = " "

    def apply(self, value: Any, ctx: TransformContext) -> Any:
        parts = [value, *(ctx.record.get(name) for name in self.fields)]
        texts = [str(p).strip() for p in parts if p is not None and str(p).strip()]
        return self.separator.join(texts) or None

    def describe(self) -> str:
        return "join " + ", ".join(self.fields)


class Split(_Transform):
    """Text to a list ("a; b" -> ["a", "b"]): a list value makes several tags."""

    op: Literal["split"] = "split"
    separator: str = Field(default=";", min_length=1)

    def apply(self, value: Any, ctx: TransformContext) -> Any:
        if value is None:
            return None
        items = value if isinstance(value, list) else [value]
        out = [part.strip() for item in items for part in str(item).split(self.separator)]
        return [part for part in out if part] or None

    def describe(self) -> str:
        return f"split on {self.separator!r}"


class Lookup(_Transform):
    """A key to a value from a lookup object (a status id to its name)."""

    op: Literal["lookup"] = "lookup"
    object: str
    field: str

    def apply(self, value: Any, ctx: TransformContext) -> Any:
        if value is None or value == "":
            return None
        table = ctx.lookups.get(self.object)
        if table is None:
            raise TransformProblem("lookup_unavailable", f"the lookup {self.object} was not loaded")
        row = table.get(str(value))
        if row is None:
            raise TransformProblem("lookup_missing", f"{short_repr(value)} is not in {self.object}")
        return row.get(self.field)

    def describe(self) -> str:
        return f"lookup {self.object}.{self.field}"


Transform = Annotated[
    ValueMap | DateToUnix | HtmlToText | Truncate | Join | Split | Lookup,
    Field(discriminator="op"),
]
TRANSFORM_OPS = ("value_map", "date", "html_to_text", "truncate", "join", "split", "lookup")
