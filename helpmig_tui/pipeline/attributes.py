"""Custom attribute values as Intercom takes them: the workspace's name for each of the
map's attributes, its type, its options.

A mapped record carries attribute values under the map's names. Before a record is sent,
`AttributeBook.values()` renames each to the name settled in the schema plan (contact and
company names are unique across both models in Intercom), coerces it to the attribute's
type as the API description types it (custom object instances take strings only), and
adds an option the attribute lacks (journaled, once) instead of sending a value Intercom
refuses. A value whose attribute does not exist in the workspace (its creation failed or
was refused) is never sent: it is left out and said once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.intercom import IntercomClient
from connectors.intercom.errors import IntercomError
from connectors.intercom.models import DataAttributeOption, DataAttributeUpdate
from helpmig_tui.mapping.coerce import as_bool, as_float, as_int, as_text
from helpmig_tui.mapping.model import MigrationMap
from helpmig_tui.mapping.schema_plan import ExistingAttribute, PlannedAttribute, SchemaPlan, plan_schema
from helpmig_tui.mapping.transforms import TransformProblem
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import Project

LIVE = ("create", "exists", "unarchive")
SETTLED_NAMES = "attribute_names"  # the project's settings key


async def existing_attributes_of(client: IntercomClient) -> list[ExistingAttribute]:
    """Every contact, company and conversation attribute of the workspace, archived included
    (an archived name stays taken)."""
    found = []
    contact, company, conversation = await asyncio.gather(  # three round trips at once
        client.data_attributes.list("contact", include_archived=True),
        client.data_attributes.list("company", include_archived=True),
        client.conversation_attributes.list(include_archived=True))
    for model, listed in (("contact", contact), ("company", company)):
        for a in listed:
            found.append(ExistingAttribute(a.name, model, a.data_type or "", bool(a.archived),
                                           bool(a.custom) if a.custom is not None else True,
                                           str(a.id) if a.id is not None else None, tuple(a.options or ())))
    for a in conversation:
        found.append(ExistingAttribute(a.name, "conversation", a.data_type or "", bool(a.archived), True, str(a.id),
                                       tuple(a.labels)))
    return found


def settled_names(store: ProjectStore) -> dict[str, str]:
    return dict((store.project().settings or {}).get(SETTLED_NAMES, {}))


def keep_names(store: ProjectStore, plan: SchemaPlan) -> None:
    """Remember the names this plan settled, so every later run writes the same attributes."""
    names = plan.names()
    with store.session() as session:
        project = session.get(Project, 1)
        assert project is not None
        current = dict((project.settings or {}).get(SETTLED_NAMES, {}))
        if all(current.get(k) == v for k, v in names.items()):
            return
        project.settings = {**(project.settings or {}), SETTLED_NAMES: {**current, **names}}


async def workspace_schema(client: IntercomClient, store: ProjectStore, mmap: MigrationMap) -> SchemaPlan:
    """The schema plan against the workspace as it is now, with this project's names kept."""
    return schema_of(store, mmap, await existing_attributes_of(client))


def schema_of(store: ProjectStore, mmap: MigrationMap, existing: list[ExistingAttribute]) -> SchemaPlan:
    """The schema plan against these workspace attributes (just read), with this project's names kept."""
    plan = plan_schema(mmap, existing, settled=settled_names(store))
    keep_names(store, plan)
    return plan


def _unix_to_iso(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
    return as_text(value)


def coerce_for(data_type: str, value: Any, *, strings_only: bool = False) -> Any:
    """A value as an attribute of this Intercom type takes it; `TransformProblem` when it cannot."""
    if strings_only:  # custom object instances: the description types every value as a string
        if isinstance(value, bool):
            return "true" if value else "false"
        return _unix_to_iso(value) if data_type in ("date", "datetime") else as_text(value)
    if data_type == "integer":
        return as_int(value)
    if data_type in ("float", "decimal"):
        return as_float(value)
    if data_type == "boolean":
        return as_bool(value)
    if data_type in ("date", "datetime"):
        return as_int(value)
    return as_text(value)


class AttributeBook:
    """The attributes a load writes, by model and map name; built from the schema plan."""

    def __init__(self, plan: SchemaPlan, client: IntercomClient | None = None) -> None:
        self.client = client
        self._slots: dict[tuple[str, str], PlannedAttribute] = {(a.model, a.logical): a for a in plan.attributes}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.left_out: dict[tuple[str, str], str] = {}  # (model, map name) -> why its values are not sent

    def slot(self, model: str, logical: str) -> PlannedAttribute | None:
        return self._slots.get((model, logical))

    def slots(self) -> list[PlannedAttribute]:
        return list(self._slots.values())

    def writes_left(self) -> bool:
        """Does the workspace, as read at the session's start, lack an attribute the load
        writes (to create, or to unarchive)?"""
        return any(a.status in ("create", "unarchive") for a in self._slots.values())

    def created(self, model: str, logical: str, attribute_id: str | None) -> None:
        slot = self._slots.get((model, logical))
        if slot is not None:
            slot.id = attribute_id

    def refused(self, model: str, logical: str, reason: str) -> None:
        slot = self._slots.get((model, logical))
        if slot is not None:
            slot.status = "refused"
            self.left_out[(model, logical)] = reason

    def name_of(self, model: str, logical: str) -> str:
        """The workspace's name of a map attribute (validation reads values back by it)."""
        slot = self._slots.get((model, logical))
        return slot.name if slot is not None else logical

    def coerce(self, model: str, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Renamed and coerced values, and the map names whose values cannot be sent."""
        out: dict[str, Any] = {}
        dropped: list[str] = []
        strings_only = model.startswith("custom_object:")
        for logical, value in values.items():
            slot = self._slots.get((model, logical))
            if slot is None or (not strings_only and (slot.status not in LIVE or slot.id is None)):
                self.left_out.setdefault((model, logical), "the attribute does not exist in Intercom")
                dropped.append(logical)
                continue
            try:
                out[slot.name] = coerce_for(slot.data_type, value, strings_only=strings_only)
            except TransformProblem:
                dropped.append(logical)
        return out, dropped

    async def values(self, model: str, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """As `coerce`, and every option a value needs added to its attribute first."""
        out, dropped = self.coerce(model, values)
        for logical in list(values):
            slot = self._slots.get((model, logical))
            if slot is None or slot.name not in out or slot.data_type not in ("options", "list"):
                continue
            value = out[slot.name]
            if value in slot.options:
                continue
            try:
                added = await self._add_option(slot, value)
            except IntercomError as exc:
                self.left_out.setdefault((model, logical), f"the option {value!r} could not be added: {exc}")
                added = False
            if not added:
                del out[slot.name]
                dropped.append(logical)
        return out, dropped

    async def _add_option(self, slot: PlannedAttribute, value: str) -> bool:
        lock = self._locks.setdefault((slot.model, slot.logical), asyncio.Lock())
        async with lock:
            if value in slot.options:
                return True
            if self.client is None or slot.id is None:
                return False
            if slot.model == "conversation":
                answer = await self.client.conversation_attributes.add_option(int(slot.id), value)
                slot.options = sorted(set(answer.labels) | {value})
            else:
                wanted = sorted({*slot.options, value})
                answer = await self.client.data_attributes.update(
                    int(slot.id), DataAttributeUpdate(options=[DataAttributeOption(value=v) for v in wanted]))
                slot.options = sorted(set(answer.options or wanted))
            return value in slot.options
