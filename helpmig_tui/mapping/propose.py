"""The built-in proposer: offline, deterministic, every proposal with a reason.

Evidence, strongest first: the record's structure (its key, its parent link), the
platform's default map (the seeds' tables), the field's name read against the words
helpdesks use for each Intercom field, and the values the audit sampled (type, fill,
distinct values, longest value). A standard field takes at most one source field per
object (tags excepted): the best claim wins and the others fall back to a custom
attribute, a note, a tag or skip.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from connectors.base import FieldType, ObjectRole
from helpmig_tui.mapping.defaults import (
    DefaultField,
    DefaultMap,
    DefaultMapError,
    DefaultObject,
    load_default_map,
    norm,
)
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence, SourceEvidence
from helpmig_tui.mapping.model import (
    AttributeTarget,
    AttributeType,
    ColumnTarget,
    FieldMap,
    FieldTarget,
    MigrationMap,
    NoteTarget,
    ObjectMap,
    ObjectOptions,
    SkipTarget,
    StandardTarget,
    TagTarget,
    target_problem,
)
from helpmig_tui.mapping.names import attribute_name, unique_name, words
from helpmig_tui.mapping.sniff import Sniffed, has_html, sniff
from helpmig_tui.mapping.standard import (
    ATTRIBUTE_MODEL,
    STANDARD_FIELDS,
    COLUMN_KINDS,
    NOTABLE,
    TAGGABLE,
    UNMAPPED_KINDS,
    StandardField,
    TargetKind,
    ValueType,
    standard_field,
)
from helpmig_tui.mapping.transforms import DateToUnix, HtmlToText, Join, Lookup, Split, Transform, Truncate, ValueMap
from helpmig_tui.mapping.value_maps import article_state_map, direction_map, flag_map, priority_map, state_map
from helpmig_tui.mapping.vocabulary import is_key_name, meaningful, name_matches, subject_words

Progress = Callable[[str, int, int], None]
K = TargetKind

ROLE_TARGET: dict[ObjectRole, TargetKind] = {
    ObjectRole.CONVERSATION: K.CONVERSATION,
    ObjectRole.PART: K.PART,
    ObjectRole.CONTACT: K.CONTACT,
    ObjectRole.AGENT: K.ADMIN,
    ObjectRole.COMPANY: K.COMPANY,
    ObjectRole.TEAM: K.TEAM,
    ObjectRole.KB_CATEGORY: K.COLLECTION,
    ObjectRole.ARTICLE: K.ARTICLE,
    ObjectRole.TAG: K.TAG,
    ObjectRole.LOOKUP: K.LOOKUP,
    ObjectRole.RECORD: K.CUSTOM_OBJECT,
    ObjectRole.INVENTORY: K.INVENTORY,
}
RECORD_CHOICES = [K.CUSTOM_OBJECT, K.CONVERSATION, K.CSV]
STRING_LIMIT = 255  # Intercom text attributes are cut at 255 characters (seeds; UNCERTAIN in the API docs)
TRUNCATED_TAG = "helpmig-truncated"
MULTI_VALUED = {"tags"}
SOFT_DEFAULT = 0.8  # a default entry standing in for its absent preferred field
MIN_SCORE = {"tags": 0.85}  # "asset_tag" is not a list of tags
NAME_PARTS = {"first", "given", "firstname", "forename", "last", "family", "surname", "lastname", "middle",
              "middlename", "patronymic"}
# Words of fields that describe the source system's own housekeeping, not the customer.
OPERATIONAL = {
    "password", "pwd", "salt", "hash", "login", "username", "locked", "lockout", "verified", "pinned", "idle",
    "deleted", "spam", "guid", "smtp", "modidate", "updated", "modified", "sort", "order", "archive", "merge",
}
KEY_REASON = {
    K.CONTACT: "the record key: becomes external_id and helpmig_source_id",
    K.COMPANY: "the record key: becomes company_id and helpmig_source_id",
    K.CONVERSATION: "the record key: becomes helpmig_source_id",
    K.CUSTOM_OBJECT: "the record key: becomes the instance's external_id",
    K.ADMIN: "the record key: references resolve through it; admins are matched by email or name",
    K.TEAM: "the record key: references resolve through it; teams are matched by name",
}
KEY_ELSE = "the record key: the journal tracks the record by it and references resolve through it"
_SINGLE = re.compile(r"s$")


@dataclass
class Proposal:
    """A candidate target for one field, with its evidence."""

    target: FieldTarget
    confidence: float
    reason: str
    transforms: list[Transform] = field(default_factory=list)

    @property
    def standard(self) -> str | None:
        return self.target.field if isinstance(self.target, StandardTarget) else None


@dataclass
class _Context:
    """What a field proposal may consult: the whole source and the object maps."""

    evidence: SourceEvidence
    defaults: DefaultMap | None
    objects: dict[str, ObjectMap]
    prefix: str
    attribute_types: dict[str, dict[str, str]] = field(default_factory=dict)  # model -> name -> data type

    def objects_of(self, kinds: tuple[TargetKind, ...]) -> list[str]:
        return [name for name, om in self.objects.items() if om.target in kinds]

    def values_of(self, obj: str, fname: str) -> list[str]:
        ev = self.evidence.object(obj)
        f = ev.field(fname) if ev else None
        return _values(f) if f else []


def _values(f: FieldEvidence) -> list[str]:
    """The distinct values the audit saw (the whole domain when small, else samples)."""
    if f.top_values:
        return [v for v, _ in f.top_values if v.strip()]
    if f.options:
        return list(f.options)
    return [s for s in f.samples if s.strip()]


def _label(defaults: DefaultMap | None, platform: str) -> str:
    return defaults.label if defaults else platform


# -- objects ------------------------------------------------------------------------


def _camel(name: str) -> str:
    parts = words(name)
    if parts:
        parts[-1] = _SINGLE.sub("", parts[-1]) if len(parts[-1]) > 3 else parts[-1]
    return "".join(p.capitalize() for p in parts) or "Record"


def _kind_options(kind: TargetKind, ev: ObjectEvidence, options: ObjectOptions) -> ObjectOptions:
    """Fill the options a kind needs that the default map did not give."""
    data = options.model_dump()
    if kind is K.CONVERSATION:
        data["channel"] = data["channel"] or "email"
        data["parts_over_500"] = data["parts_over_500"] or "split"
    elif kind is K.PART and data["part_type"] is None:
        noteish = {"note", "notes", "comment", "comments", "private", "internal", "worknote"} & set(words(ev.name))
        data["part_type"] = "note" if noteish and "comment" not in words(ev.name) else "comment"
    elif kind is K.CUSTOM_OBJECT:
        data["custom_object_type"] = data["custom_object_type"] or _camel(ev.name)
    return ObjectOptions.model_validate(data)


def propose_object(ev: ObjectEvidence, defaults: DefaultMap | None, platform: str,
                   target: TargetKind | None = None) -> ObjectMap:
    """What a source object becomes: the default map's entry, else its role's kind."""
    hit = defaults.find_object(ev.name, ev.role) if defaults else None
    label = _label(defaults, platform)
    if hit is not None:
        key, entry = hit
        by_name = key == ev.name or ev.name.casefold() in (a.casefold() for a in entry.aliases) or \
            "".join(words(key)) == "".join(words(ev.name))
        chosen = target or entry.target
        confidence = 0.95 if by_name else 0.8
        if entry.role is not ev.role:
            confidence = 0.6
        what = entry.seed or entry.reason or f"{entry.role.value} -> {entry.target.value}"
        reason = f"{label} default map{'' if by_name else f' (as {key})'}: {what}"
        if chosen is not entry.target:
            reason = f"chosen by the operator instead of {entry.target.value}; {reason}"
            confidence = 1.0
        options = entry.options if chosen is entry.target else ObjectOptions()
        choices = list(entry.choices) or ([*RECORD_CHOICES] if ev.role is ObjectRole.RECORD else [entry.target])
    else:
        chosen = target or ROLE_TARGET[ev.role]
        confidence = 1.0 if target else 0.75
        reason = f"a {ev.role.value} object becomes {chosen.value}" + ("" if target else " (no default entry)")
        options = ObjectOptions()
        choices = [*RECORD_CHOICES] if ev.role is ObjectRole.RECORD else [ROLE_TARGET[ev.role]]
    return ObjectMap(
        object=ev.name, target=chosen, options=_kind_options(chosen, ev, options), choices=choices,
        role=ev.role.value, label=ev.label, parent=ev.parent, confidence=confidence, reason=reason,
    )


# -- fields: checks -----------------------------------------------------------------


def _looks(f: FieldEvidence) -> Sniffed:
    return sniff(f.samples or tuple(v for v, _ in f.top_values))


def _is_html(f: FieldEvidence, s: Sniffed) -> bool:
    return f.type is FieldType.HTML or s.kind == "html" or has_html(f.samples)


def _date_transform(f: FieldEvidence, s: Sniffed) -> list[Transform]:
    """A date transform when the values are text dates; none for real datetimes."""
    if f.type in (FieldType.DATETIME, FieldType.DATE):
        return []
    if s.kind in ("date", "datetime"):
        return [DateToUnix(formats=[s.date_format] if s.date_format else [])]
    return []


def _fits(std: StandardField, f: FieldEvidence, s: Sniffed) -> tuple[bool, float, str]:
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
    if v in (ValueType.STRING, ValueType.TEXT, ValueType.HTML):
        if t in (FieldType.DATETIME, FieldType.DATE, FieldType.BOOLEAN) or s.is_("datetime") or s.is_("boolean"):
            return False, 0, "values are not text"
        if v is ValueType.STRING and (f.longest or 0) > 1000:
            return True, -0.1, "long values for a short field"
        if v in (ValueType.TEXT, ValueType.HTML) and t in (FieldType.TEXT, FieldType.HTML):
            return True, 0.05, "a long text field"
        return True, 0.0, ""
    if v is ValueType.LIST:
        return t in (FieldType.LIST, FieldType.STRING, FieldType.OPTIONS), 0.0, ""
    return True, 0.0, ""


def _state_transforms(ctx: _Context, obj: str, f: FieldEvidence, kind: TargetKind, std: str,
                      pre: list[Transform]) -> tuple[list[Transform], float, str]:
    """Value map for an OPTIONS standard field: (transforms, adjustment, evidence)."""
    values = _lookup_values(ctx, pre) or _values(f)
    fwords = meaningful(f.name, f.label)
    vm: ValueMap | None = None
    if kind is K.CONVERSATION and std == "state":
        vm, unknown = state_map(values)
        if vm is None:
            return [], -0.3, "no status names the rules can read: map them by hand"
        note = f"{len(vm.mapping)} status values → open/closed"
        if unknown:
            return [vm], -0.15, note + f"; not recognised: {', '.join(unknown[:3])}"
        return [vm], 0.05, note
    if kind is K.PART and std == "direction":
        if {"private", "internal", "hidden"} & set(fwords):
            vm = flag_map(values or ["true", "false"], "note", None)
        elif {"public", "visible"} & set(fwords):
            vm = flag_map(values or ["true", "false"], None, "note")
        else:
            vm = direction_map(values)
        if vm is None:
            return [], -0.3, "values do not say customer, agent or note"
        return [vm], 0.0, "values → " + "/".join(sorted({x for x in vm.mapping.values() if x}))
    if kind is K.ARTICLE and std == "state":
        vm = article_state_map(fwords, values)
        if vm is None:
            return [], -0.3, "values do not say published or draft"
        return [vm], 0.0, "values → published/draft"
    return [], -0.2, ""


def _lookup_values(ctx: _Context, transforms: list[Transform]) -> list[str]:
    for t in transforms:
        if isinstance(t, Lookup):
            return ctx.values_of(t.object, t.field)
    return []


def _reference(ctx: _Context, std: StandardField, f: FieldEvidence, s: Sniffed) -> tuple[StandardTarget, float, str] | None:
    """How a reference field points at its record: by key, email or name."""
    kinds = std.refers_to
    candidates = ctx.objects_of(kinds)
    refers = candidates[0] if len(candidates) == 1 else None
    if f.references:
        om = ctx.objects.get(f.references)
        if om is not None and om.target in kinds:
            return StandardTarget(field=std.name, refers_to=f.references), 0.95, \
                f"it points at {f.references} ({om.target.value})"
        if om is not None and refers is not None:
            return StandardTarget(field=std.name, refers_to=refers), -0.05, \
                f"it points at {f.references}; {kinds[0].value}s are matched among {refers}"
        if om is not None:
            return None
    if f.type is FieldType.EMAIL or s.is_("email"):
        return StandardTarget(field=std.name, refers_to=refers, match="email"), 0.03, "values are email addresses"
    if s.is_("person", 0.6):
        return StandardTarget(field=std.name, refers_to=refers, match="name"), -0.05, "values are names"
    if is_key_name(f.name) or s.kind in ("integer", "uuid") or f.type is FieldType.INTEGER:
        return StandardTarget(field=std.name, refers_to=refers), 0.0, "values are keys"
    if s.count == 0:
        return StandardTarget(field=std.name, refers_to=refers), -0.1, "no values to check"
    if std.name in ("team", "company", "collection") and s.kind in ("text", "person"):
        return StandardTarget(field=std.name, refers_to=refers, match="name"), -0.05, "values are names"
    return None


# -- fields: candidates --------------------------------------------------------------


def _from_default(ctx: _Context, obj: ObjectEvidence, kind: TargetKind, f: FieldEvidence,
                  entry: DefaultField) -> Proposal | None:
    target = entry.target()
    if target_problem(kind, target) is not None:
        return None
    label = _label(ctx.defaults, ctx.evidence.platform)
    preferred = next((x.name for x in obj.fields for name in entry.yield_to if norm(x.name) == norm(name)), None)
    if preferred is not None:
        return Proposal(SkipTarget(), 0.95, f"{label} default map: {preferred} is preferred for "
                                            f"{target.describe()}" + (f" ({entry.reason})" if entry.reason else ""))
    s = _looks(f)
    transforms: list[Transform] = list(entry.transforms)
    confidence = 0.95
    notes: list[str] = []
    if isinstance(target, StandardTarget):
        std = standard_field(kind, target.field)
        assert std is not None
        if std.value is not ValueType.REFERENCE and not entry.value_map and not transforms:
            ok, _, why = _fits(std, f, s)
            if not ok:
                confidence, notes = 0.6, [f"but {why}"]
        if std.value is ValueType.DATETIME:
            transforms = [t for t in transforms if not isinstance(t, DateToUnix)] + _date_transform(f, s) \
                if not any(isinstance(t, DateToUnix) for t in transforms) else transforms
        if std.value is ValueType.TEXT and _is_html(f, s) and not any(isinstance(t, HtmlToText) for t in transforms):
            transforms.insert(0, HtmlToText())
    elif isinstance(target, AttributeTarget):
        if entry.type is None:
            looked_up = next((t for t in transforms if isinstance(t, Lookup)), None)
            source = f
            if looked_up is not None:
                lookup_obj = ctx.evidence.object(looked_up.object)
                source = (lookup_obj.field(looked_up.field) if lookup_obj else None) or \
                    FieldEvidence(looked_up.field)
            target = target.model_copy(update={"data_type": _attribute_type(source, _looks(source))})
        target, transforms, extra = _attribute_checks(ctx, obj, kind, f, s, target, transforms)
        if extra:
            confidence, notes = 0.75, [extra]
    if entry.value_map is not None:
        vm, unknown = _family_map(ctx, f, entry, transforms)
        if vm is not None:
            transforms.append(vm)
        elif entry.value_map == "state":
            confidence, notes = 0.5, ["no status values the rules can read: map them by hand"]
        if unknown:
            confidence, notes = min(confidence, 0.8), notes + [f"not recognised: {', '.join(unknown[:3])}"]
    why = entry.reason or f"{f.name} → {kind.value} {target.describe()}"
    return Proposal(target, confidence, f"{label} default map: {why}" + (f"; {'; '.join(notes)}" if notes else ""),
                    transforms)


def _family_map(ctx: _Context, f: FieldEvidence, entry: DefaultField,
                transforms: list[Transform]) -> tuple[ValueMap | None, list[str]]:
    """The default entry's value map: as given, or built from the values (and the values
    no rule could read)."""
    if isinstance(entry.value_map, dict):
        return ValueMap(mapping=entry.value_map, default=entry.default), []
    values = _lookup_values(ctx, transforms) or _values(f)
    unknown: list[str] = []
    if entry.value_map == "state":
        vm, unknown = state_map(values)
    else:
        vm = priority_map(values)
    if vm is not None and entry.default is not None:
        vm = ValueMap(mapping=vm.mapping, default=entry.default)
        unknown = []
    return vm, unknown


def _attribute_checks(ctx: _Context, obj: ObjectEvidence, kind: TargetKind, f: FieldEvidence, s: Sniffed,
                      target: AttributeTarget, transforms: list[Transform]) -> tuple[AttributeTarget, list[Transform], str]:
    """Adjust a default attribute to the values seen: its type, dates, HTML, length."""
    extra = ""
    sniffed_type = _attribute_type(f, s)
    if target.data_type in ("integer", "float", "boolean", "datetime", "date") and s.count and \
            sniffed_type not in (target.data_type, "integer" if target.data_type == "float" else ""):
        compatible = (target.data_type, sniffed_type) in {("datetime", "date"), ("date", "datetime"), ("float", "integer")}
        if not compatible and f.type not in (FieldType.INTEGER, FieldType.FLOAT, FieldType.DATETIME, FieldType.DATE,
                                             FieldType.BOOLEAN):
            extra = f"values look {sniffed_type}, not {target.data_type}: kept as text"
            target = target.model_copy(update={"data_type": "string"})
    if target.data_type in ("datetime", "date") and not any(isinstance(t, DateToUnix) for t in transforms):
        transforms = transforms + _date_transform(f, s)
    if _is_html(f, s) and not any(isinstance(t, HtmlToText) for t in transforms):
        transforms = [HtmlToText(), *transforms]
    if target.data_type == "string" and (f.longest or 0) > STRING_LIMIT and \
            not any(isinstance(t, Truncate) for t in transforms):
        transforms = transforms + [_truncate(kind)]
    return _register(ctx, kind, obj, target), transforms, extra


def _truncate(kind: TargetKind) -> Truncate:
    return Truncate(max_length=STRING_LIMIT, tag=TRUNCATED_TAG if kind in TAGGABLE else None)


def _register(ctx: _Context, kind: TargetKind, obj: ObjectEvidence, target: AttributeTarget) -> AttributeTarget:
    """Keep attribute names unique per model, unless the same name means the same type."""
    model = ATTRIBUTE_MODEL[kind]
    if kind is K.CUSTOM_OBJECT:
        model = f"custom_object:{ctx.objects[obj.name].options.custom_object_type}"
    taken = ctx.attribute_types.setdefault(model, {})
    name = target.name
    if name in taken and taken[name] != target.data_type:
        name = unique_name(name, set(taken))
        target = target.model_copy(update={"name": name})
    taken[name] = target.data_type
    return target


def _attribute_type(f: FieldEvidence, s: Sniffed) -> AttributeType:
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
    if _small_domain(f, s):
        return "options"
    return "string"


def _small_domain(f: FieldEvidence, s: Sniffed) -> bool:
    """A handful of short values repeated across many records: a pick list."""
    if f.type not in (FieldType.STRING, FieldType.OPTIONS) or s.kind not in ("text", "person", "empty"):
        return False
    if f.distinct is None or f.filled is None or not (2 <= f.distinct <= 20):
        return False
    return f.filled >= 3 * f.distinct and (f.longest or 0) <= 60


def _standard_candidates(ctx: _Context, obj: ObjectEvidence, kind: TargetKind, f: FieldEvidence) -> list[Proposal]:
    """Standard fields this field could fill, each with its confidence and evidence."""
    s = _looks(f)
    out: list[Proposal] = []
    matches = {m.field: m for m in name_matches(kind, f.name, f.label)}
    for m in name_matches(kind, f.name, subject=True):
        std = standard_field(kind, m.field)
        if std is not None and std.value is ValueType.REFERENCE and m.score > matches.get(m.field, m).score - 1e-9:
            matches[m.field] = m
    om = ctx.objects[obj.name]
    structural: dict[str, tuple[float, str]] = {}
    if f.name == obj.created_field:
        created = {K.CONVERSATION: "created_at", K.PART: "created_at", K.CONTACT: "signed_up_at",
                   K.COMPANY: "remote_created_at", K.CUSTOM_OBJECT: "external_created_at"}.get(kind)
        if created:
            structural[created] = (0.94, "the connector marks it as the creation time")
    if f.name == obj.updated_field and kind is K.CUSTOM_OBJECT:
        structural["external_updated_at"] = (0.94, "the connector marks it as the last change")
    if f.references and f.references in ctx.objects:
        ref_kind = ctx.objects[f.references].target
        for std in standard_fields_referring(kind, ref_kind):
            structural.setdefault(std, (0.85, f"it points at {f.references} ({ref_kind.value})"))
    for name in sorted({*matches, *structural}):
        std = standard_field(kind, name)
        if std is None or std.value is ValueType.OPTIONS and name == "role":
            continue
        if name == "name" and NAME_PARTS & set(words(f.name)):
            continue  # a first or last name is not the full name
        base, why, cap = 0.0, "", 0.93
        if name in matches:
            base, why = matches[name].score, matches[name].why(f.name)
            if base < MIN_SCORE.get(name, 0.0):
                continue
        if name in structural:
            if structural[name][0] > base:
                base, why = structural[name]
            if name in matches:
                base += 0.04  # the name and the structure agree
            cap = 0.95
        transforms: list[Transform] = []
        target: FieldTarget = StandardTarget(field=name)
        if std.value is ValueType.REFERENCE:
            ref = _reference(ctx, std, f, s)
            if ref is None:
                continue
            target, adj, evid = ref
            base = max(base, adj) if adj >= 0.85 else base + adj
            why = f"{why}; {evid}" if evid and evid not in why else why
        elif std.value is ValueType.OPTIONS:
            transforms, adj, evid = _state_transforms(ctx, obj.name, f, kind, name, [])
            base += adj
            why = f"{why}; {evid}" if evid else why
        else:
            ok, adj, evid = _fits(std, f, s)
            if not ok:
                continue
            base += adj
            why = f"{why}; {evid}" if evid else why
            if std.value is ValueType.DATETIME:
                transforms = _date_transform(f, s)
            elif std.value is ValueType.TEXT and _is_html(f, s):
                transforms = [HtmlToText()]
            elif std.value is ValueType.LIST and f.type is not FieldType.LIST:
                sep = _separator(f)
                transforms = [Split(separator=sep)] if sep else []
        out.append(Proposal(target, round(min(base, cap), 3), why.strip("; "), transforms))
    return sorted(out, key=lambda p: -p.confidence)


def standard_fields_referring(kind: TargetKind, ref_kind: TargetKind) -> list[str]:
    return [f.name for f in STANDARD_FIELDS.get(kind, ()) if ref_kind in f.refers_to]


def _separator(f: FieldEvidence) -> str | None:
    for sep in (";", ",", "|"):
        if any(sep in s for s in f.samples):
            return sep
    return None


def _fallback(ctx: _Context, obj: ObjectEvidence, kind: TargetKind, f: FieldEvidence) -> Proposal:
    """Where a field goes when no standard field takes it."""
    s = _looks(f)
    fill = obj.fill_rate(f)
    custom = f.custom or (words(f.name)[:1] in (["cf"], ["custom"], ["udf"]))
    fill_note = f"; filled in {fill:.0%} of records" if fill is not None and fill < 0.05 else ""
    if kind not in ATTRIBUTE_MODEL and kind not in NOTABLE:
        return Proposal(SkipTarget(), 0.8, f"{kind.value} records have no custom attributes")
    if f.type is FieldType.JSON or (kind in NOTABLE and (f.type in (FieldType.TEXT, FieldType.HTML) or
                                                        _is_html(f, s) or (f.longest or 0) > STRING_LIMIT)):
        if kind in NOTABLE:
            label = f.label or " ".join(words(f.name)).capitalize()
            transforms: list[Transform] = [HtmlToText()] if _is_html(f, s) else []
            why = "long text" if f.type is not FieldType.JSON else "structured data"
            return Proposal(NoteTarget(label=label), 0.7, f"{why}: kept as a note line{fill_note}", transforms)
    if f.type is FieldType.LIST:
        if kind in TAGGABLE and {"tag", "tags", "label", "labels", "keyword", "keywords"} & set(words(f.name)):
            return Proposal(TagTarget(), 0.75, "a list of labels: each becomes a tag")
        return Proposal(SkipTarget(), 0.6, "a list of keys (files, links): moved separately or not at all")
    if obj.field(f"{f.name}_name"):
        return Proposal(SkipTarget(), 0.8, f"a key into {f.references or 'a lookup'}; {f.name}_name carries the value")
    if f.distinct == 1 and obj.count and (f.filled or 0) >= obj.count > 1:
        value = f.top_values[0][0] if f.top_values else (f.samples[0] if f.samples else "")
        return Proposal(SkipTarget(), 0.7, f"the same value ({value}) in every record: nothing to keep")
    operational = OPERATIONAL & set(words(f.name))
    if operational and not custom:
        return Proposal(SkipTarget(), 0.65, f"operational data of the source ({', '.join(sorted(operational))}), not customer data")
    data_type = _attribute_type(f, s)
    transforms = []
    if data_type in ("datetime", "date"):
        transforms = _date_transform(f, s)
    if _is_html(f, s):
        transforms = [HtmlToText()]
    if data_type == "string" and (f.longest or 0) > STRING_LIMIT:
        transforms.append(_truncate(kind))
    base = f.name[: -len("_name")] if f.name.endswith("_name") and obj.field(f.name[: -len("_name")]) else f.name
    target = _register(ctx, kind, obj, AttributeTarget(name=attribute_name(base, ctx.prefix), data_type=data_type))
    evidence = {"options": f"{f.distinct} distinct values", "string": "text values"}.get(
        data_type, f"values are {data_type}s" if s.count else f"declared {f.type.value}")
    if custom:
        return Proposal(target, 0.85, f"a custom field becomes a custom attribute; {evidence}{fill_note}", transforms)
    return Proposal(target, 0.6 if not fill_note else 0.5,
                    f"no standard Intercom field matches: kept as an attribute; {evidence}{fill_note}", transforms)


# -- fields: assembly ---------------------------------------------------------------


def propose_fields(ctx: _Context, obj: ObjectEvidence) -> list[FieldMap]:
    om = ctx.objects[obj.name]
    kind = om.target
    if kind in UNMAPPED_KINDS:
        return []
    entry = _default_entry(ctx, obj, kind)
    chosen: dict[str, Proposal] = {}
    soft: dict[str, Proposal] = {}
    pending: list[FieldEvidence] = []
    for f in obj.fields:
        if kind in COLUMN_KINDS:
            what = "supplementary CSV" if kind is K.CSV else "rebuild inventory"
            chosen[f.name] = Proposal(ColumnTarget(name=f.name), 0.95, f"every field is a column of the {what}")
        elif f.name == obj.parent_field:
            chosen[f.name] = Proposal(SkipTarget(), 0.99, f"links the record to its {obj.parent or 'parent'}")
        elif f.name == obj.key and (entry is None or entry.find_field(f.name) is None) and _key_like(f):
            chosen[f.name] = Proposal(SkipTarget(), 0.99, KEY_REASON.get(kind, KEY_ELSE))
        elif entry is not None and (d := entry.find_field(f.name)) is not None and \
                (p := _from_default(ctx, obj, kind, f, d)) is not None:
            if d.yield_to and p.standard:  # its preferred field is absent: a claim like any other
                soft[f.name] = Proposal(p.target, SOFT_DEFAULT, p.reason + "; its preferred field is absent",
                                        p.transforms)
                pending.append(f)
            else:
                chosen[f.name] = p
        elif f.filled == 0 and obj.count:
            chosen[f.name] = Proposal(SkipTarget(), 0.85, f"empty in all {obj.count:,} records")
        else:
            pending.append(f)
    _settle_conflicts(ctx, obj, kind, chosen)
    _join_names(ctx, obj, kind, chosen, pending)
    taken = {p.standard for p in chosen.values() if p.standard and p.standard not in MULTI_VALUED}
    claims = [(p, f) for f in pending for p in _standard_candidates(ctx, obj, kind, f)]
    claims += [(soft[f.name], f) for f in pending if f.name in soft]
    for proposal, f in sorted(claims, key=lambda pf: -pf[0].confidence):
        if f.name in chosen or (proposal.standard in taken and proposal.standard not in MULTI_VALUED):
            continue
        if proposal.confidence < 0.55:
            continue
        chosen[f.name] = proposal
        taken.add(proposal.standard)
    _skip_name_parts(obj, kind, chosen)
    for f in pending:
        if f.name not in chosen:
            chosen[f.name] = _duplicate_of_reference(obj, f, chosen) or _fallback(ctx, obj, kind, f)
    if kind is K.CONVERSATION and "contact" not in taken and om.role == ObjectRole.RECORD.value \
            and not om.options.placeholder_contact:
        ctx.objects[obj.name] = om.model_copy(update={"options": om.options.model_copy(
            update={"placeholder_contact": f"{obj.name.replace('_', '-')}@helpmig.invalid"})})
    return [
        FieldMap(object=obj.name, field=f.name, target=chosen[f.name].target, transforms=chosen[f.name].transforms,
                 confidence=round(chosen[f.name].confidence, 2), reason=chosen[f.name].reason,
                 samples=[str(s)[:80] for s in f.samples[:3]])
        for f in obj.fields
    ]


def _key_like(f: FieldEvidence) -> bool:
    """A record key that is only a key (an id), not a name that doubles as the key."""
    s = _looks(f)
    return is_key_name(f.name) or words(f.name)[-1:] in (["id"], ["uuid"], ["key"], ["number"], ["num"]) or \
        s.kind in ("integer", "uuid", "empty") or f.type is FieldType.INTEGER or not s.is_("text", 0.5)


def _default_entry(ctx: _Context, obj: ObjectEvidence, kind: TargetKind) -> DefaultObject | None:
    if ctx.defaults is None:
        return None
    hit = ctx.defaults.find_object(obj.name, obj.role)
    if hit is None or hit[1].target is not kind:
        return None
    return hit[1]


def _settle_conflicts(ctx: _Context, obj: ObjectEvidence, kind: TargetKind, chosen: dict[str, Proposal]) -> None:
    """Two default entries claiming one standard field (Status and TicketStatusId): the
    first field of the source keeps it, the other falls back."""
    seen: set[str] = set()
    for f in obj.fields:
        p = chosen.get(f.name)
        if p is None or p.standard is None or p.standard in MULTI_VALUED:
            continue
        if p.standard in seen:
            fb = _fallback(ctx, obj, kind, f)
            chosen[f.name] = Proposal(fb.target, 0.6, f"{p.standard} already comes from another field; {fb.reason}",
                                      fb.transforms)
        seen.add(p.standard)


def _join_names(ctx: _Context, obj: ObjectEvidence, kind: TargetKind, chosen: dict[str, Proposal],
                pending: list[FieldEvidence]) -> None:
    """First and last name fields and nothing that reads as a full name: join them."""
    if kind not in (K.CONTACT, K.ADMIN) or any(p.standard == "name" for p in chosen.values()):
        return
    for f in pending:
        full = next((m for m in name_matches(kind, f.name, f.label) if m.field == "name"), None)
        if full is not None and full.score >= 0.85 and not NAME_PARTS & set(words(f.name)):
            return
    first = next((f for f in pending if {"first", "given", "firstname", "forename"} & set(words(f.name))), None)
    last = next((f for f in pending if {"last", "family", "surname", "lastname"} & set(words(f.name))), None)
    if first and last:
        chosen[first.name] = Proposal(StandardTarget(field="name"), 0.85,
                                      f"first and last name joined into the name ({first.name} + {last.name})",
                                      [Join(fields=[last.name])])
        chosen[last.name] = Proposal(SkipTarget(), 0.85, f"joined into the name after {first.name}")


def _skip_name_parts(obj: ObjectEvidence, kind: TargetKind, chosen: dict[str, Proposal]) -> None:
    """With a full name mapped, first, middle and last names have nothing to add."""
    if kind not in (K.CONTACT, K.ADMIN):
        return
    full = next((name for name, p in chosen.items() if p.standard == "name"), None)
    if full is None:
        return
    for f in obj.fields:
        if f.name not in chosen and NAME_PARTS & set(words(f.name)):
            chosen[f.name] = Proposal(SkipTarget(), 0.8, f"the full name comes from {full}")


def _duplicate_of_reference(obj: ObjectEvidence, f: FieldEvidence, chosen: dict[str, Proposal]) -> Proposal | None:
    """requester_name beside requester_id -> contact: the contact already carries it.

    The reference whose words are the longest prefix of this field's words wins, so
    client_ou_name follows client_ou (the company), not client (the contact)."""
    own = subject_words(f.name)
    best: tuple[int, str, str] | None = None
    for other, p in chosen.items():
        if other == f.name or not isinstance(p.target, StandardTarget) or p.target.field not in REFERENCE_WORDS:
            continue
        theirs = subject_words(other)
        if theirs and own[: len(theirs)] == theirs and (best is None or len(theirs) > best[0]):
            best = (len(theirs), other, p.target.field)
    if best is None:
        return None
    _, other, std = best
    return Proposal(SkipTarget(), 0.8, f"{REFERENCE_WORDS[std]} comes from {other}, which carries this too")


REFERENCE_WORDS = {"contact": "the contact", "assignee": "the assignee", "team": "the team", "company": "the company",
                   "author": "the author", "owner": "the owner", "collection": "the collection"}


# -- the whole map ------------------------------------------------------------------


def _defaults_for(platform: str, use_defaults: bool) -> DefaultMap | None:
    if not use_defaults:
        return None
    try:
        return load_default_map(platform)
    except DefaultMapError:
        return None


def propose_map(
    evidence: SourceEvidence,
    *,
    use_defaults: bool = True,
    targets: Mapping[str, TargetKind] | None = None,
    progress: Progress | None = None,
) -> MigrationMap:
    """A complete proposal for every object and field of the source.

    `targets` overrides object targets (the operator's choice for a RECORD object);
    `use_defaults=False` proposes from names and values alone (the benchmark's control).
    """
    defaults = _defaults_for(evidence.platform, use_defaults)
    targets = targets or {}
    objects = {ev.name: propose_object(ev, defaults, evidence.platform, targets.get(ev.name))
               for ev in evidence.objects}
    prefix = defaults.attribute_prefix if defaults else evidence.platform.split("-")[0]
    ctx = _Context(evidence, defaults, objects, prefix)
    fields: list[FieldMap] = []
    total = len(evidence.objects)
    for done, ev in enumerate(evidence.objects, start=1):
        if progress:
            progress(f"proposing {ev.label or ev.name}", done - 1, total)
        fields.extend(propose_fields(ctx, ev))
    if progress:
        progress("proposal ready", total, total)
    timezone = evidence.timezone if evidence.timezone != "UTC" or defaults is None else defaults.timezone
    return MigrationMap(platform=evidence.platform, timezone=timezone, proposer="builtin",
                        objects=[ctx.objects[ev.name] for ev in evidence.objects], fields=fields)
