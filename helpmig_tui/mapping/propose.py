"""The built-in proposer: offline, deterministic, every proposal with a reason.

Evidence, strongest first: the record's structure (its key, its parent link), the
platform's default map (the seeds' tables), the field's name read against the words
helpdesks use for each Intercom field, and the values the audit sampled (type, fill,
distinct values, longest value). A standard field takes at most one source field per
object (tags excepted): the best claim wins and the others fall back to a custom
attribute, a note, a tag or skip. The candidates themselves are in candidates.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from connectors.base import FieldType, ObjectRole
from helpmig_tui.mapping.candidates import (
    Context,
    Proposal,
    fallback,
    from_default,
    name_part,
    platform_label,
    standard_candidates,
)
from helpmig_tui.mapping.defaults import DefaultMap, DefaultMapError, DefaultObject, load_default_map
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence, SourceEvidence
from helpmig_tui.mapping.field_checks import looks
from helpmig_tui.mapping.model import ColumnTarget, FieldMap, MigrationMap, ObjectMap, ObjectOptions, SkipTarget, StandardTarget
from helpmig_tui.mapping.names import words
from helpmig_tui.mapping.standard import COLUMN_KINDS, UNMAPPED_KINDS, TargetKind
from helpmig_tui.mapping.transforms import Join
from helpmig_tui.mapping.vocabulary import is_key_name, name_matches, subject_words

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
    return ObjectOptions.model_validate(data)


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


def propose_fields(ctx: Context, obj: ObjectEvidence) -> list[FieldMap]:
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
                (p := from_default(ctx, obj, kind, f, d)) is not None:
            if d.yield_to and p.standard and not p.fallback:  # its preferred field is absent: a claim like any other
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
    claims = [(p, f) for f in pending for p in standard_candidates(ctx, obj, kind, f)]
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
            chosen[f.name] = _duplicate_of_reference(obj, f, chosen) or fallback(ctx, obj, kind, f)
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
    ctx = Context(evidence, defaults, objects, prefix)
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
