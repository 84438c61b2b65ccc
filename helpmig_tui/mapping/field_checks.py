"""What a field's type and sampled values say: does it fit a standard field, which
attribute type is it, is it HTML, a text date, a pick list? Pure functions of the evidence."""

from __future__ import annotations

from connectors.base import FieldType
from helpmig_tui.mapping.evidence import FieldEvidence
from helpmig_tui.mapping.model import AttributeType
from helpmig_tui.mapping.sniff import Sniffed, has_html, sniff
from helpmig_tui.mapping.standard import StandardField, ValueType
from helpmig_tui.mapping.transforms import DateToUnix, Transform


def looks(f: FieldEvidence) -> Sniffed:
    return sniff(f.samples or tuple(v for v, _ in f.top_values))


def is_html(f: FieldEvidence, s: Sniffed) -> bool:
    return f.type is FieldType.HTML or s.kind == "html" or has_html(f.samples)


def date_transform(f: FieldEvidence, s: Sniffed) -> list[Transform]:
    """A date transform when the values are text dates; none for real datetimes."""
    if f.type in (FieldType.DATETIME, FieldType.DATE):
        return []
    if s.kind in ("date", "datetime"):
        return [DateToUnix(formats=[s.date_format] if s.date_format else [])]
    return []


def fits(std: StandardField, f: FieldEvidence, s: Sniffed) -> tuple[bool, float, str]:
    """Whether a field's type and values fit a standard field: (fits, adjustment, evidence)."""
    t, v = f.type, std.value
    if v is ValueType.DATETIME:
        if t in (FieldType.DATETIME, FieldType.DATE):
            return True, 0.05, "a date field"
        if s.kind in ("date", "datetime") and s.share >= 0.8:
            return True, 0.03 if not s.ambiguous_date else -0.15, \
                "values are dates" + (" (day and month order unclear)" if s.ambiguous_date else "")
        if t is FieldType.STRING and s.count == 0:
            return True, -0.15, "no values to check"
        return False, 0, "values are not dates"
    if v is ValueType.EMAIL:
        if t is FieldType.EMAIL or s.is_("email"):
            return True, 0.05, "values are email addresses"
        return (True, -0.15, "no values to check") if s.count == 0 and t is FieldType.STRING else \
            (False, 0, "values are not email addresses")
    if v in (ValueType.INTEGER,):
        ok = t in (FieldType.INTEGER, FieldType.FLOAT) or s.kind in ("integer", "float")
        return ok, 0.0, "values are numbers" if ok else "values are not numbers"
    if v is ValueType.BOOLEAN:
        ok = t is FieldType.BOOLEAN or s.is_("boolean")
        return ok, 0.0, "yes/no values" if ok else "values are not yes/no"
    if v in (ValueType.URL, ValueType.PHONE):
        want = "url" if v is ValueType.URL else "phone"
        if t.value == want or s.is_(want, 0.6):
            return True, 0.05, f"values look like {'web addresses' if want == 'url' else 'phone numbers'}"
        if s.count == 0 or s.kind in ("text", "empty"):
            return True, -0.1, ""
        return False, 0, f"values do not look like {'web addresses' if want == 'url' else 'phone numbers'}"
    if v in (ValueType.STRING, ValueType.TEXT, ValueType.HTML, ValueType.MESSAGE):
        if t in (FieldType.DATETIME, FieldType.DATE, FieldType.BOOLEAN) or s.is_("datetime") or s.is_("boolean"):
            return False, 0, "values are not text"
        if v is ValueType.STRING and (f.longest or 0) > 1000:
            return True, -0.1, "long values for a short field"
        if v in (ValueType.TEXT, ValueType.HTML, ValueType.MESSAGE) and t in (FieldType.TEXT, FieldType.HTML):
            return True, 0.05, "a long text field"
        return True, 0.0, ""
    if v is ValueType.LIST:
        return t in (FieldType.LIST, FieldType.STRING, FieldType.OPTIONS), 0.0, ""
    return True, 0.0, ""


def attribute_type(f: FieldEvidence, s: Sniffed) -> AttributeType:
    declared: dict[FieldType, AttributeType] = {
        FieldType.INTEGER: "integer", FieldType.FLOAT: "float", FieldType.BOOLEAN: "boolean",
        FieldType.DATETIME: "datetime", FieldType.DATE: "date", FieldType.OPTIONS: "options",
    }
    if f.type in declared:
        return declared[f.type]
    if s.count and s.share >= 0.8:
        by_values: dict[str, AttributeType] = {
            "integer": "integer", "float": "float", "boolean": "boolean", "datetime": "datetime", "date": "date",
        }
        if s.kind in by_values:
            return by_values[s.kind]
    if small_domain(f, s):
        return "options"
    return "string"


def small_domain(f: FieldEvidence, s: Sniffed) -> bool:
    """A handful of short values repeated across many records: a pick list."""
    if f.type not in (FieldType.STRING, FieldType.OPTIONS) or s.kind not in ("text", "person", "empty"):
        return False
    if f.distinct is None or f.filled is None or not (2 <= f.distinct <= 20):
        return False
    return f.filled >= 3 * f.distinct and (f.longest or 0) <= 60


def separator(f: FieldEvidence) -> str | None:
    for sep in (";", ",", "|"):
        if any(sep in s for s in f.samples):
            return sep
    return None
