"""What sampled values look like: emails, dates, numbers, booleans, URLs, phones, HTML.

The audit keeps a few values per field (as text); the proposer reads them here to
check a name-based guess ("created" but the values are not dates) or to type a custom
field it knows nothing else about. Deterministic, no I/O.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from helpmig_tui.mapping.transforms import DEFAULT_DATE_FORMATS

EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}$")
URL = re.compile(r"^(https?://|www\.)\S+$|^[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(/\S*)?$", re.IGNORECASE)
PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")
INTEGER = re.compile(r"^[+-]?\d{1,18}$")
FLOAT = re.compile(r"^[+-]?(\d+[.,]\d+|\d*\.\d+)$")
HTML = re.compile(r"<\s*(p|br|div|span|b|i|a|ul|ol|li|table|h[1-6]|strong|em|img|font)\b[^>]*>", re.IGNORECASE)
UUIDISH = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z]+\$\d+)$", re.IGNORECASE)
PERSON = re.compile(r"^[A-ZÀ-ÖØ-ÞА-ЯЁ][a-zß-öø-ÿа-яё'-]+( [A-ZÀ-ÖØ-ÞА-ЯЁ][a-zß-öø-ÿа-яё'.-]+){1,2}$")
BOOLEANS = {"true", "false", "yes", "no", "y", "n", "0", "1", "t", "f", "on", "off", "checked", "unchecked", "да", "нет"}

# Layouts checked when a value is not ISO 8601; day-first and month-first both listed so an
# ambiguous column is noticed rather than guessed.
DAY_FIRST = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")
MONTH_FIRST = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y")


@dataclass(frozen=True)
class Sniffed:
    """The kind most samples share, how many share it, and a date layout when needed."""

    kind: str  # email, url, phone, datetime, date, integer, float, boolean, html, uuid, person, text, empty
    share: float  # 0..1 of the non-empty samples
    count: int  # non-empty samples looked at
    date_format: str | None = None  # a strptime layout the values need (None: ISO or none)
    ambiguous_date: bool = False  # both day-first and month-first read every value

    def is_(self, kind: str, at_least: float = 0.8) -> bool:
        return self.kind == kind and self.share >= at_least and self.count > 0


def has_html(samples: tuple[str, ...] | list[str]) -> bool:
    """True when any sample carries HTML markup (one is enough to convert the field)."""
    return any(HTML.search(str(s)) for s in samples)


def _iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None


def _layout(text: str, layouts: tuple[str, ...]) -> str | None:
    for layout in layouts:
        try:
            datetime.strptime(text, layout)
            return layout
        except ValueError:
            continue
    return None


def _kind(text: str) -> str:
    if EMAIL.match(text):
        return "email"
    if INTEGER.match(text):
        return "integer"
    if FLOAT.match(text):
        return "float"
    if text.casefold() in BOOLEANS:
        return "boolean"
    if HTML.search(text):
        return "html"
    if _iso(text) is not None or _layout(text, (*DEFAULT_DATE_FORMATS, *DAY_FIRST, *MONTH_FIRST)):
        return "date" if len(text) <= 10 else "datetime"
    if UUIDISH.match(text):
        return "uuid"
    if URL.match(text):
        return "url"
    if PHONE.match(text) and sum(c.isdigit() for c in text) >= 7:
        return "phone"
    if PERSON.match(text):
        return "person"
    return "text"


def sniff(samples: tuple[str, ...] | list[str]) -> Sniffed:
    """The dominant kind of a few sampled values."""
    values = [str(s).strip() for s in samples if s is not None and str(s).strip()]
    if not values:
        return Sniffed("empty", 0.0, 0)
    kinds = Counter(_kind(v) for v in values)
    # a column of only 0 and 1 (or yes/no words with them) is boolean, not integer
    if {v.casefold() for v in values} <= BOOLEANS:
        return Sniffed("boolean", 1.0, len(values))
    if set(kinds) <= {"integer", "float"} and "float" in kinds:
        return Sniffed("float", 1.0, len(values))
    if set(kinds) <= {"date", "datetime"}:
        kinds = Counter({"datetime" if "datetime" in kinds else "date": len(values)})
    kind, n = max(kinds.items(), key=lambda kv: (kv[1], kv[0]))
    date_format, ambiguous = None, False
    if kind in ("date", "datetime") and not all(_iso(v) for v in values):
        date_format, ambiguous = _date_layout(values)
    return Sniffed(kind, n / len(values), len(values), date_format, ambiguous)


def _date_layout(values: list[str]) -> tuple[str | None, bool]:
    """A strptime layout that reads every non-ISO value; and whether day/month is ambiguous."""
    odd = [v for v in values if _iso(v) is None]
    fixed = _common(odd, DEFAULT_DATE_FORMATS)
    if fixed:
        return fixed, False
    day, month = _common(odd, DAY_FIRST), _common(odd, MONTH_FIRST)
    if day and month:
        return day, True
    return day or month, False


def _common(values: list[str], layouts: tuple[str, ...]) -> str | None:
    for layout in layouts:
        if all(_layout(v, (layout,)) for v in values):
            return layout
    return None
