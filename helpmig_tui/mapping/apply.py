"""Applying a confirmed map to one source record: what the loader sends for it.

`apply_map` is pure and deterministic, and cheap enough to call per record: the field
plan of each object is built once per map and cached on it. Bad values never raise:
a value that cannot be transformed or coerced is dropped with a flag, or rejects the
record (with the reason) when the field is required.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import REPLACEMENT, Record
from helpmig_tui.mapping.coerce import as_text, coerce_attribute, coerce_standard, is_empty
from helpmig_tui.mapping.model import (
    AttributeTarget,
    ColumnTarget,
    FieldMap,
    MigrationMap,
    NoteTarget,
    ScopeRule,
    StandardTarget,
    TagTarget,
)
from helpmig_tui.mapping.standard import (
    ATTRIBUTE_MODEL,
    StandardField,
    TargetKind,
    ValueType,
    is_required,
    required_fields,
    standard_field,
)
from helpmig_tui.mapping.transforms import Flag, TransformContext, TransformProblem, short_repr, zone_named

# A part whose visibility cannot be read for certain is loaded as this: internal, never customer-visible.
UNREADABLE_DIRECTION = "note"
VISIBILITY_FLAG = "visibility_unreadable"

# A source value longer than this is mapped from its beginning only (transforms and HTML
# sanitizing take time in proportion), the whole value kept beside (`MappedRecord.full`): a
# 50 MB body costs the same bounded time as a 1 MB one, and the loader attaches it whole.
MAX_VALUE_CHARS = 1 << 20

# The custom attribute every contact, company and conversation gets: where it came from.
SOURCE_ID_ATTRIBUTE = "helpmig_source_id"
SOURCE_ID_MODELS = ("contact", "company", "conversation")


def left_out(mmap: MigrationMap, obj: str, record: Record | Mapping[str, Any]) -> ScopeRule | None:
    """The map's scope rule that leaves this record out (a private article), if any."""
    om = mmap.object_map(obj)
    if om is None or not om.options.skip_when:
        return None
    data = record.data if isinstance(record, Record) else record
    return next((rule for rule in om.options.skip_when if rule.matches(data)), None)


def source_id(platform: str, obj: str, key: str) -> str:
    """The id a record carries in Intercom (external_id, company_id, helpmig_source_id)."""
    return f"{platform}:{obj}:{key}"


# The codes of the audit findings that predict a record missing a required field.
_MISSING_CODES = {
    (TargetKind.CONVERSATION, "contact"): "conversation.requester_missing",
    (TargetKind.CONVERSATION, "created_at"): "date.missing",
    (TargetKind.PART, "created_at"): "date.missing",
    (TargetKind.PART, "body"): "part.body_missing",
}


def missing_code(kind: TargetKind, name: str) -> str:
    """The code of a rejection for a required field with no value."""
    return _MISSING_CODES.get((kind, name), f"{kind.value}.{name}_missing")


class MapError(Exception):
    """The map cannot be applied to this object at all (not in the map, not mapped)."""


@dataclass
class MappedRecord:
    """One source record as the loader sends it; references stay source keys."""

    object: str
    key: str
    kind: TargetKind
    source_id: str  # external_id / company_id / helpmig_source_id
    standard: dict[str, Any] = field(default_factory=dict)  # datetimes as Unix seconds
    attributes: dict[str, Any] = field(default_factory=dict)  # custom attribute name -> value
    tags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # "Label: value" lines
    references: dict[str, str] = field(default_factory=dict)  # "contact" -> source key (or email/name)
    reference_fields: dict[str, str] = field(default_factory=dict)  # "contact" -> the source field it came from
    columns: dict[str, Any] = field(default_factory=dict)  # CSV and rebuild-inventory rows
    flags: list[Flag] = field(default_factory=list)
    rejected: str | None = None  # why the record cannot be loaded; None when it can
    rejected_code: str | None = None  # the reason's code (the audit's, where it predicts the class)
    missing: list[str] = field(default_factory=list)  # required standard fields with no value (the only problems)
    # values over MAX_VALUE_CHARS, whole, by the standard field they fill (by source field otherwise)
    full: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.rejected is None


@dataclass(frozen=True)
class _Step:
    fm: FieldMap
    standard: StandardField | None
    required: bool


@dataclass(frozen=True)
class _Plan:
    kind: TargetKind
    steps: tuple[_Step, ...]
    tag: str | None
    placeholder_contact: str | None
    attributes: bool


def _plan(mmap: MigrationMap, obj: str) -> _Plan:
    cache = mmap._cache.setdefault("apply_plans", {})
    plan = cache.get(obj)
    if plan is not None:
        return plan
    om = mmap.object_map(obj)
    if om is None:
        raise MapError(f"{obj} is not in the map")
    steps = []
    for fm in mmap.fields_of(obj):
        if fm.target.type == "skip":
            continue
        std = standard_field(om.target, fm.target.field) if isinstance(fm.target, StandardTarget) else None
        if isinstance(fm.target, StandardTarget) and std is None:
            raise MapError(f"{fm.key}: {om.target.value} has no standard field {fm.target.field!r}")
        required = std is not None and is_required(om.target, std.name)
        steps.append(_Step(fm, std, required))
    # a fallback source comes after the others, so it only fills what they left empty
    steps.sort(key=lambda step: isinstance(step.fm.target, StandardTarget) and step.fm.target.fallback)
    plan = _Plan(om.target, tuple(steps), om.options.tag, om.options.placeholder_contact,
                 om.target in ATTRIBUTE_MODEL and om.target is not TargetKind.CUSTOM_OBJECT)
    cache[obj] = plan
    return plan


def apply_map(
    mmap: MigrationMap,
    obj: str,
    record: Record | Mapping[str, Any],
    *,
    key: str | None = None,
    lookups: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
) -> MappedRecord:
    """Map one record of `obj`. `record` is a connectors Record (or its data with `key`);
    `lookups` holds lookup objects by key ({"statuses": {"1": {"name": "Open"}}})."""
    key_problem = None
    if isinstance(record, Record):
        data, key, key_problem = record.data, record.key, record.key_problem
    else:
        data = record
        if key is None:
            raise MapError("a record given as a mapping needs its key")
    plan = _plan(mmap, obj)
    out = MappedRecord(obj, key, plan.kind, source_id(mmap.platform, obj, key))
    ctx = TransformContext(field="", record=data, zone=zone_named(mmap.timezone), lookups=lookups or {},
                           flags=out.flags, tags=out.tags, attributes=out.attributes)
    problems: list[str] = []
    codes: list[str] = []
    unreadable: list[tuple[str, str]] = []  # (visibility field, why its value cannot be read)
    for step in plan.steps:
        fm = step.fm
        ctx.field = fm.field
        visibility = step.standard is not None and step.standard.name == "direction"
        try:
            value = data.get(fm.field)
            if isinstance(value, str) and REPLACEMENT in value:
                ctx.flag("text.undecodable", f"{fm.field}: bytes the source could not decode are replaced by "
                                             f"{REPLACEMENT!r}")
            if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
                name = step.standard.name if step.standard is not None else fm.field
                if not (isinstance(fm.target, StandardTarget) and fm.target.fallback and name in out.standard):
                    out.full[name] = value  # a fallback's value counts only where it fills the field
                    ctx.flag("value.oversized", f"{fm.field}: {len(value):,} characters, mapped from the first "
                                                f"{MAX_VALUE_CHARS:,} (the whole value is kept)")
                value = value[:MAX_VALUE_CHARS]
            if visibility and is_empty(value):
                unreadable.append((fm.field, "empty"))
                continue
            for transform in fm.transforms:
                if value is None:
                    break
                value = transform.apply(value, ctx)
            if is_empty(value):
                continue
            _place(out, fm, step.standard, value, ctx)
        except (TransformProblem, ArithmeticError, ValueError, TypeError) as error:
            problem = error if isinstance(error, TransformProblem) else TransformProblem(
                "unreadable", f"{short_repr(data.get(fm.field))} cannot be read ({type(error).__name__})")
            if visibility:
                unreadable.append((fm.field, problem.message))
            elif step.required:
                problems.append(f"{plan.kind.value}.{step.standard.name} from {fm.field}: {problem.message}")  # type: ignore[union-attr]
                codes.append(f"value.{problem.code}")
            else:
                ctx.flag(problem.code, f"{fm.field} left out: {problem.message}")
    if unreadable:
        _keep_private(out, unreadable)
    if isinstance(record, Record) and record.notes:  # what the connector settled by a rule (a DST gap)
        mapped = {step.fm.field for step in plan.steps}
        out.flags.extend(Flag(n.field, n.code, n.message) for n in record.notes if n.field in mapped)
    if plan.placeholder_contact and "contact" not in out.references:
        out.references["placeholder_contact"] = plan.placeholder_contact
    for group in required_fields(plan.kind):
        if any(name in out.standard or name in out.references for name in group):
            continue
        if group == ("contact",) and "placeholder_contact" in out.references:
            continue
        if not any(p.startswith(f"{plan.kind.value}.{name} ") for p in problems for name in group):
            sources = [s.fm.field for s in plan.steps if s.standard is not None and s.standard.name in group]
            where = f" ({', '.join(sources)} empty)" if sources else " (not mapped)"
            problems.append(f"{plan.kind.value}.{' or '.join(group)} is missing{where}")
            codes.append(missing_code(plan.kind, group[0]))
            out.missing.append(group[0])
    if plan.tag:
        out.tags.append(plan.tag)
    if out.tags:
        out.tags[:] = list(dict.fromkeys(out.tags))
    if plan.attributes:
        out.attributes[SOURCE_ID_ATTRIBUTE] = out.source_id
    if key_problem is not None:  # first: nothing else would make it loadable
        problems.insert(0, key_problem.reason)
        codes.insert(0, key_problem.code)
    if problems:
        out.rejected = "; ".join(problems)
        out.rejected_code = codes[0]
        if len(out.missing) != len(problems):
            out.missing = []  # other problems too: filling a missing field would not make it loadable
    return out


_MATCH_RANK = {"key": 0, "email": 1, "name": 2}


def _keep_private(out: MappedRecord, unreadable: list[tuple[str, str]]) -> None:
    """The product's safety rule: a part whose visibility flag cannot be read is an internal note,
    whatever its author or its object's default says, and the reports say so."""
    out.standard["direction"] = UNREADABLE_DIRECTION
    for name, why in unreadable:
        out.flags.append(Flag(name, VISIBILITY_FLAG, f"loaded as an internal note: its visibility cannot be read ({why})"))


def _place(out: MappedRecord, fm: FieldMap, std: StandardField | None, value: Any, ctx: TransformContext) -> None:
    target = fm.target
    if isinstance(target, StandardTarget):
        assert std is not None
        coerced = coerce_standard(std.value, value, ctx.zone, std.options)
        if is_empty(coerced):
            return
        if std.value is ValueType.REFERENCE:
            # several fields may name the same reference (a requester's id, and an email for
            # guests): a key beats an email beats a name, and the field that won says how to
            # resolve the value; a fallback source only fills a reference left empty
            placed = out.reference_fields.get(std.name)
            if target.fallback:
                better = placed is None
                if better:
                    ctx.flag("fallback.used", f"{std.name} from {fm.field} (its other sources are empty)")
            else:
                better = placed is None or _MATCH_RANK[target.match] < _MATCH_RANK[ctx.reference_matches.get(placed, "key")]
            if better:
                out.references[std.name] = coerced
                out.reference_fields[std.name] = fm.field
                ctx.reference_matches[fm.field] = target.match
        elif std.name == "tags":
            out.tags.extend(coerced)
        elif target.fallback:
            if std.name not in out.standard:
                out.standard[std.name] = coerced
                ctx.flag("fallback.used", f"{std.name} from {fm.field} (its other sources are empty)")
        else:
            out.standard[std.name] = coerced
    elif isinstance(target, AttributeTarget):
        out.attributes[target.name] = coerce_attribute(target.data_type, value, ctx.zone)
    elif isinstance(target, TagTarget):
        items = value if isinstance(value, list) else [value]
        out.tags.extend(f"{target.prefix}{as_text(v).strip()}" for v in items if not is_empty(v))
    elif isinstance(target, NoteTarget):
        out.notes.append(f"{target.label}: {as_text(value)}")
    elif isinstance(target, ColumnTarget):
        out.columns[target.name] = as_text(value) if not isinstance(value, (int, float, bool)) else value
