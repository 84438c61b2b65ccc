"""The first two phases: match agents and groups to Intercom admins and teams (which the
API cannot create), then prepare the destination schema: custom attributes, tags and
help-center collections.

Agents with no admin of the same email or name wait in a reconciliation queue until the
operator matches them, picks a fallback admin, or skips them; the conversations phase does
not start while any is waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from connectors.base import Record
from connectors.intercom.models import (
    CollectionCreate,
    ConversationAttributeCreate,
    DataAttributeCreate,
    DataAttributeUpdate,
)
from connectors.intercom.models.attributes import ConversationAttributeOption, DataAttributeOption
from helpmig_tui.mapping.apply import apply_map
from helpmig_tui.mapping.model import MigrationMap
from helpmig_tui.mapping.schema_plan import PlannedAttribute
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.pipeline.context import LoadContext, Written
from helpmig_tui.pipeline.journal import payload_hash
from helpmig_tui.pipeline.records import count_skipped, for_each_record, mapped, reject, remapped
from helpmig_tui.pipeline.resolver import Directory, Resolver, jkey
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import Event, Project

SCHEMA_AT_ONCE = 8  # attributes and tags written at once in the schema phase

# -- the operator's decisions, kept in the project's settings -------------------------


@dataclass
class Resolutions:
    admins: dict[str, str]  # "agents:12" -> admin id, or "skip"
    teams: dict[str, str]  # "groups:3" -> team id, or "skip"
    fallback_admin: str | None  # for every agent left unmatched
    fallback_contact: str | None = None  # an email: the requester of tickets whose requester is missing

    @classmethod
    def load(cls, store: ProjectStore) -> Resolutions:
        settings = store.project().settings or {}
        return cls(dict(settings.get("admin_matches", {})), dict(settings.get("team_matches", {})),
                   settings.get("fallback_admin"), settings.get("fallback_contact"))

    def save(self, store: ProjectStore) -> None:
        """Keep the decisions; each one that changed goes on the project's timeline as an
        operator action (the evidence bundle's timeline shows who settled what, when)."""
        before = Resolutions.load(store)
        with store.session() as session:
            project = session.get(Project, 1)
            assert project is not None
            project.settings = {**(project.settings or {}), "admin_matches": self.admins,
                                "team_matches": self.teams, "fallback_admin": self.fallback_admin,
                                "fallback_contact": self.fallback_contact}
            for message in self._changes(before):
                session.add(Event(kind="operator", message=message, data={"action": "match"}))

    def _changes(self, before: Resolutions) -> list[str]:
        out = []
        for what, now, was in (("admin", self.admins, before.admins), ("team", self.teams, before.teams)):
            for key in sorted(set(now) | set(was)):
                if now.get(key) != was.get(key):
                    to = now.get(key)
                    out.append(f"{key} left unmatched on purpose" if to == "skip" else
                               f"{key} matched to {what} {to}" if to else f"{key}: match removed")
        for what, now, was in (("fallback admin", self.fallback_admin, before.fallback_admin),
                               ("fallback requester", self.fallback_contact, before.fallback_contact)):
            if now != was:
                out.append(f"{what} set to {now}" if now else f"{what} removed")
        return out


@dataclass
class Match:
    kind: str  # admin | team
    object: str
    key: str
    name: str
    email: str
    intercom_id: str | None
    how: str  # email | name | operator | fallback | skipped | unmatched


def match_record(kind: str, obj: str, record: Record, mmap: MigrationMap, directory: Directory,
                 resolutions: Resolutions) -> Match:
    """How one agent or group lands: matched by email or name, by the operator, or queued."""
    m = apply_map(mmap, obj, record)
    email = str(m.standard.get("email") or "").strip()
    name = str(m.standard.get("name") or "").strip()
    choice = (resolutions.admins if kind == "admin" else resolutions.teams).get(jkey(obj, record.key))
    if choice == "skip":
        return Match(kind, obj, record.key, name, email, None, "skipped")
    if choice:
        return Match(kind, obj, record.key, name, email, choice, "operator")
    if kind == "admin":
        found = (directory.admin_by_email(email) if email else None)
        if found is not None:
            return Match(kind, obj, record.key, name, email, found.id, "email")
        found = directory.admin_by_name(name) if name else None
        if found is not None:
            return Match(kind, obj, record.key, name, email, found.id, "name")
        if resolutions.fallback_admin:
            return Match(kind, obj, record.key, name, email, resolutions.fallback_admin, "fallback")
    else:
        team = directory.team_by_name(name) if name else None
        if team is not None:
            return Match(kind, obj, record.key, name, email, team.id, "name")
    return Match(kind, obj, record.key, name, email, None, "unmatched")


def objects_of(mmap: MigrationMap, *kinds: TargetKind) -> list[str]:
    return [o.object for o in mmap.active_objects() if o.target in kinds]


async def match_phase(ctx: LoadContext, directory: Directory, totals: dict[str, int | None]) -> None:
    resolutions = Resolutions.load(ctx.store)
    for kind, target in (("admin", TargetKind.ADMIN), ("team", TargetKind.TEAM)):
        for obj in objects_of(ctx.mmap, target):

            async def handle(record: Record, obj: str = obj, kind: str = kind) -> Written:
                match = match_record(kind, obj, record, ctx.mmap, directory, resolutions)
                key = jkey(obj, record.key)
                if match.how == "skipped":
                    ctx.journal.settle(kind, key, "skipped", "the operator chose to skip it", ctx.phase, object=obj,
                                       code="operator.skipped")
                    return Written("skipped", code="operator.skipped")
                if match.intercom_id is None:
                    who = match.email or match.name or record.key
                    reason = f"no Intercom {kind} matches {who}: match it, pick a fallback admin, or skip it"
                    ctx.journal.settle(kind, key, "pending", reason, ctx.phase, object=obj, code=f"{kind}.unmatched")
                    return Written("queued", reason=reason, code=f"{kind}.unmatched")
                before = ctx.journal.get(kind, key)
                if before is not None and before.status == "done" and before.intercom_id == match.intercom_id:
                    return ctx.already(before)  # matched so by an earlier run
                ctx.journal.settle(kind, key, "done", f"matched by {match.how}", ctx.phase, object=obj,
                                   intercom_id=match.intercom_id, outcome="matched")
                return Written("done", match.intercom_id, "matched")

            await for_each_record(ctx, obj, handle, totals.get(obj))


# -- the destination schema -------------------------------------------------------------


async def schema_phase(ctx: LoadContext, resolver: Resolver, totals: dict[str, int | None]) -> None:
    """The attributes the map writes, under the names the plan settled; the tags; the
    help-center collections. The three do not depend on one another and go at once (one
    after the other, each waits out its own round trips: 18 collections in a chain of
    parents are 2 s at 100 ms)."""
    async with asyncio.TaskGroup() as group:
        group.create_task(_attributes(ctx))
        group.create_task(_tags(ctx, resolver, totals))
        for obj in objects_of(ctx.mmap, TargetKind.COLLECTION):
            group.create_task(_collections(ctx, resolver, obj, totals.get(obj)))


async def _attributes(ctx: LoadContext) -> None:
    book = ctx.book
    slots = sorted(book.slots(), key=lambda a: (a.model, a.logical))
    tracker = ctx.tracker("(attributes)", len(slots))

    ended = ctx.eta.rounds("(attributes)", [len(slots)], SCHEMA_AT_ONCE)

    async def settle(attribute: PlannedAttribute) -> None:
        tracker.read += 1
        kind = "conversation_attribute" if attribute.model == "conversation" else "data_attribute"
        written = await _settle_attribute(ctx, kind, attribute)
        if written.ok:
            book.created(attribute.model, attribute.logical, written.intercom_id or attribute.id)
        elif attribute.status in ("create", "exists", "unarchive"):
            book.refused(attribute.model, attribute.logical, written.reason)
        ctx.count(tracker, written)

    await _several([lambda a=a: settle(a) for a in slots], ended)
    ctx.tick(force=True)


async def _tags(ctx: LoadContext, resolver: Resolver, totals: dict[str, int | None]) -> None:
    """The tags the schema plan names, then the source's tag records (the same name is
    then found in the journal, not created twice)."""
    ended = ctx.eta.rounds("(tags)", [len(ctx.schema_tags)], SCHEMA_AT_ONCE)
    await _several([lambda name=name: resolver.tag(name) for name in ctx.schema_tags], ended)
    for obj in objects_of(ctx.mmap, TargetKind.TAG):
        await for_each_record(ctx, obj, lambda record, obj=obj: _tag_record(ctx, resolver, obj, record), totals.get(obj))


async def _several(work: list[Callable[[], Awaitable[object]]], ended: Callable[[], None]) -> None:
    """Independent writes (attributes of distinct names, tags) several at a time: one after
    the other, each waits out a round trip to Intercom (60 attributes: 6 s at 100 ms).
    `ended`: told as each ends (the live ETA's rounds)."""
    gate = asyncio.Semaphore(SCHEMA_AT_ONCE)

    async def one(job: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            await job()
        ended()

    async with asyncio.TaskGroup() as group:
        for job in work:
            group.create_task(one(job))


async def _settle_attribute(ctx: LoadContext, kind: str, attribute: PlannedAttribute) -> Written:
    key = attribute.key
    entry = ctx.journal.get(kind, key)
    if attribute.status == "exists" and entry is not None and entry.status == "done" and entry.intercom_id == attribute.id:
        return ctx.already(entry)  # what it created stays the project's for the rollback
    if attribute.status == "exists":
        ctx.journal.settle(kind, key, "done", "already in the workspace", ctx.phase, object="(attributes)",
                           intercom_id=attribute.id, outcome="matched")
        return Written("done", attribute.id, "matched")
    if attribute.status == "unarchive":
        return await _unarchive_attribute(ctx, kind, key, attribute)
    if attribute.status == "create":
        return await _create_attribute(ctx, kind, key, attribute)
    reason = f"{attribute.model} attribute {attribute.name}: {attribute.status} (see the schema plan)"
    status = "skipped" if attribute.status == "manual" else "rejected"
    code = f"attribute.{attribute.status}"
    ctx.journal.settle(kind, key, status, reason, ctx.phase, object="(attributes)", code=code)
    ctx.event("warning", reason)
    return Written(status, reason=reason, code=code)


async def _unarchive_attribute(ctx: LoadContext, kind: str, key: str, attribute: PlannedAttribute) -> Written:
    """An attribute this project made and a rollback archived: in use again (and ours again)."""

    async def send() -> tuple[str, str]:
        await ctx.client.data_attributes.update(int(attribute.id or 0), DataAttributeUpdate(archived=False))
        return str(attribute.id), "created"

    return await ctx.write(kind=kind, key=key, obj="(attributes)", send=send, entry=None, redo=True)


async def _tag_record(ctx: LoadContext, resolver: Resolver, obj: str, record: Record) -> Written:
    """A source tag: created in Intercom (or found, if the workspace has it already)."""
    m = mapped(ctx, obj, record)
    name = str(m.standard.get("name") or "").strip()
    if not m.ok or not name:
        return reject(ctx, "tag", obj, record, m.rejected or "a tag with no name", m.rejected_code or "tag.name_missing")
    before = ctx.journal.get("tag", name.casefold())
    tag_id = await resolver.tag(name)
    entry = ctx.journal.get("tag", name.casefold())
    if tag_id is None or entry is None:
        return Written("failed", reason=f"tag {name!r} could not be created", code="intercom.failed")
    if before is not None and before.status == "done":
        return ctx.already(before)
    return Written("done", tag_id, entry.outcome)


async def _create_attribute(ctx: LoadContext, kind: str, key: str, attribute: PlannedAttribute) -> Written:
    if kind == "data_attribute":
        body: Any = DataAttributeCreate(
            name=attribute.name, model=attribute.model, data_type=attribute.data_type,
            options=[DataAttributeOption(value=o) for o in attribute.options] or None,
            description="created by helpmig",
        )

        async def send() -> tuple[str, str]:
            created = await ctx.client.data_attributes.create(body)
            return str(created.id), "created"

        async def find() -> str | None:
            for existing in await ctx.client.data_attributes.list(attribute.model):
                if existing.name == attribute.name:
                    return str(existing.id)
            return None
    else:
        body = ConversationAttributeCreate(
            name=attribute.name, data_type=attribute.data_type, description="created by helpmig",
            options=[ConversationAttributeOption(label=o) for o in attribute.options] or None,
        )

        async def send() -> tuple[str, str]:
            created = await ctx.client.conversation_attributes.create(body)
            return str(created.id), "created"

        async def find() -> str | None:
            for existing in await ctx.client.conversation_attributes.list():
                if existing.name == attribute.name:
                    return str(existing.id)
            return None

    return await ctx.write(kind=kind, key=key, obj="(attributes)", send=send, find=find,
                           payload_hash=payload_hash(body.payload()))


async def _collections(ctx: LoadContext, resolver: Resolver, obj: str, total: int | None) -> None:
    """Categories become collections, parents before children: level by level from the
    top, the collections of a level at once (categories are few)."""
    records: list[Record] = []
    async for batch in ctx.reader.batches(obj):
        records.extend(batch)
    by_key = {r.key: r for r in records}
    depth: dict[str, int] = {}

    def level(record: Record, trail: tuple[str, ...] = ()) -> int:
        if record.key not in depth:
            parent = remapped(ctx, obj, record).references.get("parent")
            above = parent in by_key and parent != record.key and parent not in trail  # a cycle is cut where it closes
            depth[record.key] = level(by_key[parent], trail + (record.key,)) + 1 if above else 0  # type: ignore[index]
        return depth[record.key]

    levels: dict[int, list[Record]] = {}
    for record in records:
        levels.setdefault(level(record), []).append(record)
    tracker = ctx.tracker(obj, total)
    ended = ctx.eta.rounds(f"{obj} (levels)", [len(levels[n]) for n in sorted(levels)], SCHEMA_AT_ONCE)

    async def write(record: Record) -> None:
        tracker.read += 1
        ctx.count(tracker, await write_collection(ctx, resolver, obj, record))
        ctx.tick()

    for n in sorted(levels):
        await _several([lambda record=record: write(record) for record in levels[n]], ended)
    await count_skipped(ctx, obj, tracker)
    ctx.tick(force=True)


async def write_collection(ctx: LoadContext, resolver: Resolver, obj: str, record: Record) -> Written:
    m = mapped(ctx, obj, record)
    if not m.ok:
        return reject(ctx, "collection", obj, record, m.rejected or "", m.rejected_code)
    parent = await resolver.collection(m, "parent") if "parent" in m.references else None
    body = CollectionCreate(name=str(m.standard["name"]), description=m.standard.get("description"), parent_id=parent)
    return await _create_collection(ctx, jkey(obj, record.key), obj, body)


async def create_collection_named(ctx: LoadContext, name: str) -> str | None:
    """A collection a reference names (Track-It! articles name their category)."""
    written = await _create_collection(ctx, f"name:{name.casefold()}", "(names)", CollectionCreate(name=name))
    return written.intercom_id if written.ok else None


async def _create_collection(ctx: LoadContext, key: str, obj: str, body: CollectionCreate) -> Written:
    async def send() -> tuple[str, str]:
        created = await ctx.client.collections.create(body)
        return created.id, "created"

    async def find() -> str | None:
        async for collection in ctx.client.collections.list():
            if collection.name == body.name and (collection.parent_id or None) == (body.parent_id or None):
                return collection.id
        return None

    return await ctx.write(kind="collection", key=key, obj=obj, send=send, find=find)


async def ensure_tag(ctx: LoadContext, name: str) -> str | None:
    """A tag by name: found (adopted, never deleted by a rollback) or created."""

    async def send() -> tuple[str, str]:
        existing = await ctx.client.tags.find_by_name(name)
        if existing is not None:
            return existing.id, "adopted"
        return (await ctx.client.tags.create(name)).id, "created"

    async def find() -> str | None:
        existing = await ctx.client.tags.find_by_name(name)
        return existing.id if existing else None

    written = await ctx.write(kind="tag", key=name.casefold(), obj="(tags)", send=send, find=find)
    return written.intercom_id if written.ok else None
