"""The map itself: object maps, field maps, and the whole `MigrationMap` with its hash.

The hash covers only what changes the data that lands in Intercom (object targets and
options, field targets and transforms, the source time zone), never confidence,
reasons, samples, review status, the proposer's open questions (`Review`) or the LLM's
diff (`Advice`): re-proposing
with different wording leaves a confirmed map's hash alone, while any real change shows.

A standard field that one source fills (a title, an email) takes exactly one source: a
map with two is blocked, never loaded with both. What the proposer could not settle
alone (a target whose expected source is empty, two sources claiming one target) is a
`Review` that names the rows involved: it blocks the map until each of them is confirmed
or edited one by one, and bulk confirmation passes them by.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from helpmig_tui.mapping.coerce import as_text
from helpmig_tui.mapping.names import name_problem
from helpmig_tui.mapping.standard import (
    ATTRIBUTE_MODEL,
    COLUMN_KINDS,
    NOTABLE,
    STANDARD_FIELDS,
    TAGGABLE,
    UNMAPPED_KINDS,
    TargetKind,
    required_fields,
    single_valued,
)
from helpmig_tui.mapping.transforms import Transform, check_zone

AttributeType = Literal["string", "integer", "float", "boolean", "datetime", "date", "options"]
Status = Literal["proposed", "edited", "confirmed", "skipped"]
SETTLED: frozenset[str] = frozenset({"confirmed", "skipped"})
MAP_FORMAT = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StandardTarget(_Model):
    """A standard Intercom field of the object's kind (see standard.py)."""

    type: Literal["standard"] = "standard"
    field: str
    refers_to: str | None = None  # for references: the source object the value is a key of
    match: Literal["key", "email", "name"] = "key"  # for references: what the value is
    # a fallback source: used only for the records where the field's other sources are empty
    # (body_html, then body_text); counted in the phase report when it is
    fallback: bool = False

    def describe(self) -> str:
        ref = f" → {self.refers_to}" if self.refers_to else ""
        by = f" (by {self.match})" if self.match != "key" else ""
        return f"{self.field}{ref}{by}" + (" (fallback)" if self.fallback else "")


class AttributeTarget(_Model):
    """A custom attribute on the record (the object's kind decides the model)."""

    type: Literal["attribute"] = "attribute"
    name: str
    data_type: AttributeType = "string"
    existing: bool = False  # the workspace already has it: nothing to create

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        problem = name_problem(value)
        if problem:
            raise ValueError(f"attribute name {value!r}: {problem}")
        return value

    def describe(self) -> str:
        return f"attribute {self.name} ({self.data_type}{', existing' if self.existing else ''})"


class TagTarget(_Model):
    """Each value (or each item of a list value) becomes a tag, with an optional prefix."""

    type: Literal["tag"] = "tag"
    prefix: str = ""

    def describe(self) -> str:
        return f"tag {self.prefix}…" if self.prefix else "tag"


class NoteTarget(_Model):
    """The value goes into an internal note (conversation) or a note (contact, company)
    as "Label: value"."""

    type: Literal["note"] = "note"
    label: str

    def describe(self) -> str:
        return f"note “{self.label}”"


class ColumnTarget(_Model):
    """A column of the supplementary CSV or of the rebuild inventory."""

    type: Literal["column"] = "column"
    name: str

    def describe(self) -> str:
        return f"column {self.name}"


class SkipTarget(_Model):
    type: Literal["skip"] = "skip"

    def describe(self) -> str:
        return "skip"


FieldTarget = Annotated[
    StandardTarget | AttributeTarget | TagTarget | NoteTarget | ColumnTarget | SkipTarget,
    Field(discriminator="type"),
]
TARGET_TYPES = ("standard", "attribute", "tag", "note", "column", "skip")


class FieldMap(_Model):
    """One source field of a mapped object: where it goes and how it is transformed."""

    object: str
    field: str
    target: FieldTarget
    transforms: list[Transform] = Field(default_factory=list)
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    reason: str = ""
    status: Status = "proposed"
    samples: list[str] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.object}.{self.field}"

    @property
    def settled(self) -> bool:
        return self.status in SETTLED

    def semantic(self) -> dict[str, Any]:
        return {
            "object": self.object,
            "field": self.field,
            # defaults left out: an option added later leaves the hash of a map that does not use it
            "target": self.target.model_dump(mode="json", exclude_defaults=True) | {"type": self.target.type},
            "transforms": [t.model_dump(mode="json") for t in self.transforms],
        }

    def describe_transforms(self) -> str:
        return ", ".join(t.describe() for t in self.transforms)


class Review(_Model):
    """A standard target the proposer could not settle alone, for the operator.

    `gap`: the source the default map expects for it is empty or missing (a renamed
    column); `conflict`: several fields claim it. `fields` are the rows involved, the
    proposed source first when there is one; `candidates` the fields that could fill it,
    best first (a later fallback chain can take them in this order)."""

    object: str
    target: str
    kind: Literal["gap", "conflict"]
    fields: list[str]
    candidates: list[str] = Field(default_factory=list)
    reason: str

    def describe(self) -> str:
        rows = ", ".join(f"{self.object}.{f}" for f in self.fields)
        return f"{self.object}: {self.target} {self.reason}; confirm or edit {rows} one by one"


# how a row's reason begins when the LLM was asked for it and gave nothing (the row keeps the built-in proposal)
LLM_FAILED, LLM_NOT_ASKED = "LLM failed", "LLM not asked"


class Advice(_Model):
    """What the LLM proposed for one field against the built-in proposal, and whether it
    was applied or declined (and why): the LLM's diff, shown to the operator."""

    object: str
    field: str
    before: str  # the built-in target and transforms, in words
    after: str  # the LLM's
    reason: str  # the LLM's own reason
    applied: bool
    why: str = ""  # why it was declined

    def describe(self) -> str:
        verdict = "applied" if self.applied else f"declined: {self.why}"
        return f"{self.object}.{self.field}: {self.before} → {self.after} ({verdict}; LLM: {self.reason})"


TRUE_VALUES = ("true", "1", "-1", "yes", "y")  # how sources write a set flag, as text
FALSE_VALUES = ("false", "0", "no", "n")


class ScopeRule(_Model):
    """Records the migration leaves out by a field's value (private articles): data in the
    map, so the operator sees and changes it; the scope check names the records before
    the load, and the load counts them as skipped with the rule's code."""

    field: str
    values: list[str]  # compared as trimmed, case-folded text ("" for no value)
    code: str
    reason: str

    def matches(self, data: Any) -> bool:
        value = data.get(self.field)
        text = "" if value is None else as_text(value).strip().casefold()
        return text in {v.strip().casefold() for v in self.values}


class ObjectOptions(_Model):
    """How an object's records land, beyond the kind."""

    channel: Literal["email", "chat", "phone"] | None = None  # conversations
    parts_over_500: Literal["split", "summarise"] | None = None  # conversations past Intercom's cap
    part_type: Literal["comment", "note"] | None = None  # parts without a direction field
    custom_object_type: str | None = None  # custom objects: the type's identifier in Intercom
    tag: str | None = None  # a tag every record gets (a problem as a tagged conversation)
    placeholder_contact: str | None = None  # the contact's email for records without a requester
    skip_when: list[ScopeRule] = Field(default_factory=list)  # records left out by a value

    def describe(self) -> str:
        shown = [f"{k}={v}" for k, v in self.model_dump(exclude_none=True, exclude={"skip_when"}).items()]
        return ", ".join(shown + [f"leaves out {r.reason} ({r.field})" for r in self.skip_when])

    def without_rule(self, code: str) -> ObjectOptions:
        return self.model_copy(update={"skip_when": [r for r in self.skip_when if r.code != code]})


class ObjectMap(_Model):
    """One source object: what it becomes in Intercom."""

    object: str
    target: TargetKind
    options: ObjectOptions = Field(default_factory=ObjectOptions)
    choices: list[TargetKind] = Field(default_factory=list)  # what the operator may pick instead
    role: str = ""  # the source role (connectors.base.ObjectRole)
    label: str = ""
    parent: str | None = None  # parts: the conversation object they belong to
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    reason: str = ""
    status: Status = "proposed"

    @property
    def key(self) -> str:
        return self.object

    @property
    def settled(self) -> bool:
        return self.status in SETTLED

    @property
    def active(self) -> bool:
        """Records of this object move (or are listed): it has a field map."""
        return self.target not in UNMAPPED_KINDS

    def semantic(self) -> dict[str, Any]:
        return {
            "object": self.object,
            "target": self.target.value,
            "options": self.options.model_dump(mode="json", exclude_defaults=True),
        }


def allowed_target_types(kind: TargetKind) -> tuple[str, ...]:
    """Which field target types make sense for an object of this kind."""
    if kind in COLUMN_KINDS:
        return ("column", "skip")
    if kind in UNMAPPED_KINDS:
        return ("skip",)
    types = ["standard"] if STANDARD_FIELDS.get(kind) else []
    if kind in ATTRIBUTE_MODEL:
        types.append("attribute")
    if kind in TAGGABLE:
        types.append("tag")
    if kind in NOTABLE:
        types.append("note")
    return (*types, "skip")


def target_problem(kind: TargetKind, target: Any) -> str | None:
    """Why a field target does not fit an object of this kind, or None."""
    if target.type not in allowed_target_types(kind):
        return f"a {kind.value} cannot take a {target.type} target"
    if target.type == "standard" and not any(f.name == target.field for f in STANDARD_FIELDS.get(kind, ())):
        known = ", ".join(f.name for f in STANDARD_FIELDS.get(kind, ()))
        return f"{kind.value} has no standard field {target.field!r} (it has: {known})"
    return None


class MigrationMap(_Model):
    """The whole map of one project: every object and every field of the mapped objects."""

    format: int = MAP_FORMAT
    platform: str
    timezone: str = "UTC"  # naive source dates are read in this zone
    proposer: str = "builtin"
    objects: list[ObjectMap] = Field(default_factory=list)
    fields: list[FieldMap] = Field(default_factory=list)
    reviews: list[Review] = Field(default_factory=list)
    advice: list[Advice] = Field(default_factory=list)  # the LLM's changes, when it was asked

    _index: dict[str, list[FieldMap]] | None = PrivateAttr(default=None)
    _cache: dict[str, Any] = PrivateAttr(default_factory=dict)  # derived data (apply's plans)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_zone(value) or "UTC"

    @model_validator(mode="after")
    def _consistent(self) -> MigrationMap:
        names = [o.object for o in self.objects]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"objects listed twice: {', '.join(duplicates)}")
        keys = [f.key for f in self.fields]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"fields listed twice: {', '.join(twice[:5])}")
        unknown = sorted({f.object for f in self.fields} - set(names))
        if unknown:
            raise ValueError(f"fields of objects the map does not list: {', '.join(unknown)}")
        return self

    # -- lookups -------------------------------------------------------------------

    def object_map(self, name: str) -> ObjectMap | None:
        return next((o for o in self.objects if o.object == name), None)

    def fields_of(self, name: str) -> list[FieldMap]:
        if self._index is None:
            index: dict[str, list[FieldMap]] = {}
            for fm in self.fields:
                index.setdefault(fm.object, []).append(fm)
            self._index = index
        return self._index.get(name, [])

    def field_map(self, obj: str, field: str) -> FieldMap | None:
        return next((f for f in self.fields_of(obj) if f.field == field), None)

    def active_objects(self) -> list[ObjectMap]:
        return [o for o in self.objects if o.active]

    def reference(self, obj: str, standard: str) -> StandardTarget | None:
        """The target of the field mapped to a standard reference (what `contact` points at)."""
        for fm in self.fields_of(obj):
            if isinstance(fm.target, StandardTarget) and fm.target.field == standard:
                return fm.target
        return None

    # -- review state --------------------------------------------------------------

    def rows(self) -> list[ObjectMap | FieldMap]:
        """Everything the operator reviews: each object, then its fields (active ones)."""
        out: list[ObjectMap | FieldMap] = []
        for obj in self.objects:
            out.append(obj)
            if obj.active:
                out.extend(self.fields_of(obj.object))
        return out

    def unconfirmed(self) -> list[str]:
        """Keys ("tickets", "tickets.Subject") of the rows not confirmed yet."""
        return [row.key for row in self.rows() if not row.settled]

    def coverage(self) -> dict[str, list[str]]:
        """Required Intercom fields no field maps to, per active object ("tickets": ["contact"])."""
        missing: dict[str, list[str]] = {}
        for obj in self.active_objects():
            mapped = {
                fm.target.field for fm in self.fields_of(obj.object) if isinstance(fm.target, StandardTarget)
            }
            if obj.target is TargetKind.CONVERSATION and obj.options.placeholder_contact:
                mapped.add("contact")
            gaps = [group[0] if len(group) == 1 else " or ".join(group)
                    for group in required_fields(obj.target) if not mapped.intersection(group)]
            if gaps:
                missing[obj.object] = gaps
        return missing

    def open_reviews(self) -> list[Review]:
        """Reviews with a row still as proposed (of an active object)."""
        out = []
        for review in self.reviews:
            om = self.object_map(review.object)
            if om is None or not om.active:
                continue
            rows = [self.field_map(review.object, f) for f in review.fields]
            if any(fm is not None and fm.status == "proposed" for fm in rows):
                out.append(review)
        return out

    def in_open_review(self, key: str) -> bool:
        """Whether a row ("tickets.subject") must be decided on its own, not in bulk."""
        obj, _, field = key.partition(".")
        return any(r.object == obj and field in r.fields for r in self.open_reviews())

    def doubled(self) -> dict[str, dict[str, list[str]]]:
        """Standard fields one source fills that several fields map to: {object: {target: fields}}."""
        out: dict[str, dict[str, list[str]]] = {}
        for om in self.active_objects():
            seen: dict[str, list[str]] = {}
            for fm in self.fields_of(om.object):
                if isinstance(fm.target, StandardTarget) and single_valued(om.target, fm.target.field) \
                        and not fm.target.fallback:
                    seen.setdefault(fm.target.field, []).append(fm.field)
            twice = {target: fields for target, fields in seen.items() if len(fields) > 1}
            if twice:
                out[om.object] = twice
        return out

    def blockers(self) -> list[str]:
        """What stands between this map and a load, in words."""
        lines = []
        unconfirmed = self.unconfirmed()
        if unconfirmed:
            objects = sum(1 for key in unconfirmed if "." not in key)
            fields = len(unconfirmed) - objects
            parts = [f"{n} {what}{'s' if n != 1 else ''}" for n, what in ((objects, "object"), (fields, "field")) if n]
            lines.append(" and ".join(parts) + " unconfirmed")
        for obj, gaps in self.coverage().items():
            kind = self.object_map(obj).target.value  # type: ignore[union-attr]
            lines += [f"{obj}: {kind}.{gap} not mapped" for gap in gaps]
        for obj, twice in self.doubled().items():
            lines += [f"{obj}: {target} comes from {' and '.join(fields)}: keep one" for target, fields in twice.items()]
        lines += [review.describe() for review in self.open_reviews()]
        return lines

    # -- identity ------------------------------------------------------------------

    def semantic(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "platform": self.platform,
            "timezone": self.timezone,
            "objects": sorted((o.semantic() for o in self.objects), key=lambda o: o["object"]),
            "fields": sorted((f.semantic() for f in self.fields), key=lambda f: (f["object"], f["field"])),
        }

    def hash(self) -> str:
        text = json.dumps(self.semantic(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def with_rows(self, objects: list[ObjectMap] | None = None, fields: list[FieldMap] | None = None) -> MigrationMap:
        """A copy with some rows replaced (by object, or by object and field)."""
        new_objects = {o.object: o for o in objects or ()}
        new_fields = {f.key: f for f in fields or ()}
        return self.model_copy(
            update={
                "objects": [new_objects.get(o.object, o) for o in self.objects],
                "fields": [new_fields.get(f.key, f) for f in self.fields],
            },
            deep=False,
        ).revalidated()

    def revalidated(self) -> MigrationMap:
        return MigrationMap.model_validate(self.model_dump())
