"""Candidate targets for one field, each with its confidence and its reason: from the
default map, from the name and the structure (standard fields), or the fallback
(a custom attribute, a note, a tag, skip).

Confidence is earned: a standard field or a reference reaches the bulk band (0.9 and up)
only with evidence from the values (dates for a date, emails for an email, a value map
that reads every status); a name alone, however good, stays below it. A field empty in
every record is never the source of anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.base import FieldType
from helpmig_tui.mapping.defaults import DefaultField, DefaultMap, norm
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence, SourceEvidence
from helpmig_tui.mapping.field_checks import (
    STRING_LIMIT,
    attribute_type,
    date_transform,
    fits,
    housekeeping,
    is_empty,
    is_html,
    is_prose,
    looks,
    separator,
    shape_of,
    value_evidence,
)
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
from helpmig_tui.mapping.sniff import Shape, Sniffed
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
from helpmig_tui.mapping.value_maps import (
    article_state_map,
    direction_map,
    flag_map,
    priority_level_map,
    priority_map,
    state_map,
)
from helpmig_tui.mapping.vocabulary import meaningful, name_matches, same_subject, subject_words

K = TargetKind
TRUNCATED_TAG = "helpmig-truncated"
MIN_SCORE = {"tags": 0.85}  # "asset_tag" is not a list of tags
BULK = 0.9  # rows at or above are the ones bulk confirmation takes
NAME_CAP = 0.85  # a standard field found by name (and values) but not by the default map or the structure
UNCHECKED = 0.85  # a default standard field whose values could not be checked
UNPROFILED_CAP = 0.75  # a standard field found by name on a field the audit did not profile
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
    if kind is K.CONVERSATION and std in ("state", "priority"):
        vm, unknown = state_map(values) if std == "state" else priority_level_map(values)
        what = "status values → open/closed" if std == "state" else "priority values → Intercom's levels"
        if vm is None:
            return [], -0.3, f"no {std} names the rules can read: map them by hand"
        note = f"{len(vm.mapping)} {what}"
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


def _key_kind(ctx: Context, obj: str) -> str | None:
    """What the keys of an object look like (integer, code, email, ...), from its key's values."""
    ev = ctx.evidence.object(obj)
    key = ev.field(ev.key) if ev else None
    if key is None:
        return None
    s = looks(key)
    return s.kind if s.count else ("integer" if key.type is FieldType.INTEGER else None)


def _overlap(ctx: Context, obj: str, f: FieldEvidence, names: tuple[str, ...]) -> bool:
    """Some sampled values of `f` are among the values of these fields of `obj`."""
    ev = ctx.evidence.object(obj)
    if ev is None:
        return False
    mine = {v.strip().casefold() for v in known_values(f)}
    for name in names:
        other = ev.field(name)
        if other is not None and mine & {v.strip().casefold() for v in known_values(other)}:
            return True
    return False


def _reference(ctx: Context, std: StandardField, f: FieldEvidence, s: Sniffed) -> tuple[StandardTarget, float, str] | None:
    """How a reference field points at its record: by key, email or name; None when the
    values cannot be keys, emails or names of such a record."""
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
    if s.count == 0:
        return None
    if s.kind in ("integer", "uuid", "code") or f.type is FieldType.INTEGER:
        if refers is None:
            return None
        key_kind = _key_kind(ctx, refers)
        if key_kind is not None and key_kind != s.kind and {key_kind, s.kind} != {"integer", "float"}:
            return None  # codes are not the referenced record's integer keys
        bonus = 0.05 if _overlap(ctx, refers, f, (ctx.evidence.object(refers).key,)) else 0.0  # type: ignore[union-attr]
        return StandardTarget(field=std.name, refers_to=refers), bonus, f"values look like keys of {refers}"
    if s.kind in ("person", "text") and s.share >= 0.6:
        if std.name in ("contact", "assignee", "author", "owner") and s.kind != "person":
            return None
        names = ("name", "fullname", "full_name", "title", "groupname", "group_name", "display_name")
        if refers is not None and _whole_domain(ctx, refers, names) and not _overlap(ctx, refers, f, names):
            return None  # none of these names is one of the referenced records
        bonus = 0.05 if refers is not None and _overlap(ctx, refers, f, names) else 0.0
        return StandardTarget(field=std.name, refers_to=refers, match="name"), bonus - 0.05, "values are names"
    return None


def _whole_domain(ctx: Context, obj: str, names: tuple[str, ...]) -> bool:
    """The audit saw every value of one of these fields of `obj` (a small domain)."""
    ev = ctx.evidence.object(obj)
    return ev is not None and any((f := ev.field(n)) is not None and bool(f.top_values) for n in names)


def _standard_evidence(std: StandardField, f: FieldEvidence, sh: Shape, transforms: list[Transform]) -> str | None:
    """Evidence from the values that a field fills a standard field (see value_evidence)."""
    if not sh.seen:
        return None
    if std.value is ValueType.OPTIONS:
        return "its values map" if any(isinstance(t, ValueMap) for t in transforms) else None
    if std.value in (ValueType.REFERENCE, ValueType.LIST):
        return "it holds values"
    return value_evidence(std, f, sh)


def from_default(ctx: Context, obj: ObjectEvidence, kind: TargetKind, f: FieldEvidence,
                 entry: DefaultField) -> Proposal | None:
    target = entry.target()
    if target_problem(kind, target) is not None:
        return None
    label = platform_label(ctx.defaults, ctx.evidence.platform)
    preferred = next((x.name for x in obj.fields for name in entry.yield_to
                      if norm(x.name) == norm(name) and not is_empty(x, obj)), None)
    if preferred is not None:
        std = standard_field(kind, target.field) if isinstance(target, StandardTarget) else None
        if std is not None:
            # a fallback chain: this source fills the field for the records where the preferred one is empty
            chained = target.model_copy(update={"fallback": True})
            return Proposal(chained, 0.95, f"{label} default map: used when {preferred} is empty"
                                           + (f" ({entry.reason})" if entry.reason else ""), list(entry.transforms),
                            fallback=True)
        return Proposal(SkipTarget(), 0.95, f"{label} default map: {preferred} is preferred for "
                                            f"{target.describe()}" + (f" ({entry.reason})" if entry.reason else ""))
    s = looks(f)
    sh = shape_of(f, obj.count)
    transforms: list[Transform] = list(entry.transforms)
    confidence = 0.95
    notes: list[str] = []
    std = standard_field(kind, target.field) if isinstance(target, StandardTarget) else None
    if std is not None:
        if std.value not in (ValueType.REFERENCE, ValueType.OPTIONS) and not entry.value_map and not transforms:
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
            source, source_shape = f, sh
            if looked_up is not None:
                lookup_obj = ctx.evidence.object(looked_up.object)
                source = (lookup_obj.field(looked_up.field) if lookup_obj else None) or \
                    FieldEvidence(looked_up.field)
                source_shape = shape_of(source, lookup_obj.count if lookup_obj else None)
            target = target.model_copy(update={"data_type": attribute_type(source, source_shape)})
        target, transforms, extra = _attribute_checks(ctx, obj, kind, f, s, target, transforms)
        if extra:
            confidence, notes = 0.75, [extra]
    if entry.value_map is not None:
        vm, unknown = _family_map(ctx, f, entry, transforms, standard=std is not None)
        if vm is not None:
            transforms.append(vm)
        elif entry.value_map == "state":
            confidence, notes = 0.5, ["no status values the rules can read: map them by hand"]
        if unknown:
            confidence, notes = min(confidence, 0.8), notes + [f"not recognised: {', '.join(unknown[:3])}"]
    if std is not None and confidence >= BULK and _standard_evidence(std, f, sh, transforms) is None:
        confidence, notes = UNCHECKED, notes + ["no values to confirm it"]
    why = entry.reason or f"{f.name} → {kind.value} {target.describe()}"
    return Proposal(target, confidence, f"{label} default map: {why}" + (f"; {'; '.join(notes)}" if notes else ""),
                    transforms)


def _family_map(ctx: Context, f: FieldEvidence, entry: DefaultField, transforms: list[Transform], *,
                standard: bool = False) -> tuple[ValueMap | None, list[str]]:
    """The default entry's value map: as given, or built from the values (and the values
    no rule could read)."""
    if isinstance(entry.value_map, dict):
        return ValueMap(mapping=entry.value_map, default=entry.default), []
    values = _lookup_values(ctx, transforms) or known_values(f)
    unknown: list[str] = []
    if entry.value_map == "state":
        vm, unknown = state_map(values)
    elif standard:
        vm, unknown = priority_level_map(values)
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
    sniffed_type = attribute_type(f, shape_of(f, obj.count))
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
    if target.data_type == "options" and not any(isinstance(t, ValueMap) for t in transforms):
        spelled = priority_map(known_values(f))
        if spelled is not None:
            transforms = transforms + [spelled]
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
    if is_empty(f, obj):
        return []
    s = looks(f)
    sh = shape_of(f, obj.count)
    out: list[Proposal] = []
    matches = {m.field: m for m in name_matches(kind, f.name, f.label)}
    for m in name_matches(kind, f.name, f.label, subject=True):
        std = standard_field(kind, m.field)
        if std is not None and std.value is ValueType.REFERENCE and m.score > matches.get(m.field, m).score - 1e-9:
            matches[m.field] = m
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
        for std_name in standard_fields_referring(kind, ref_kind):
            structural.setdefault(std_name, (0.85, f"it points at {f.references} ({ref_kind.value})"))
    for name in sorted({*matches, *structural}):
        std = standard_field(kind, name)
        if std is None or std.value is ValueType.OPTIONS and name == "role":
            continue
        if name == "name" and name_part(f.name):
            continue  # a first or last name is not the full name
        base, why, cap = 0.0, "", NAME_CAP
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
        if _standard_evidence(std, f, sh, transforms) is None:
            if sh.kind == "unknown":  # not profiled: the declared type is all there is
                cap, why = min(cap, UNPROFILED_CAP), f"{why}; no values to check"
            elif name not in structural or not sh.seen:
                continue  # a name alone never makes a source: the values must agree
            else:
                cap = min(cap, NAME_CAP)
        out.append(Proposal(target, round(min(base, cap), 3), why.strip("; "), transforms))
    return sorted(out, key=lambda p: -p.confidence)


def standard_fields_referring(kind: TargetKind, ref_kind: TargetKind) -> list[str]:
    return [f.name for f in STANDARD_FIELDS.get(kind, ()) if ref_kind in f.refers_to]


def fallback(ctx: Context, obj: ObjectEvidence, kind: TargetKind, f: FieldEvidence) -> Proposal:
    """Where a field goes when no standard field takes it: the values decide between a typed
    attribute, a note, a tag and skip; the declared type only breaks ties."""
    s = looks(f)
    sh = shape_of(f, obj.count)
    fill = obj.fill_rate(f)
    custom = f.custom or (words(f.name)[:1] in (["cf"], ["custom"], ["udf"]))
    fill_note = f"; filled in {fill:.0%} of records" if fill is not None and 0 < fill < 0.05 else ""
    if kind not in ATTRIBUTE_MODEL and kind not in NOTABLE:
        return Proposal(SkipTarget(), 0.8, f"{kind.value} records have no custom attributes")
    if sh.kind == "empty":
        return Proposal(SkipTarget(), 0.95, f"empty in all {obj.count:,} records: nothing to move")
    if f.type is FieldType.JSON and kind in NOTABLE:
        label = f.label or " ".join(words(f.name)).capitalize()
        return Proposal(NoteTarget(label=label), 0.7, f"structured data: kept as a note line{fill_note}")
    if f.type is FieldType.LIST:
        if kind in TAGGABLE and {"tag", "tags", "label", "labels", "keyword", "keywords"} & set(words(f.name)):
            return Proposal(TagTarget(), 0.75, "a list of labels: each becomes a tag")
        return Proposal(SkipTarget(), 0.6, "a list of keys (files, links): moved separately or not at all")
    if obj.field(f"{f.name}_name"):
        return Proposal(SkipTarget(), 0.8, f"a key into {f.references or 'a lookup'}; {f.name}_name carries the value")
    if sh.kind == "constant":
        return Proposal(SkipTarget(), 0.85, f"the same value ({(sh.constant or '')[:40]}) in every record: nothing to keep")
    bookkeeping = housekeeping(f, sh)
    if bookkeeping:
        return Proposal(SkipTarget(), 0.85, f"{bookkeeping}: not the customer's data")
    operational = OPERATIONAL & set(words(f.name))
    if operational and not custom:
        return Proposal(SkipTarget(), 0.65, f"operational data of the source ({', '.join(sorted(operational))}), not customer data")
    if kind in NOTABLE and is_prose(f, sh):
        label = f.label or " ".join(words(f.name)).capitalize()
        transforms: list[Transform] = [HtmlToText()] if is_html(f, s) else []
        what = "long text" if (f.longest or 0) > STRING_LIMIT else "free text"
        return Proposal(NoteTarget(label=label), 0.75, f"{what}: kept as a note line{fill_note}", transforms)
    data_type = attribute_type(f, sh)
    transforms = []
    if data_type in ("datetime", "date"):
        transforms = date_transform(f, s)
    if is_html(f, s):
        transforms = [HtmlToText()]
    if data_type == "options":
        spelled = _spelling(f)
        transforms += [spelled] if spelled else []
    if data_type == "string" and (f.longest or 0) > STRING_LIMIT:
        transforms.append(truncate_for(kind))
    base = f.name[: -len("_name")] if f.name.endswith("_name") and obj.field(f.name[: -len("_name")]) else f.name
    target = register_attribute(ctx, kind, obj, AttributeTarget(name=attribute_name(base, ctx.prefix), data_type=data_type))
    evidence = {"options": f"a pick list of {f.distinct} values", "string": "text values"}.get(
        data_type, f"values are {data_type}s" if sh.seen else f"declared {f.type.value}")
    if not sh.seen:
        return Proposal(target, 0.6, f"no values to look at: kept as an attribute; {evidence}", transforms)
    confidence = {"options": 0.8, "string": 0.8}.get(data_type, 0.85)
    kept = "a custom field becomes a custom attribute" if custom else "no standard Intercom field matches: kept as an attribute"
    return Proposal(target, confidence if not fill_note else 0.5, f"{kept}; {evidence}{fill_note}", transforms)


def _spelling(f: FieldEvidence) -> ValueMap | None:
    return priority_map(known_values(f))


def duplicate_of(f: FieldEvidence, reference: FieldEvidence) -> bool:
    """`f` only names the record `reference` points at again (requester_name beside
    requester_id, organization_name beside organization): the same subject and nothing else."""
    own = subject_words(f.name, f.label)
    theirs = subject_words(reference.name, reference.label)
    return bool(theirs) and same_subject(own, theirs)

