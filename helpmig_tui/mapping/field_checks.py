"""What a field's values say: does it fit a standard field, which attribute type is it,
is it HTML, a text date, a pick list, a key, housekeeping? Pure functions of the evidence.

Values decide; the declared type is a weak prior. A column declared TEXT holding five
repeated words is a pick list, one declared VARCHAR holding dates is a date.
"""

from __future__ import annotations

from functools import lru_cache

from connectors.base import FieldType
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence
from helpmig_tui.mapping.model import AttributeType
from helpmig_tui.mapping.sniff import Shape, Sniffed, has_html, shape, sniff
from helpmig_tui.mapping.standard import StandardField, ValueType
from helpmig_tui.mapping.transforms import DateToUnix, Transform
from helpmig_tui.mapping.vocabulary import meaningful

STRING_LIMIT = 255  # Intercom text attributes are cut at 255 characters (seeds; UNCERTAIN in the API docs)
TYPED = {FieldType.INTEGER: "integer", FieldType.FLOAT: "float", FieldType.BOOLEAN: "boolean",
         FieldType.DATETIME: "datetime", FieldType.DATE: "date"}
BY_VALUES: dict[str, AttributeType] = {"integer": "integer", "float": "float", "boolean": "boolean",
                                       "datetime": "datetime", "date": "date"}
# Names of the source system's own bookkeeping: synchronisation, versions, hashes.
HOUSEKEEPING = {"sync", "synced", "hash", "checksum", "etag", "rowversion", "version", "import", "batch", "tmp",
                "temp", "filler", "unused", "dummy", "placeholder", "guid", "token"}


@lru_cache(maxsize=8192)
def looks(f: FieldEvidence) -> Sniffed:
    return sniff(f.samples or tuple(v for v, _ in f.top_values))


@lru_cache(maxsize=8192)
def shape_of(f: FieldEvidence, count: int | None) -> Shape:
    """The column's shape; asked many times per field while proposing, so remembered."""
    return shape(f.samples, f.top_values, filled=f.filled, count=count, distinct=f.distinct, longest=f.longest)


def is_empty(f: FieldEvidence, obj: ObjectEvidence) -> bool:
    """No value in any record the audit counted (unknown when it did not profile)."""
    return f.filled == 0 and bool(obj.count)


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
        if t in (FieldType.DATETIME, FieldType.DATE) and s.kind not in ("integer", "text", "code", "prose"):
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
        if s.count == 0:
            return True, -0.1, ""
        return False, 0, f"values do not look like {'web addresses' if want == 'url' else 'phone numbers'}"
    if v in (ValueType.STRING, ValueType.TEXT, ValueType.HTML, ValueType.MESSAGE):
        if t in (FieldType.DATETIME, FieldType.DATE, FieldType.BOOLEAN) or \
                s.kind in ("datetime", "date", "boolean", "email", "phone", "uuid", "hex", "integer", "float") and s.share >= 0.8:
            return False, 0, "values are not text"
        if v is ValueType.STRING and (f.longest or 0) > 1000:
            return True, -0.1, "long values for a short field"
        if v in (ValueType.TEXT, ValueType.HTML, ValueType.MESSAGE) and t in (FieldType.TEXT, FieldType.HTML):
            return True, 0.05, "a long text field"
        return True, 0.0, ""
    if v is ValueType.LIST:
        return t in (FieldType.LIST, FieldType.STRING, FieldType.OPTIONS), 0.0, ""
    return True, 0.0, ""


def value_evidence(std: StandardField, f: FieldEvidence, sh: Shape) -> str | None:
    """What in the values says the field fills this standard field; None when they do not
    say it (no values, or values of another kind). References and option fields are
    checked where their value maps and referenced records are known."""
    s = sh.values
    if not sh.seen or sh.kind == "constant":
        return None
    v = std.value
    if v is ValueType.DATETIME:
        return "values are dates" if s.kind in ("date", "datetime") or f.type in (FieldType.DATETIME, FieldType.DATE) \
            and s.kind not in ("integer", "text", "code", "prose") else None
    if v is ValueType.EMAIL:
        return "values are email addresses" if s.is_("email") else None
    if v is ValueType.PHONE:
        return "values are phone numbers" if s.is_("phone", 0.6) else None
    if v is ValueType.URL:
        return "values are web addresses" if s.is_("url", 0.6) else None
    if v in (ValueType.INTEGER,):
        return "values are numbers" if s.kind in ("integer", "float") else None
    if v is ValueType.BOOLEAN:
        return "yes/no values" if s.is_("boolean") else None
    if v in (ValueType.TEXT, ValueType.HTML, ValueType.MESSAGE):
        return "values are text" if s.kind in ("prose", "text", "html", "person") or is_html(f, s) else None
    if v is ValueType.STRING:
        if s.kind not in ("prose", "text", "person", "code", "html"):
            return None
        if std.name in ("title",) and sh.kind == "enum":
            return None  # a pick list is not a subject line
        if std.name == "name" and s.kind == "code":
            return None
        return "values are text"
    return None


def attribute_type(f: FieldEvidence, sh: Shape) -> AttributeType:
    """The attribute type the values need: values decide, the declared type breaks ties."""
    sniffed = sh.values
    if f.type in TYPED:
        declared: AttributeType = TYPED[f.type]  # type: ignore[assignment]
        by_values = BY_VALUES.get(sniffed.kind)
        if sniffed.count and sniffed.share >= 0.8 and by_values and by_values != declared and \
                {declared, by_values} <= {"integer", "float"}:
            return "float"
        return declared
    if sniffed.count and sniffed.share >= 0.8 and sniffed.kind in BY_VALUES:
        return BY_VALUES[sniffed.kind]
    if sh.kind == "enum":
        return "options"
    if sh.kind == "constant" and sh.labelish and len(sh.constant or "") <= 40:
        return "options"  # one label in every record: a pick list that happens to have one value here
    if f.type is FieldType.OPTIONS and sniffed.kind not in ("prose", "html"):
        return "options"
    return "string"


def housekeeping(f: FieldEvidence, sh: Shape) -> str | None:
    """Why a field is the source system's own bookkeeping, or None: identifiers of another
    system (GUIDs, hashes), synchronisation stamps, row versions."""
    found = set(meaningful(f.name, f.label))
    named = sorted(found & HOUSEKEEPING)
    if sh.values.kind in ("uuid", "hex") and sh.values.share >= 0.8:
        return "values are identifiers or hashes of another system"
    if named and (sh.values.kind in ("datetime", "date", "integer", "code", "uuid", "hex") or sh.kind in ("constant", "empty")):
        return f"bookkeeping of the source ({', '.join(named)})"
    return None


def is_prose(f: FieldEvidence, sh: Shape) -> bool:
    """Free text people wrote: sentences, HTML, or text too long for an attribute."""
    s = sh.values
    return s.kind in ("prose", "html") or (s.kind == "text" and (f.longest or 0) > STRING_LIMIT) or \
        (f.type in (FieldType.TEXT, FieldType.HTML) and not sh.seen and sh.kind != "empty")


def separator(f: FieldEvidence) -> str | None:
    for sep in (";", ",", "|"):
        if any(sep in s for s in f.samples):
            return sep
    return None
