"""The destination schema a map needs: custom attributes to create, per model, and tags.

Checked against what the workspace already has (plain data: the Intercom client is not
needed here): names must follow Intercom's rules, and contact plus company attributes must
stay within the workspace's 250. Each attribute's name in the workspace is settled here,
before the load, never discovered per record: Intercom keeps contact and company attribute
names unique across both models (standard and archived ones included, any case), so an
attribute whose name another model holds, or that an attribute of another type or a
standard field holds, is renamed `<name>_<model>` (then `_2`, ...), and the rename is
listed. Names settled by an earlier plan of the project are kept.
Conversation attributes have their own API in 2.16 and their own types (decimal, list);
custom-object attributes cannot be created by API at all, so they are listed for the
admin to define on the object type.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from helpmig_tui.mapping.apply import SOURCE_ID_ATTRIBUTE, SOURCE_ID_MODELS
from helpmig_tui.mapping.evidence import SourceEvidence
from helpmig_tui.mapping.model import AttributeTarget, MigrationMap, TagTarget
from helpmig_tui.mapping.names import name_problem
from helpmig_tui.mapping.standard import ATTRIBUTE_MODEL, TargetKind
from helpmig_tui.mapping.transforms import Truncate, ValueMap

ATTRIBUTE_LIMIT = 250  # custom data attributes per workspace (contacts and companies)
WARN_AT = 0.9  # warn when a plan fills this share of the limit
DATA_MODELS = ("contact", "company")
# Intercom's conversation attribute API names some types differently (2.16).
CONVERSATION_TYPES = {"string": "string", "integer": "integer", "float": "decimal", "boolean": "boolean",
                      "datetime": "datetime", "date": "datetime", "options": "list"}


@dataclass(frozen=True)
class ExistingAttribute:
    """An attribute the workspace has, as GET /data_attributes or /conversations/attributes lists it."""

    name: str
    model: str  # contact | company | conversation
    data_type: str
    archived: bool = False
    custom: bool = True
    id: str | None = None
    options: tuple[str, ...] = ()


@dataclass
class PlannedAttribute:
    name: str  # in the workspace (settled: see the module doc)
    model: str  # contact | company | conversation | custom_object:<Type>
    data_type: str  # in the terms of the model's API
    sources: list[str] = field(default_factory=list)  # OBJECT.FIELD that write it
    options: list[str] = field(default_factory=list)
    status: str = "create"  # create | exists | unarchive | conflict | invalid | manual
    logical: str = ""  # the name the map gives it (the key of a mapped record's attributes)
    id: str | None = None  # the workspace's id, when it exists
    renamed_because: str = ""

    def __post_init__(self) -> None:
        self.logical = self.logical or self.name

    @property
    def creates(self) -> bool:
        return self.status == "create"

    @property
    def key(self) -> str:
        """What the project's settled names and the journal know it by."""
        return f"{self.model}:{self.logical}"


@dataclass
class SchemaPlan:
    attributes: list[PlannedAttribute]
    tags: list[str]
    data_attributes_used: int  # existing custom contact/company attributes, not archived
    problems: list[str]  # what stops the Prepare step
    warnings: list[str]

    def names(self) -> dict[str, str]:
        """model:logical -> workspace name, for the project to keep."""
        return {a.key: a.name for a in self.attributes if a.status in ("create", "exists", "unarchive")}

    def to_create(self, model: str | None = None) -> list[PlannedAttribute]:
        return [a for a in self.attributes if a.creates and (model is None or a.model == model)]

    @property
    def data_attributes_after(self) -> int:
        return self.data_attributes_used + len([a for a in self.to_create() if a.model in DATA_MODELS])


def _model_of(mmap: MigrationMap, obj: str) -> str | None:
    om = mmap.object_map(obj)
    if om is None or om.target not in ATTRIBUTE_MODEL:
        return None
    if om.target is TargetKind.CUSTOM_OBJECT:
        return f"custom_object:{om.options.custom_object_type or om.object}"
    return ATTRIBUTE_MODEL[om.target]


def _known_values(fm: Any, evidence: SourceEvidence | None) -> list[str]:
    for t in reversed(fm.transforms):
        if isinstance(t, ValueMap):
            values = {v for v in t.mapping.values() if v} | ({t.default} if t.default else set())
            return sorted(values)
    if evidence is not None:
        ev = evidence.object(fm.object)
        f = ev.field(fm.field) if ev else None
        if f is not None and f.top_values:
            return sorted({v for v, _ in f.top_values if v.strip()})
    return []


def plan_schema(mmap: MigrationMap, existing: Iterable[ExistingAttribute] = (),
                evidence: SourceEvidence | None = None, settled: Mapping[str, str] | None = None) -> SchemaPlan:
    """What Prepare must create for this map, and what stands in its way. `existing` lists
    the workspace's attributes, archived ones included; `settled` the names an earlier plan
    of this project chose (model:name -> workspace name)."""
    existing = list(existing)
    planned: dict[tuple[str, str], PlannedAttribute] = {}
    problems: list[str] = []
    warnings: list[str] = []
    tags: set[str] = set()

    def want(model: str, name: str, data_type: str, source: str, options: list[str] = ()) -> None:
        key = (model, name.casefold())
        current = planned.get(key)
        if current is None:
            planned[key] = PlannedAttribute(name, model, data_type, [source], list(options))
        elif current.data_type != data_type:
            current.status = "conflict"
            problems.append(f"{model} attribute {name}: {', '.join(current.sources)} write {current.data_type}, "
                            f"{source} writes {data_type}")
            current.sources.append(source)
        else:
            current.sources.append(source)
            current.options = sorted(set(current.options) | set(options))

    for om in mmap.active_objects():
        model = _model_of(mmap, om.object)
        if om.options.tag:
            tags.add(om.options.tag)
        if model in SOURCE_ID_MODELS:
            want(model, SOURCE_ID_ATTRIBUTE, "string", "every record (where it came from)")
        for fm in mmap.fields_of(om.object):
            for t in fm.transforms:
                if isinstance(t, Truncate):
                    if t.tag:
                        tags.add(t.tag)
                    if t.flag_attribute and model:
                        want(model, t.flag_attribute, "boolean", f"{fm.key} (cut)")
            if isinstance(fm.target, TagTarget):
                values = _known_values(fm, None)
                tags.update(f"{fm.target.prefix}{v}" for v in values)
            if not isinstance(fm.target, AttributeTarget) or model is None:
                continue
            data_type = fm.target.data_type
            options = _known_values(fm, evidence) if data_type == "options" else []
            if data_type == "options" and len(options) < 2:
                warnings.append(f"{fm.key}: fewer than two known values for an options attribute; created as text")
                data_type, options = "string", []
            if model == "conversation":
                data_type = CONVERSATION_TYPES[data_type]
            want(model, fm.target.name, data_type, fm.key, options)

    for attribute in planned.values():
        problem = name_problem(attribute.name)
        if problem:
            attribute.status = "invalid"
            problems.append(f"{attribute.model} attribute {attribute.name!r}: {problem}")
        elif attribute.model.startswith("custom_object:"):
            attribute.status = "manual"
    _settle_names([a for a in planned.values() if a.status == "create"], existing, dict(settled or {}), warnings)

    used = sum(1 for a in existing if a.model in DATA_MODELS and a.custom and not a.archived)
    plan = SchemaPlan(sorted(planned.values(), key=lambda a: (a.model, a.logical.casefold())), sorted(tags), used,
                      problems, warnings)
    after = plan.data_attributes_after
    if after > ATTRIBUTE_LIMIT:
        problems.append(f"{after} custom contact and company attributes would exceed Intercom's limit of "
                        f"{ATTRIBUTE_LIMIT} ({used} exist): skip fields, use notes, or archive unused attributes")
    elif after >= WARN_AT * ATTRIBUTE_LIMIT:
        warnings.append(f"{after} of {ATTRIBUTE_LIMIT} custom contact and company attributes would be in use")
    manual = sorted({a.model for a in plan.attributes if a.status == "manual"})
    if manual:
        warnings.append("custom object types cannot be created by API: define "
                        + ", ".join(m.split(":", 1)[1] for m in manual) + " and their attributes in Intercom first")
    return plan


def _settle_names(planned: list[PlannedAttribute], existing: list[ExistingAttribute], settled: dict[str, str],
                  warnings: list[str]) -> None:
    """Give every attribute to create its name in the workspace: reuse a live attribute of
    the same model and type, unarchive one this project made before, otherwise the first
    free name. Contacts are settled before companies, so they keep the plain names."""
    data_names: dict[str, ExistingAttribute] = {}  # casefold -> attribute (contact and company share them)
    conversation_names: dict[str, list[ExistingAttribute]] = {}
    for a in existing:
        if a.model in DATA_MODELS:
            data_names.setdefault(a.name.casefold(), a)
        elif a.model == "conversation":
            conversation_names.setdefault(a.name.casefold(), []).append(a)
    order = {"contact": 0, "company": 1, "conversation": 2}
    for attribute in sorted(planned, key=lambda a: (order.get(a.model, 3), a.logical != SOURCE_ID_ATTRIBUTE,
                                                    a.logical.casefold())):
        ours = settled.get(attribute.key)
        candidates = _candidates(attribute, ours)
        for name in candidates:
            if attribute.model == "conversation":
                verdict, found = _conversation_verdict(attribute, conversation_names.get(name.casefold(), []))
            else:
                verdict, found = _data_verdict(attribute, data_names.get(name.casefold()), name == ours)
            if verdict is None:
                continue
            attribute.status, attribute.name = verdict, name
            if found is not None:  # the workspace's options, not the plan's: the load adds what is missing
                attribute.id, attribute.options = found.id, sorted(found.options)
            break
        if attribute.name != attribute.logical and attribute.name != ours:
            attribute.renamed_because = f"{attribute.logical!r} is taken in the workspace"
            warnings.append(f"{attribute.model} attribute {attribute.logical} is created as {attribute.name}: "
                            f"{attribute.logical!r} is taken (Intercom keeps contact and company attribute names "
                            "unique across both, any case)")
        placeholder = ExistingAttribute(attribute.name, attribute.model, attribute.data_type)
        if attribute.model == "conversation":
            conversation_names.setdefault(attribute.name.casefold(), []).append(placeholder)
        else:
            data_names.setdefault(attribute.name.casefold(), placeholder)


def _candidates(attribute: PlannedAttribute, ours: str | None) -> Iterator[str]:
    """The names to try in order, each checked only when reached (the first usually serves:
    every run settles every attribute again)."""
    base, suffix = attribute.logical, attribute.model
    names = [ours] if ours else []
    names += [base, f"{base}_{suffix}"]
    tried: set[str] = set()
    for name in itertools.chain(names, (f"{base}_{suffix}_{n}" for n in range(2, 100))):
        if name not in tried:
            tried.add(name)
            if not name_problem(name):
                yield name


def _data_verdict(attribute: PlannedAttribute, holder: ExistingAttribute | None,
                  ours: bool) -> tuple[str | None, ExistingAttribute | None]:
    """create / exists / unarchive when `holder` leaves this name usable; None when it is taken."""
    if holder is None:
        return "create", None
    if holder.model != attribute.model or not holder.custom or holder.data_type != _reported(attribute.data_type):
        return None, None
    if holder.archived:
        return ("unarchive", holder) if ours else (None, None)
    return "exists", holder


def _conversation_verdict(attribute: PlannedAttribute,
                          holders: list[ExistingAttribute]) -> tuple[str | None, ExistingAttribute | None]:
    live = [h for h in holders if not h.archived]
    if not live:
        return "create", None
    if len(live) == 1 and live[0].data_type == attribute.data_type:
        return "exists", live[0]
    return None, None  # another type, or several of the name (Intercom then refuses every write)


def _reported(data_type: str) -> str:
    """How GET /data_attributes reports a type (datetime as date, options as string)."""
    return {"datetime": "date", "options": "string"}.get(data_type, data_type)
