"""What a field's values are: emails, phones, dates, numbers, yes/no, pick lists, codes,
free text, constants, nothing at all.

The audit keeps a few values per field (samples, and the whole domain of small ones with
their counts); the proposer reads them here before it trusts a name or a declared type:
a column declared TEXT that holds five repeated values is a pick list, one that holds
dates is a date, one that holds the same value in every record holds nothing worth moving.
Deterministic, no I/O.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
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
HEX = re.compile(r"^(?=.*[a-f])(?=.*\d)[0-9a-f]{16,}$", re.IGNORECASE)
NUMERIC_START = re.compile(r" ?\d")  # what %Y, %m and %d can begin with (%d: " 1")
CODE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9_/#:-]{0,39}$")
PERSON = re.compile(r"^[A-ZÀ-ÖØ-ÞА-ЯЁ][a-zß-öø-ÿа-яё'-]+( [A-ZÀ-ÖØ-ÞА-ЯЁ][a-zß-öø-ÿа-яё'.-]+){1,2}$")
# yes/no in the languages customers use (English, German, French, Spanish, Italian,
# Portuguese, Dutch, Russian) and as flags
BOOLEANS = {
    "true", "false", "yes", "no", "y", "n", "0", "1", "t", "f", "on", "off", "checked", "unchecked", "да", "нет",
    "ja", "nein", "wahr", "falsch", "oui", "non", "vrai", "faux", "si", "sí", "verdadero", "falso", "vero", "sim",
    "não", "nao", "verdadeiro", "nee", "waar", "onwaar", "j",
}

# Layouts checked when a value is not ISO 8601; day-first and month-first both listed so an
# ambiguous column is noticed rather than guessed.
DAY_FIRST = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y",
             "%d-%m-%Y %H:%M:%S", "%d-%m-%Y")
MONTH_FIRST = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y")
ANY_LAYOUT = (*DEFAULT_DATE_FORMATS, *DAY_FIRST, *MONTH_FIRST)
# What a pick list looks like: a handful of short values, each used several times.
ENUM_MAX_VALUES = 20
ENUM_MIN_REPEAT = 2
ENUM_MAX_LENGTH = 60
# A constant: one value in (nearly) every record. One value in a few records is a flag.
CONSTANT_FILL = 0.95
# Free text: several words per value (a sentence), not a label or a name.
PROSE_WORDS = 5
LABELISH = ("text", "person", "code")


@dataclass(frozen=True)
class Sniffed:
    """The kind most samples share, how many share it, and a date layout when needed."""

    kind: str  # email, url, phone, datetime, date, integer, float, boolean, html, uuid, hex, code, person, prose, text, empty
    share: float  # 0..1 of the non-empty samples
    count: int  # non-empty samples looked at
    date_format: str | None = None  # a strptime layout the values need (None: ISO or none)
    ambiguous_date: bool = False  # both day-first and month-first read every value

    def is_(self, kind: str, at_least: float = 0.8) -> bool:
        return self.kind == kind and self.share >= at_least and self.count > 0


def has_html(samples: Sequence[str]) -> bool:
    """True when any sample carries HTML markup (one is enough to convert the field)."""
    return any(HTML.search(str(s)) for s in samples)


def _iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None


@functools.cache
def _numeric_start(layouts: tuple[str, ...]) -> bool:
    """Every layout begins with a number (%Y, %m, %d), so a value that does not matches none."""
    return all(layout[:2] in ("%Y", "%m", "%d") for layout in layouts)


def _layout(text: str, layouts: tuple[str, ...]) -> str | None:
    if _numeric_start(layouts) and not NUMERIC_START.match(text):
        return None  # most values are not dates: strptime costs some 20 us a layout
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
    if (len(text) >= 8 and _iso(text) is not None) or _layout(text, ANY_LAYOUT):
        return "date" if len(text) <= 10 else "datetime"
    if UUIDISH.match(text):
        return "uuid"
    if HEX.match(text):
        return "hex"
    if URL.match(text):
        return "url"
    if PHONE.match(text) and sum(c.isdigit() for c in text) >= 7:
        return "phone"
    if CODE.match(text):
        return "code"
    if len(text.split()) >= PROSE_WORDS or (len(text) > 80 and " " in text):
        return "prose"
    if PERSON.match(text):
        return "person"
    return "text"


def sniff(samples: Sequence[str]) -> Sniffed:
    """The dominant kind of a few sampled values."""
    values = [str(s).strip() for s in samples if s is not None and str(s).strip()]
    if not values:
        return Sniffed("empty", 0.0, 0)
    kinds = Counter(_kind(v) for v in values)
    # a column of only 0 and 1 (or yes/no words with them) is boolean, not integer
    if {v.casefold() for v in values} <= BOOLEANS and len({v.casefold() for v in values}) <= 2:
        return Sniffed("boolean", 1.0, len(values))
    if set(kinds) <= {"integer", "float"} and "float" in kinds:
        return Sniffed("float", 1.0, len(values))
    if set(kinds) <= {"date", "datetime"}:
        kinds = Counter({"datetime" if "datetime" in kinds else "date": len(values)})
    if set(kinds) <= {"text", "person"} and len(kinds) == 2:  # names and labels alike are short text
        kinds = Counter({"text": len(values)})
    if set(kinds) <= {"prose", "text", "person"} and kinds["prose"] * 3 >= len(values):
        kinds = Counter({"prose": len(values)})  # sentences among short phrases: free text
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


# -- a whole column ---------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    """What a column holds, from its values first: `kind` is one of empty, constant, enum
    (a pick list), or the kind of its values (email, phone, url, date, datetime, integer,
    float, boolean, html, uuid, hex, code, person, prose, text); "unknown" when there
    were no values to look at."""

    kind: str
    values: Sniffed
    constant: str | None = None  # the one value of a constant column

    @property
    def labelish(self) -> bool:
        """Short words, names or codes (not numbers, dates or sentences)."""
        return self.values.kind in LABELISH

    @property
    def seen(self) -> bool:
        return self.kind not in ("unknown", "empty")


def shape(samples: Sequence[str], top_values: Sequence[tuple[str, int]] = (), *, filled: int | None,
          count: int | None, distinct: int | None, longest: int | None) -> Shape:
    """The kind of a column from its profile: fill, distinct count, longest value, values."""
    values = [v for v, _ in top_values] or list(samples)
    sniffed = sniff(values)
    if filled == 0 and count:
        return Shape("empty", sniffed)
    if filled is not None and filled > 1 and (count or 0) > 1 and filled >= CONSTANT_FILL * (count or 0) and (
            distinct == 1 or (top_values and len(top_values) == 1)):
        one = str(top_values[0][0]) if top_values else (str(samples[0]) if samples else "")
        return Shape("constant", sniffed, one)
    if sniffed.count == 0:
        return Shape("unknown", sniffed)
    if sniffed.kind in LABELISH and distinct is not None and filled is not None and \
            2 <= distinct <= ENUM_MAX_VALUES and filled >= ENUM_MIN_REPEAT * distinct and \
            (longest or 0) <= ENUM_MAX_LENGTH:
        return Shape("enum", sniffed)
    return Shape(sniffed.kind, sniffed)
