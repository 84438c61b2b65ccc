"""From source references to Intercom ids: contacts, admins, teams, companies, collections, tags.

The map leaves references as source keys (or an email, or a name); the journal knows
which Intercom id each source record became. A reference to a record that has not been
loaded yet (a sample run, a delta, a walk-in requester known only by email) is loaded on
demand through the callbacks the loader provides, so nothing is dropped for ordering.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from connectors.intercom.models import Admin, Team
from helpmig_tui.mapping.apply import MappedRecord
from helpmig_tui.mapping.model import MigrationMap, StandardTarget
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.pipeline.journal import Journal

EnsureRecord = Callable[[str, str], Awaitable[str | None]]  # (object, key) -> Intercom id
EnsureEmail = Callable[[str], Awaitable[str | None]]  # email -> contact id
EnsureTag = Callable[[str], Awaitable[str | None]]  # name -> tag id
EnsureCollection = Callable[[str], Awaitable[str | None]]  # name -> collection id


def orphan_reason(parent_key: str | None) -> str:
    """Why a part has no conversation to go to: the one it names is not there, or it names none."""
    if parent_key is None:
        return "it names no conversation (its parent key is empty in the source)"
    return f"its conversation ({parent_key}) is not in the source"


def jkey(obj: str, key: str) -> str:
    """The journal key of a source record: unique across the objects of one kind."""
    return f"{obj}:{key}"


@dataclass
class Directory:
    """The workspace's admins and teams, indexed for matching."""

    admins: list[Admin] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)

    def admin_by_email(self, email: str) -> Admin | None:
        wanted = email.strip().casefold()
        return next((a for a in self.admins if (a.email or "").casefold() == wanted), None)

    def admin_by_name(self, name: str) -> Admin | None:
        wanted = " ".join(name.split()).casefold()
        return next((a for a in self.admins if " ".join((a.name or "").split()).casefold() == wanted), None)

    def team_by_name(self, name: str) -> Team | None:
        wanted = " ".join(name.split()).casefold()
        return next((t for t in self.teams if " ".join((t.name or "").split()).casefold() == wanted), None)


class Resolver:
    def __init__(self, mmap: MigrationMap, journal: Journal, directory: Directory) -> None:
        self.mmap = mmap
        self.journal = journal
        self.directory = directory
        self.ensure_record: EnsureRecord | None = None
        self.ensure_email: EnsureEmail | None = None
        self.ensure_tag: EnsureTag | None = None
        self.ensure_collection: EnsureCollection | None = None
        self.test_contact: str | None = None  # the sample run's test contact email
        self.fallback_contact: str | None = None  # requester of tickets whose requester is missing
        self._locks: dict[str, asyncio.Lock] = {}
        self._objects_of = {
            kind: [o.object for o in mmap.objects if o.target is kind]
            for kind in (TargetKind.CONTACT, TargetKind.ADMIN, TargetKind.TEAM, TargetKind.COMPANY,
                         TargetKind.COLLECTION)
        }

    def lock(self, name: str) -> asyncio.Lock:
        """One lock per thing created on demand, so two conversations never create it twice."""
        return self._locks.setdefault(name, asyncio.Lock())

    def _target(self, mapped: MappedRecord, std: str) -> tuple[str | None, str]:
        """What the reference points at and how to match it, from the field that gave it."""
        source_field = mapped.reference_fields.get(std)
        fm = self.mmap.field_map(mapped.object, source_field) if source_field else None
        ref = fm.target if fm is not None and isinstance(fm.target, StandardTarget) else self.mmap.reference(
            mapped.object, std)
        return (ref.refers_to if ref else None), (ref.match if ref else "key")

    async def _by_key(self, kind: str, objects: list[str], value: str, ensure: bool) -> str | None:
        for obj in objects:
            found = self.journal.intercom_id(kind, jkey(obj, value))
            if found:
                return found
        if ensure and self.ensure_record is not None:
            for obj in objects:
                async with self.lock(f"{obj}:{value}"):
                    found = self.journal.intercom_id(kind, jkey(obj, value)) or await self.ensure_record(obj, value)
                if found:
                    return found
        return None

    async def contact(self, mapped: MappedRecord, std: str = "contact") -> str | None:
        """The requester's contact id; created on demand when it was not loaded yet."""
        if self.test_contact and std == "contact":
            return await self.contact_by_email(self.test_contact)
        value = mapped.references.get(std)
        if value is None:
            placeholder = mapped.references.get("placeholder_contact")
            return await self.contact_by_email(placeholder) if placeholder else None
        refers_to, match = self._target(mapped, std)
        if match == "email":
            found = await self.contact_by_email(value)
        else:
            objects = [refers_to] if refers_to else self._objects_of[TargetKind.CONTACT]
            found = await self._by_key("contact", objects, value, ensure=True)
        if found is None and std == "contact" and self.fallback_contact:
            return await self.contact_by_email(self.fallback_contact)
        return found

    def contact_failure(self, mapped: MappedRecord) -> tuple[str, str]:
        """Why the requester has no contact id: (reason, code), the code the audit gives that
        class of record (an invalid email, a requester missing from the source, ...)."""
        value = mapped.references.get("contact") or mapped.references.get("placeholder_contact")
        if value is None:
            return "the record names no requester", "conversation.requester_missing"
        refers_to, match = self._target(mapped, "contact")
        if match == "email" or "contact" not in mapped.references:
            return f"{value!r} is not a valid email address", "contact.email_invalid"
        for obj in [refers_to] if refers_to else self._objects_of[TargetKind.CONTACT]:
            entry = self.journal.get("contact", jkey(obj, value))
            if entry is not None and entry.status in ("rejected", "failed"):
                return entry.last_error or f"its contact was {entry.status}", entry.code or "contact.rejected"
        return "the requester is not in the source", "reference.missing"

    async def contact_by_email(self, email: str) -> str | None:
        email = email.strip().casefold()
        found = self.journal.intercom_id("contact_email", email)
        if found or self.ensure_email is None:
            return found
        async with self.lock(f"email:{email}"):
            return self.journal.intercom_id("contact_email", email) or await self.ensure_email(email)

    async def author(self, mapped: MappedRecord) -> tuple[str, str] | None:
        """A part's writer: ("admin", id) or ("contact", id); None when it cannot be found."""
        value = mapped.references.get("author")
        if value is None:
            return None
        refers_to, match = self._target(mapped, "author")
        if match == "email":
            admin = self.directory.admin_by_email(value)
            if admin is not None:
                return "admin", admin.id
            contact = await self.contact_by_email(value)
            return ("contact", contact) if contact else None
        if match == "name":
            admin = self.directory.admin_by_name(value)
            return ("admin", admin.id) if admin else None
        agents = [refers_to] if refers_to in self._objects_of[TargetKind.ADMIN] else (
            [] if refers_to else self._objects_of[TargetKind.ADMIN])
        for obj in agents:
            found = self.journal.intercom_id("admin", jkey(obj, value))
            if found:
                return "admin", found
        contacts = [refers_to] if refers_to in self._objects_of[TargetKind.CONTACT] else (
            [] if refers_to else self._objects_of[TargetKind.CONTACT])
        contact = await self._by_key("contact", contacts, value, ensure=True) if contacts else None
        return ("contact", contact) if contact else None

    def admin(self, mapped: MappedRecord, std: str) -> str | None:
        """An agent reference (assignee, owner, article author) as an admin id."""
        value = mapped.references.get(std)
        if value is None:
            return None
        refers_to, match = self._target(mapped, std)
        if match == "email":
            admin = self.directory.admin_by_email(value)
            return admin.id if admin else None
        if match == "name":
            admin = self.directory.admin_by_name(value)
            return admin.id if admin else None
        for obj in [refers_to] if refers_to else self._objects_of[TargetKind.ADMIN]:
            found = self.journal.intercom_id("admin", jkey(obj, value))
            if found:
                return found
        return None

    def team(self, mapped: MappedRecord) -> str | None:
        value = mapped.references.get("team")
        if value is None:
            return None
        refers_to, match = self._target(mapped, "team")
        if match == "name" or not self._objects_of[TargetKind.TEAM]:
            team = self.directory.team_by_name(value)
            return team.id if team else None
        for obj in [refers_to] if refers_to else self._objects_of[TargetKind.TEAM]:
            found = self.journal.intercom_id("team", jkey(obj, value))
            if found:
                return found
        return None

    async def company(self, mapped: MappedRecord) -> str | None:
        value = mapped.references.get("company")
        if value is None:
            return None
        refers_to, match = self._target(mapped, "company")
        if match == "name":
            return self.journal.intercom_id("company_name", value.strip().casefold())
        objects = [refers_to] if refers_to else self._objects_of[TargetKind.COMPANY]
        return await self._by_key("company", objects, value, ensure=True)

    async def collection(self, mapped: MappedRecord, std: str = "collection") -> str | None:
        value = mapped.references.get(std)
        if value is None:
            return None
        refers_to, match = self._target(mapped, std)
        if match == "name":
            name = value.strip()
            found = self.journal.intercom_id("collection", f"name:{name.casefold()}")
            if found or self.ensure_collection is None:
                return found
            async with self.lock(f"collection:{name.casefold()}"):
                return self.journal.intercom_id("collection", f"name:{name.casefold()}") or await self.ensure_collection(name)
        for obj in [refers_to] if refers_to else self._objects_of[TargetKind.COLLECTION]:
            found = self.journal.intercom_id("collection", jkey(obj, value))
            if found:
                return found
        return None

    async def tag(self, name: str) -> str | None:
        key = name.strip().casefold()
        found = self.journal.intercom_id("tag", key)
        if found or self.ensure_tag is None:
            return found
        async with self.lock(f"tag:{key}"):
            return self.journal.intercom_id("tag", key) or await self.ensure_tag(name.strip())
