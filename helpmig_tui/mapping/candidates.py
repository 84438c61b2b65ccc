"""Candidate targets for one field, each with its confidence and its reason: from the
default map, from the name and the structure (standard fields), or the fallback
(a custom attribute, a note, a tag, skip)."""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.base import FieldType
from helpmig_tui.mapping.defaults import DefaultField, DefaultMap, norm
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence, SourceEvidence
from helpmig_tui.mapping.field_checks import attribute_type, date_transform, fits, is_html, looks, separator
from helpmig_tui.mapping.model import (
    AttributeTarget,
    FieldTarget,
    NoteTarget,
    ObjectMap,
    SkipTarget,
    StandardTarget,
    TagTarget,
    target_problem,
)
from helpmig_tui.mapping.names import attribute_name, unique_name, words
from helpmig_tui.mapping.sniff import Sniffed
from helpmig_tui.mapping.standard import (
    ATTRIBUTE_MODEL,
    NOTABLE,
    STANDARD_FIELDS,
    TAGGABLE,
    StandardField,
    TargetKind,
    ValueType,
    standard_field,
)
from helpmig_tui.mapping.transforms import DateToUnix, HtmlToText, Lookup, Split, Transform, Truncate, ValueMap
from helpmig_tui.mapping.value_maps import article_state_map, direction_map, flag_map, priority_map, state_map
from helpmig_tui.mapping.vocabulary import is_key_name, meaningful, name_matches

K = TargetKind
STRING_LIMIT = 255  # Intercom text attributes are cut at 255 characters (seeds; UNCERTAIN in the API docs)
TRUNCATED_TAG = "helpmig-truncated"
MIN_SCORE = {"tags": 0.85}  # "asset_tag" is not a list of tags
FIRST_NAME = {"firstname", "forename", "givenname"}
LAST_NAME = {"lastname", "surname", "familyname"}
MIDDLE_NAME = {"middlename", "patronymic"}
# Words of fields that describe the source system's own housekeeping, not the customer.
OPERATIONAL = {
    "password", "pwd", "salt", "hash", "login", "username", "locked", "lockout", "verified", "pinned", "idle",
    "deleted", "spam", "guid", "smtp", "modidate", "updated", "modified", "sort", "archive", "merge",
}


def name_part(field: str) -> str | None:
    """"first", "last" or "middle" for FirstName, last_name, Surname...; None otherwise
    (last_login_at is not a name)."""
    joined = "".join(words(field))
    for part, names in (("first", FIRST_NAME), ("last", LAST_NAME), ("middle", MIDDLE_NAME)):
        if any(joined == n or joined.endswith(n) for n in names):
            return part
    return None


@dataclass
class Proposal:
    """A candidate target for one field, with its evidence."""

    target: FieldTarget
    confidence: float
    reason: str
    transforms: list[Transform] = field(default_factory=list)
    fallback: bool = False  # a second source for a reference, used when the first is empty

    @property
    def standard(self) -> str | None:
        return self.target.field if isinstance(self.target, StandardTarget) else None


@dataclass
class Context:
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
        return known_values(f) if f else []


def known_values(f: FieldEvidence) -> list[str]:
    """The distinct values the audit saw (the whole domain when small, else samples)."""
    if f.top_values:
        return [v for v, _ in f.top_values if v.strip()]
    if f.options:
        return list(f.options)
    return [s for s in f.samples if s.strip()]


def platform_label(defaults: DefaultMap | None, platform: str) -> str:
    return defaults.label if defaults else platform


def _state_transforms(ctx: Context, obj: str, f: FieldEvidence, kind: TargetKind, std: str,
                      pre: list[Transform]) -> tuple[list[Transform], float, str]:
    """Value map for an OPTIONS standard field: (transforms, adjustment, evidence)."""
    values = _lookup_values(ctx, pre) or known_values(f)
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


def _lookup_values(ctx: Context, transforms: list[Transform]) -> list[str]:
    for t in transforms:
        if isinstance(t, Lookup):
            return ctx.values_of(t.object, t.field)
    return []


def _reference(ctx: Context, std: StandardField, f: FieldEvidence, s: Sniffed) -> tuple[StandardTarget, float, str] | None:
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


def from_default(ctx: Context, obj: ObjectEvidence, kind: TargetKind, f: FieldEvidence,
                  entry: DefaultField) -> Proposal | None:
    target = entry.target()
    if target_problem(kind, target) is not None:
        return None
    label = platform_label(ctx.defaults, ctx.evidence.platform)
    preferred = next((x.name for x in obj.fields for name in entry.yield_to if norm(x.name) == norm(name)), None)
    if preferred is not None:
        std = standard_field(kind, target.field) if isinstance(target, StandardTarget) else None
        if std is not None and std.value is ValueType.REFERENCE:
            # a reference keeps both sources: the record's own value decides which one is used
            return Proposal(target, 0.95, f"{label} default map: used when {preferred} is empty"
                                          + (f" ({entry.reason})" if entry.reason else ""), fallback=True)
        return Proposal(SkipTarget(), 0.95, f"{label} default map: {preferred} is preferred for "
                                            f"{target.describe()}" + (f" ({entry.reason})" if entry.reason else ""))
    s = looks(f)
    transforms: list[Transform] = list(entry.transforms)
    confidence = 0.95
    notes: list[str] = []
    if isinstance(target, StandardTarget):
        std = standard_field(kind, target.field)
        assert std is not None
        if std.value is not ValueType.REFERENCE and not entry.value_map and not transforms:
            ok, _, why = fits(std, f, s)
            if not ok:
                confidence, notes = 0.6, [f"but {why}"]
        if std.value is ValueType.DATETIME:
            transforms = [t for t in transforms if not isinstance(t, DateToUnix)] + date_transform(f, s) \
                if not any(isinstance(t, DateToUnix) for t in transforms) else transforms
        if std.value is ValueType.TEXT and is_html(f, s) and not any(isinstance(t, HtmlToText) for t in transforms):
            transforms.insert(0, HtmlToText())
    elif isinstance(target, AttributeTarget):
        if entry.type is None:
            looked_up = next((t for t in transforms if isinstance(t, Lookup)), None)
            source = f
            if looked_up is not None:
                lookup_obj = ctx.evidence.object(looked_up.object)
                source = (lookup_obj.field(looked_up.field) if lookup_obj else None) or \
                    FieldEvidence(looked_up.field)
            target = target.model_copy(update={"data_type": attribute_type(source, looks(source))})
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


def _family_map(ctx: Context, f: FieldEvidence, entry: DefaultField,
                transforms: list[Transform]) -> tuple[ValueMap | None, list[str]]:
    """The default entry's value map: as given, or built from the values (and the values
    no rule could read)."""
    if isinstance(entry.value_map, dict):
        return ValueMap(mapping=entry.value_map, default=entry.default), []
    values = _lookup_values(ctx, transforms) or known_values(f)
    unknown: list[str] = []
    if entry.value_map == "state":
        vm, unknown = state_map(values)
    else:
        vm = priority_map(values)
    if vm is not None and entry.default is not None:
        vm = ValueMap(mapping=vm.mapping, default=entry.default)
        unknown = []
    return vm, unknown


def _attribute_checks(ctx: Context, obj: ObjectEvidence, kind: TargetKind, f: FieldEvidence, s: Sniffed,
                      target: AttributeTarget, transforms: list[Transform]) -> tuple[AttributeTarget, list[Transform], str]:
    """Adjust a default attribute to the values seen: its type, dates, HTML, length."""
    extra = ""
    sniffed_type = attribute_type(f, s)
    if target.data_type in ("integer", "float", "boolean", "datetime", "date") and s.count and \
            sniffed_type not in (target.data_type, "integer" if target.data_type == "float" else ""):
        compatible = (target.data_type, sniffed_type) in {("datetime", "date"), ("date", "datetime"), ("float", "integer")}
        if not compatible and f.type not in (FieldType.INTEGER, FieldType.FLOAT, FieldType.DATETIME, FieldType.DATE,
                                             FieldType.BOOLEAN):
            extra = f"values look {sniffed_type}, not {target.data_type}: kept as text"
            target = target.model_copy(update={"data_type": "string"})
    if target.data_type in ("datetime", "date") and not any(isinstance(t, DateToUnix) for t in transforms):
        transforms = transforms + date_transform(f, s)
    if is_html(f, s) and not any(isinstance(t, HtmlToText) for t in transforms):
        transforms = [HtmlToText(), *transforms]
    if target.data_type == "string" and (f.longest or 0) > STRING_LIMIT and \
            not any(isinstance(t, Truncate) for t in transforms):
        transforms = transforms + [truncate_for(kind)]
    return register_attribute(ctx, kind, obj, target), transforms, extra


def truncate_for(kind: TargetKind) -> Truncate:
    return Truncate(max_length=STRING_LIMIT, tag=TRUNCATED_TAG if kind in TAGGABLE else None)


def register_attribute(ctx: Context, kind: TargetKind, obj: ObjectEvidence, target: AttributeTarget) -> AttributeTarget:
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


def standard_candidates(ctx: Context, obj: ObjectEvidence, kind: TargetKind, f: FieldEvidence) -> list[Proposal]:
    """Standard fields this field could fill, each with its confidence and evidence."""
    s = looks(f)
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
        if name == "name" and name_part(f.name):
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
            ok, adj, evid = fits(std, f, s)
            if not ok:
                continue
            base += adj
            why = f"{why}; {evid}" if evid else why
            if std.value is ValueType.DATETIME:
                transforms = date_transform(f, s)
            elif std.value is ValueType.TEXT and is_html(f, s):
                transforms = [HtmlToText()]
            elif std.value is ValueType.LIST and f.type is not FieldType.LIST:
                sep = separator(f)
                transforms = [Split(separator=sep)] if sep else []
        out.append(Proposal(target, round(min(base, cap), 3), why.strip("; "), transforms))
    return sorted(out, key=lambda p: -p.confidence)


def standard_fields_referring(kind: TargetKind, ref_kind: TargetKind) -> list[str]:
    return [f.name for f in STANDARD_FIELDS.get(kind, ()) if ref_kind in f.refers_to]


def fallback(ctx: Context, obj: ObjectEvidence, kind: TargetKind, f: FieldEvidence) -> Proposal:
    """Where a field goes when no standard field takes it."""
    s = looks(f)
    fill = obj.fill_rate(f)
    custom = f.custom or (words(f.name)[:1] in (["cf"], ["custom"], ["udf"]))
    fill_note = f"; filled in {fill:.0%} of records" if fill is not None and fill < 0.05 else ""
    if kind not in ATTRIBUTE_MODEL and kind not in NOTABLE:
        return Proposal(SkipTarget(), 0.8, f"{kind.value} records have no custom attributes")
    if f.type is FieldType.JSON or (kind in NOTABLE and (f.type in (FieldType.TEXT, FieldType.HTML) or
                                                        is_html(f, s) or (f.longest or 0) > STRING_LIMIT)):
        if kind in NOTABLE:
            label = f.label or " ".join(words(f.name)).capitalize()
            transforms: list[Transform] = [HtmlToText()] if is_html(f, s) else []
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
    data_type = attribute_type(f, s)
    transforms = []
    if data_type in ("datetime", "date"):
        transforms = date_transform(f, s)
    if is_html(f, s):
        transforms = [HtmlToText()]
    if data_type == "string" and (f.longest or 0) > STRING_LIMIT:
        transforms.append(truncate_for(kind))
    base = f.name[: -len("_name")] if f.name.endswith("_name") and obj.field(f.name[: -len("_name")]) else f.name
    target = register_attribute(ctx, kind, obj, AttributeTarget(name=attribute_name(base, ctx.prefix), data_type=data_type))
    evidence = {"options": f"{f.distinct} distinct values", "string": "text values"}.get(
        data_type, f"values are {data_type}s" if s.count else f"declared {f.type.value}")
    if custom:
        return Proposal(target, 0.85, f"a custom field becomes a custom attribute; {evidence}{fill_note}", transforms)
    return Proposal(target, 0.6 if not fill_note else 0.5,
                    f"no standard Intercom field matches: kept as an attribute; {evidence}{fill_note}", transforms)
