"""The built-in proposer: offline, deterministic, every proposal with a reason.

Evidence, strongest first: the record's structure (its key, its parent link), the
platform's default map (the seeds' tables), the field's name read against the words
helpdesks use for each Intercom field, and the values the audit sampled (type, fill,
distinct values, longest value). A standard field takes at most one source field per
object (tags excepted; a reference may keep the default map's second source, tried when
the first is empty): the best claim wins and the others fall back to a custom attribute,
a note, a tag or skip.

A field empty in every record is never a source. When a field the default map expects is
empty or missing (a renamed column), its target goes to the field whose name says the
same and whose values fit, if any, and the proposal carries a `Review` for the operator:
a gap (no source, or a stand-in) or a conflict (two credible claims on one target). Those
rows stay out of the bulk band and out of bulk confirmation. The candidates themselves
are in candidates.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from connectors.base import FieldType, ObjectRole
from helpmig_tui.mapping.candidates import (
    BULK,
    Context,
    Proposal,
    duplicate_of,
    fallback,
    from_default,
    name_part,
    platform_label,
    standard_candidates,
)
from helpmig_tui.mapping.defaults import DefaultField, DefaultMap, DefaultMapError, DefaultObject, load_default_map, norm
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence, SourceEvidence
from helpmig_tui.mapping.field_checks import fits, is_empty, looks, shape_of, value_evidence
from helpmig_tui.mapping.model import (
    AttributeTarget,
    FALSE_VALUES,
    TRUE_VALUES,
    ColumnTarget,
    FieldMap,
    MigrationMap,
    ObjectMap,
    ObjectOptions,
    Review,
    ScopeRule,
    SkipTarget,
    StandardTarget,
)
from helpmig_tui.mapping.names import words
from helpmig_tui.mapping.standard import (
    COLUMN_KINDS,
    UNMAPPED_KINDS,
    TargetKind,
    ValueType,
    required_fields,
    single_valued,
    standard_field,
)
from helpmig_tui.mapping.transforms import Join
from helpmig_tui.mapping.vocabulary import is_key_name, meaningful, name_matches, phrase_score

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
MULTI_VALUED = {"tags"}
SOFT_DEFAULT = 0.8  # a default entry standing in for its absent preferred field
CONTEST = 0.8  # a second claim this strong on a taken target is a conflict for review
REPLACE_MIN = 0.8  # how closely a stand-in's name must say the lost default field's name
REPLACE_CAP = 0.85  # a stand-in, a contested source: never in the bulk band
GENERIC = {"date", "time", "timestamp", "on", "at"}  # closed_at and Clsd Dt, Date_Closed alike
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
    options = ObjectOptions.model_validate(data)
    # a rule on a field this source does not have would leave nothing out: it goes
    kept = [rule for rule in options.skip_when if ev.field(rule.field) is not None]
    if kind is K.ARTICLE and not kept:
        kept = _private_article_rule(ev)
    return options.model_copy(update={"skip_when": kept})


_PRIVATE = {"private", "internal", "agents", "staff"}
_PUBLIC = {"public", "customer", "portal"}


def _private_article_rule(ev: ObjectEvidence) -> list[ScopeRule]:
    """Agents-only articles stay out of the help center unless the operator includes them
    (then as drafts): found by a flag named private/internal, or public/portal unset."""
    for f in ev.fields:
        if f.type is not FieldType.BOOLEAN:
            continue
        named = set(words(f.name))
        if named & _PRIVATE:
            values = list(TRUE_VALUES)
        elif named & _PUBLIC:
            values = list(FALSE_VALUES)
        else:
            continue
        return [ScopeRule(field=f.name, values=values, code="article.private",
                          reason="private (agents-only) articles")]
    return []


def propose_object(ev: ObjectEvidence, defaults: DefaultMap | None, platform: str,
                   target: TargetKind | None = None) -> ObjectMap:
    """What a source object becomes: the default map's entry, else its role's kind."""
    hit = defaults.find_object(ev.name, ev.role) if defaults else None
    label = platform_label(defaults, platform)
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


# -- fields: assembly ---------------------------------------------------------------


@dataclass(frozen=True)
class Lost:
    """A default-map field that gives nothing here: empty in every record, or not in the
    source at all. Its target needs another source."""

    name: str  # the default map's field name
    entry: DefaultField
    present: bool  # the source lists the field (always empty) or does not have it

    def why(self, count: int | None) -> str:
        return f"{self.name} is empty in all {count or 0:,} records" if self.present else f"the source has no {self.name}"


def propose_fields(ctx: Context, obj: ObjectEvidence) -> tuple[list[FieldMap], list[Review]]:
    om = ctx.objects[obj.name]
    kind = om.target
    if kind in UNMAPPED_KINDS:
        return [], []
    entry = _default_entry(ctx, obj, kind)
    label = platform_label(ctx.defaults, ctx.evidence.platform)
    chosen: dict[str, Proposal] = {}
    soft: dict[str, Proposal] = {}
    pending: list[FieldEvidence] = []
    lost: list[Lost] = []
    for f in obj.fields:
        d = entry.find_field(f.name) if entry is not None else None
        if kind in COLUMN_KINDS:
            what = "supplementary CSV" if kind is K.CSV else "rebuild inventory"
            chosen[f.name] = Proposal(ColumnTarget(name=f.name), 0.95, f"every field is a column of the {what}")
        elif f.name == obj.parent_field:
            chosen[f.name] = Proposal(SkipTarget(), 0.99, f"links the record to its {obj.parent or 'parent'}")
        elif f.name == obj.key and d is None and _key_like(f):
            chosen[f.name] = Proposal(SkipTarget(), 0.99, KEY_REASON.get(kind, KEY_ELSE))
        elif is_empty(f, obj):
            meant = f"; the {label} default map takes it as {d.target().describe()}" if d is not None and not d.skip else ""
            chosen[f.name] = Proposal(SkipTarget(), 0.95, f"empty in all {obj.count:,} records: nothing to move{meant}")
            if d is not None and not d.skip:
                lost.append(Lost(f.name, d, True))
        elif d is not None and (p := from_default(ctx, obj, kind, f, d)) is not None:
            if d.yield_to and p.standard and not p.fallback:  # its preferred field is absent: a claim like any other
                soft[f.name] = Proposal(p.target, SOFT_DEFAULT, p.reason + "; its preferred field is absent",
                                        p.transforms)
                pending.append(f)
            else:
                chosen[f.name] = p
        else:
            pending.append(f)
    if entry is not None:
        lost += _absent(entry, obj, kind)
    _settle_conflicts(ctx, obj, kind, chosen)
    _join_names(ctx, obj, kind, chosen, pending)
    taken = {p.standard: name for name, p in chosen.items()
             if p.standard and p.standard not in MULTI_VALUED and not p.fallback}
    # stand-ins for lost default fields first, then names and structure, then soft defaults
    ranked = [(0, p, f) for p, f in _replacements(ctx, obj, kind, lost, pending, taken)]
    ranked += [(1, p, f) for f in pending for p in standard_candidates(ctx, obj, kind, f)]
    ranked += [(2, soft[f.name], f) for f in pending if f.name in soft]
    claims = [(p, f) for _, p, f in ranked]
    contests: dict[str, list[str]] = {}
    for _, proposal, f in sorted(ranked, key=lambda rpf: (-rpf[1].confidence, rpf[0])):
        if f.name in chosen or proposal.confidence < 0.55:
            continue
        std = proposal.standard
        if std and std not in MULTI_VALUED and std in taken and not proposal.fallback:
            holder = taken[std]
            if not single_valued(kind, std):
                continue  # a reference's other sources: the default map says which, else skip or attribute
            if proposal.confidence >= CONTEST and f.name not in contests.get(std, []):
                contests.setdefault(std, []).append(f.name)
            if _sparse(obj, obj.field(holder)) and _well_filled(obj, f):
                # a source filled in a few records gives way to one filled in most
                contests[std] = [holder if name == f.name else name for name in contests[std]]
                chosen[holder] = fallback(ctx, obj, kind, obj.field(holder))  # type: ignore[arg-type]
                chosen[f.name] = proposal
                taken[std] = f.name
            continue
        chosen[f.name] = proposal
        if std and std not in taken:
            taken[std] = f.name
    _skip_name_parts(obj, kind, chosen)
    for f in pending:
        if f.name not in chosen:
            chosen[f.name] = _duplicate_of_reference(obj, f, chosen) or fallback(ctx, obj, kind, f)
    reviews = _gap_reviews(ctx, obj, kind, lost, chosen, claims)
    reviews += _conflict_reviews(obj, kind, contests, taken, chosen)
    reviews += _uncovered_reviews(obj, kind, chosen, claims, reviews)
    if kind is K.CONVERSATION and "contact" not in taken and om.role == ObjectRole.RECORD.value \
            and not om.options.placeholder_contact:
        ctx.objects[obj.name] = om.model_copy(update={"options": om.options.model_copy(
            update={"placeholder_contact": f"{obj.name.replace('_', '-')}@helpmig.invalid"})})
    fields = [
        FieldMap(object=obj.name, field=f.name, target=chosen[f.name].target, transforms=chosen[f.name].transforms,
                 confidence=round(chosen[f.name].confidence, 2), reason=chosen[f.name].reason,
                 samples=[str(s)[:80] for s in f.samples[:3]])
        for f in obj.fields
    ]
    return fields, reviews


def _key_like(f: FieldEvidence) -> bool:
    """A record key that is only a key (an id), not a name that doubles as the key."""
    s = looks(f)
    return is_key_name(f.name) or words(f.name)[-1:] in (["id"], ["uuid"], ["key"], ["number"], ["num"]) or \
        s.kind in ("integer", "uuid", "empty") or f.type is FieldType.INTEGER or not s.is_("text", 0.5)


def _default_entry(ctx: Context, obj: ObjectEvidence, kind: TargetKind) -> DefaultObject | None:
    if ctx.defaults is None:
        return None
    hit = ctx.defaults.find_object(obj.name, obj.role)
    if hit is None or hit[1].target is not kind:
        return None
    return hit[1]


def _absent(entry: DefaultObject, obj: ObjectEvidence, kind: TargetKind) -> list[Lost]:
    """Default fields the source does not list (an export without the column, a tenant
    that names it differently)."""
    present = {norm(f.name) for f in obj.fields}
    out = []
    for name, d in entry.fields.items():
        if norm(name) in present or any(norm(a) in present for a in d.aliases):
            continue
        std = standard_field(kind, d.standard) if d.standard else None
        if d.yield_to and (std is None or std.value is not ValueType.REFERENCE):
            continue  # it only stood in for its preferred field: nothing is lost without it
        out.append(Lost(name, d, False))
    return out


def _replacements(ctx: Context, obj: ObjectEvidence, kind: TargetKind, lost: list[Lost], pending: list[FieldEvidence],
                  taken: dict[str, str]) -> list[tuple[Proposal, FieldEvidence]]:
    """Claims for the targets of lost default fields by fields whose names say the same
    (PRIO for priority, Beschreibung for description, RequesterEmail for the contact's
    email) and whose values fit. A lost second source of a reference stands in as one."""
    out = []
    for item in lost:
        target = item.entry.target()
        std = standard_field(kind, target.field) if isinstance(target, StandardTarget) else None
        second = std is not None and std.value is ValueType.REFERENCE and bool(item.entry.yield_to)
        if std is not None and std.name in taken and std.name not in MULTI_VALUED and not second:
            continue
        wanted = [w for w in meaningful(item.name) if w not in GENERIC]
        for f in pending:
            score = phrase_score([w for w in meaningful(f.name, f.label) if w not in GENERIC], " ".join(wanted))
            if std is not None:
                reference = std.value is ValueType.REFERENCE
                said = [m.score for m in name_matches(kind, f.name, f.label, subject=reference) if m.field == std.name]
                score = max([score, *said])
            if score < REPLACE_MIN:
                continue
            p = from_default(ctx, obj, kind, f, item.entry)
            if p is None or not _values_fit(kind, item.entry, f, obj) or not _same_match(p, f):
                continue
            out.append((Proposal(p.target, min(p.confidence, score, REPLACE_CAP),
                                 f"stands in for {item.name} ({item.why(obj.count)}): {p.reason}", p.transforms,
                                 fallback=second), f))
    return out


def _same_match(p: Proposal, f: FieldEvidence) -> bool:
    """A stand-in for a reference written as emails must hold emails (and so on)."""
    if not isinstance(p.target, StandardTarget) or p.target.match != "email":
        return True
    return f.type is FieldType.EMAIL or looks(f).is_("email")


def _sparse(obj: ObjectEvidence, f: FieldEvidence | None) -> bool:
    rate = obj.fill_rate(f) if f is not None else None
    return rate is not None and rate < 0.05


def _well_filled(obj: ObjectEvidence, f: FieldEvidence) -> bool:
    rate = obj.fill_rate(f)
    return rate is not None and rate >= 0.5


def _values_fit(kind: TargetKind, d: DefaultField, f: FieldEvidence, obj: ObjectEvidence) -> bool:
    """Whether a stand-in's values suit the lost field's target."""
    target = d.target()
    sh = shape_of(f, obj.count)
    if isinstance(target, StandardTarget):
        std = standard_field(kind, target.field)
        if std is None:
            return False
        if std.value in (ValueType.REFERENCE, ValueType.OPTIONS, ValueType.LIST):
            return sh.seen
        return sh.seen and fits(std, f, sh.values)[0] and (
            std.value not in (ValueType.DATETIME, ValueType.EMAIL, ValueType.PHONE, ValueType.URL)
            or value_evidence(std, f, sh) is not None)
    if isinstance(target, AttributeTarget) and d.type in ("datetime", "date"):
        return sh.values.kind in ("date", "datetime") or f.type in (FieldType.DATETIME, FieldType.DATE)
    if isinstance(target, AttributeTarget) and d.type == "options":
        return sh.kind == "enum" or sh.labelish
    return sh.seen


def _gap_reviews(ctx: Context, obj: ObjectEvidence, kind: TargetKind, lost: list[Lost], chosen: dict[str, Proposal],
                 claims: list[tuple[Proposal, FieldEvidence]]) -> list[Review]:
    """A standard target whose default source is listed but empty in every record (a column
    renamed or moved): the stand-in found, or the candidates, for the operator to decide
    one by one."""
    reviews = []
    done: set[str] = set()
    for item in lost:
        target = item.entry.target()
        if not item.present or not isinstance(target, StandardTarget) or target.field in done or \
                target.field in MULTI_VALUED:
            continue  # a column the source does not have at all: its stand-in is an ordinary proposal
        std = target.field
        sources = [name for name, p in chosen.items() if p.standard == std]
        if any(not chosen[name].reason.startswith("stands in") and chosen[name].confidence >= BULK for name in sources):
            continue  # another default field fills it (body_text when body_html is empty)
        done.add(std)
        source = sources[0] if sources else None
        others = [f.name for p, f in claims if p.standard == std and f.name != source and p.confidence >= 0.55]
        fields = list(dict.fromkeys([item.name, *([source] if source else []), *others[:3]]))
        candidates = list(dict.fromkeys(([source] if source else []) + others
                                        + _value_candidates(obj, kind, std, exclude={item.name})))
        if source is not None:
            p = chosen[source]
            chosen[source] = Proposal(p.target, min(p.confidence, REPLACE_CAP), p.reason if p.reason.startswith(
                "stands in") else f"stands in for {item.name} ({item.why(obj.count)}): {p.reason}", p.transforms, p.fallback)
            reason = f"has no source of its own ({item.why(obj.count)}); {source} looks like it"
        else:
            if not candidates and not _matters(kind, std):
                continue  # an optional field with nothing to stand in: it is simply empty, as its row says
            reason = f"has no non-empty source ({item.why(obj.count)})" + (
                f"; candidates: {', '.join(candidates[:6])}" if candidates else "; no other field looks like it")
        reviews.append(Review(object=obj.name, target=std, kind="gap", fields=fields, candidates=candidates,
                              reason=reason))
    return reviews


def _matters(kind: TargetKind, std: str) -> bool:
    """A target whose loss the operator must see before the load: a required one, or the text."""
    return std in ("title", "body") or any(std in group for group in required_fields(kind))


def _conflict_reviews(obj: ObjectEvidence, kind: TargetKind, contests: dict[str, list[str]], taken: dict[str, str],
                      chosen: dict[str, Proposal]) -> list[Review]:
    """Two fields claiming one target: the stronger is proposed, neither at bulk confidence."""
    reviews = []
    for std, losers in contests.items():
        winner = taken[std]
        fields = list(dict.fromkeys([winner, *losers]))
        for name in fields:
            p = chosen[name]
            chosen[name] = Proposal(p.target, min(p.confidence, REPLACE_CAP), p.reason, p.transforms, p.fallback)
        reviews.append(Review(object=obj.name, target=std, kind="conflict", fields=fields, candidates=fields,
                              reason=f"is claimed by {', '.join(fields)}: one source only, {winner} proposed"))
    return reviews


def _uncovered_reviews(obj: ObjectEvidence, kind: TargetKind, chosen: dict[str, Proposal],
                       claims: list[tuple[Proposal, FieldEvidence]], reviews: list[Review]) -> list[Review]:
    """A required target nothing fills: the fields that came closest, for the operator."""
    mapped = {p.standard for p in chosen.values() if p.standard}
    reviewed = {r.target for r in reviews}
    out = []
    for group in required_fields(kind):
        if mapped.intersection(group) or reviewed.intersection(group):
            continue
        claimed = list(dict.fromkeys(f.name for p, f in claims if p.standard in group))
        candidates = list(dict.fromkeys(claimed + [c for name in group for c in _value_candidates(obj, kind, name)]))
        if candidates:
            out.append(Review(object=obj.name, target=" or ".join(group), kind="gap", fields=claimed[:4],
                              candidates=candidates, reason=f"has no source; candidates: {', '.join(candidates[:6])}"))
    return out


def _value_candidates(obj: ObjectEvidence, kind: TargetKind, std_name: str, exclude: set[str] = frozenset()) -> list[str]:
    """Fields whose values would fit a standard field, whatever their names (the source's
    own columns first): what the operator can choose from when nothing else says it."""
    std = standard_field(kind, std_name)
    if std is None or std.value in (ValueType.REFERENCE, ValueType.OPTIONS, ValueType.LIST):
        return []
    out = []
    for f in obj.fields:
        if f.name in exclude or f.name in (obj.key, obj.parent_field) or is_empty(f, obj):
            continue
        if value_evidence(std, f, shape_of(f, obj.count)) is not None:
            out.append(f)
    return [f.name for f in sorted(out, key=lambda f: not f.custom)][:6]


def _settle_conflicts(ctx: Context, obj: ObjectEvidence, kind: TargetKind, chosen: dict[str, Proposal]) -> None:
    """Two default entries claiming one standard field (Status and TicketStatusId): the
    first field of the source keeps it, the other falls back."""
    seen: set[str] = set()
    for f in obj.fields:
        p = chosen.get(f.name)
        if p is None or p.standard is None or p.standard in MULTI_VALUED or p.fallback:
            continue
        if p.standard in seen:
            fb = fallback(ctx, obj, kind, f)
            chosen[f.name] = Proposal(fb.target, 0.6, f"{p.standard} already comes from another field; {fb.reason}",
                                      fb.transforms)
        seen.add(p.standard)


def _join_names(ctx: Context, obj: ObjectEvidence, kind: TargetKind, chosen: dict[str, Proposal],
                pending: list[FieldEvidence]) -> None:
    """First and last name fields and nothing that reads as a full name: join them."""
    if kind not in (K.CONTACT, K.ADMIN) or any(p.standard == "name" for p in chosen.values()):
        return
    for f in pending:
        full = next((m for m in name_matches(kind, f.name, f.label) if m.field == "name"), None)
        if full is not None and full.score >= 0.85 and not name_part(f.name):
            return
    first = next((f for f in pending if name_part(f.name) == "first"), None)
    last = next((f for f in pending if name_part(f.name) == "last"), None)
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
        if f.name not in chosen and name_part(f.name):
            chosen[f.name] = Proposal(SkipTarget(), 0.8, f"the full name comes from {full}")


def _duplicate_of_reference(obj: ObjectEvidence, f: FieldEvidence, chosen: dict[str, Proposal]) -> Proposal | None:
    """requester_name beside requester_id -> contact: the contact already carries it. Only
    a field that names the same record and nothing else: "Customer Phone" beside
    customer_id is a phone, kept."""
    for other, p in chosen.items():
        ref = obj.field(other)
        if other == f.name or ref is None or not isinstance(p.target, StandardTarget) or \
                p.target.field not in REFERENCE_WORDS:
            continue
        if duplicate_of(f, ref):
            return Proposal(SkipTarget(), 0.8, f"{REFERENCE_WORDS[p.target.field]} comes from {other}, "
                                               "which carries this too")
    return None


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
    ctx = Context(evidence, defaults, objects, prefix)
    fields: list[FieldMap] = []
    reviews: list[Review] = []
    total = len(evidence.objects)
    for done, ev in enumerate(evidence.objects, start=1):
        if progress:
            progress(f"proposing {ev.label or ev.name}", done - 1, total)
        object_fields, object_reviews = propose_fields(ctx, ev)
        fields.extend(object_fields)
        reviews.extend(object_reviews)
    if progress:
        progress("proposal ready", total, total)
    timezone = evidence.timezone if evidence.timezone != "UTC" or defaults is None else defaults.timezone
    return MigrationMap(platform=evidence.platform, timezone=timezone, proposer="builtin",
                        objects=[ctx.objects[ev.name] for ev in evidence.objects], fields=fields, reviews=reviews)
