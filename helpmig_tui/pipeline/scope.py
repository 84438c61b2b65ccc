"""What a load will not migrate, named before it starts.

Once the map is confirmed, the scope check reads the source as the load will and names
every record that will not reach Intercom, with its reason's code and the number people
know it by: what the source's scope leaves out (deleted, spam, drafts, the messages of a
skipped ticket), and what the map and the requester rules reject (a required field empty,
a contact with no valid email, a ticket whose requester is rejected or missing, a message
whose ticket is). It makes no API call. Its classes become findings of the latest audit,
so the operator reviews them before the load and the load's gate holds its rejections to
them; every record is listed in `reports/not-migrated.csv`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete

from helpmig_tui.audit import is_junk_file
from helpmig_tui.audit_store import latest_audit_id
from connectors.base import Record
from helpmig_tui.mapping.apply import MappedRecord, apply_map, left_out
from helpmig_tui.mapping.model import MigrationMap, ObjectMap
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.pipeline.reader import SourceReader
from helpmig_tui.pipeline.records import SKIP_REASONS
from helpmig_tui.pipeline.requesters import clean_email, email_problem, take_fallback
from helpmig_tui.pipeline.resolver import orphan_reason
from helpmig_tui.pipeline.scope_book import LEFT_OUT, LOADS, REJECTED, Said, ScopeBook
from helpmig_tui.reports import CsvReport
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import FindingRow, Project

SCOPE_DETAIL = "Named before the load by the scope check; every record is in reports/not-migrated.csv."
SCOPE_HASH = "scope_map_hash"  # the project setting: the map (and fallback contact) the last scope check was made for
NOT_MIGRATED = "not-migrated.csv"
HEADER = ("object", "key", "number", "status", "code", "reason")
SAMPLE_KEYS = 50
_ORDER = {TargetKind.CONTACT: 0, TargetKind.COMPANY: 1, TargetKind.CONVERSATION: 2, TargetKind.PART: 3}


@dataclass(frozen=True)
class NotMigrated:
    object: str
    key: str
    number: str | None
    status: str  # skipped | rejected
    code: str
    reason: str


@dataclass
class ScopeClass:
    """The records of one (object, status, code): how many, the first few, the commonest reason."""

    id: int
    count: int = 0
    samples: list[str] = field(default_factory=list)
    reason: str = ""


@dataclass
class ScopeResult:
    """What a scope check found: its classes, keyed by (object, status, code); every record is
    in `path` (reports/not-migrated.csv)."""

    classes: dict[tuple[str, str, str], ScopeClass]
    path: Path

    def __len__(self) -> int:
        return sum(c.count for c in self.classes.values())

    def by_status(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for (_obj, status, _code), cls in self.classes.items():
            counts[status] += cls.count
        return counts


class ScopeCheck:
    """Reads the desk once, object by object (contacts before the tickets that name them,
    tickets before their messages). Each record that will not migrate goes to the CSV as it
    is found and is counted in its class; of the records another may name, only whether
    they load, are rejected or left out is kept, in a `ScopeBook` on disk. Memory does not
    grow with the desk."""

    def __init__(self, reader: SourceReader, mmap: MigrationMap, number_fields: dict[str, str],
                 fallback_contact: str | None, progress: Callable[[str], None] = lambda _s: None) -> None:
        self.reader = reader
        self.mmap = mmap
        self.number_fields = number_fields
        self.fallback = clean_email(fallback_contact) if fallback_contact else None
        self.progress = progress
        self.classes: dict[tuple[str, str, str], ScopeClass] = {}
        self._book = ScopeBook()
        self._csv: CsvReport | None = None
        self._named = _named_objects(mmap)  # the objects whose records another names: their keys are kept

    async def run(self, path: Path) -> ScopeResult:
        """Check the scope, writing every record that will not migrate to `path` (which an
        earlier check's file is replaced by only when this one completes)."""
        try:
            with CsvReport(path, HEADER) as self._csv:
                await self._read()
            for cls in self.classes.values():
                cls.reason = self._book.commonest(cls.id)
            return ScopeResult(self.classes, path)
        finally:
            self._book.close()

    async def _read(self) -> None:
        active = [o for o in self.mmap.active_objects() if o.target not in (TargetKind.LOOKUP,)]
        for om in sorted(active, key=lambda o: _ORDER.get(o.target, 4)):
            self.progress(f"scope check: {om.object}")
            async for reason, batch in self.reader.skipped(om.object):
                why = SKIP_REASONS.get(reason, reason.replace("_", " "))
                for s in batch:
                    self._add(NotMigrated(om.object, s.key, s.number, "skipped", f"source.skipped_{reason}", why))
            kept = om.object in self._named
            async for batch in self.reader.batches(om.object, batch_size=500):
                parents = self._book.states_of(om.parent, (r.parent_key for r in batch)) if om.parent else {}
                for record in batch:
                    number = self._number(om.object, record)
                    parent = parents.get(record.parent_key, {})
                    left = self._left_out(om, record, parent)
                    if left is not None:
                        self._add(NotMigrated(om.object, record.key, number, "skipped", *left))
                        continue
                    m = apply_map(self.mmap, om.object, record)
                    problem = await self._problem(om, m, record, parent)
                    if problem is None:
                        if kept:
                            self._book.note(om.object, record.key, LOADS)
                    else:
                        if kept:
                            self._book.note(om.object, record.key, REJECTED, problem)
                        self._add(NotMigrated(om.object, record.key, number, "rejected", *problem))

    def _add(self, item: NotMigrated) -> None:
        """One record that will not migrate: its row in the CSV, and counted in its class."""
        assert self._csv is not None
        self._csv.row((item.object, item.key, item.number or "", item.status, item.code, item.reason))
        cls = self.classes.get((item.object, item.status, item.code))
        if cls is None:
            cls = self.classes[(item.object, item.status, item.code)] = ScopeClass(len(self.classes))
        cls.count += 1
        if len(cls.samples) < SAMPLE_KEYS:
            cls.samples.append(_shown(item))
        self._book.give(cls.id, item.reason)

    def _left_out(self, om: ObjectMap, record: Record, parent: dict[int, Said]) -> Said | None:
        """A scope rule of the map (a private article), or the rule that left its ticket out."""
        rule = left_out(self.mmap, om.object, record)
        if rule is not None:
            if om.object in self._named:
                self._book.note(om.object, record.key, LEFT_OUT, (rule.code, rule.reason))
            return rule.code, rule.reason
        if LEFT_OUT in parent:
            code, reason = parent[LEFT_OUT]
            return code, f"its ticket is left out: {reason}"
        return None

    def _number(self, obj: str, record: object) -> str | None:
        name = self.number_fields.get(obj)
        value = record.data.get(name) if name else None  # type: ignore[attr-defined]
        return str(value).strip()[:128] or None if value is not None else None

    async def _problem(self, om: ObjectMap, m: MappedRecord, record: Record, parent: dict[int, Said]) -> Said | None:
        kind = om.target
        if kind is TargetKind.PART:
            return await self._part(om, m, record, parent)
        if kind is TargetKind.CONVERSATION:
            take_fallback(m, self.fallback)
        if not m.ok and not (kind is TargetKind.CONVERSATION and m.missing == ["created_at"]):
            return m.rejected_code or "map.rejected", m.rejected or ""
        if kind is TargetKind.CONTACT:
            return email_problem(self.mmap, m)
        if kind is TargetKind.CONVERSATION:
            return self._requester(m)
        return None

    async def _part(self, om: ObjectMap, m: MappedRecord, record: Record, parent: dict[int, Said]) -> Said | None:
        if om.parent:
            if REJECTED in parent:
                code, reason = parent[REJECTED]
                return code, f"its conversation is rejected: {reason}"
            if LOADS not in parent:
                return "part.conversation_missing", orphan_reason(record.parent_key)
        if m.ok or m.missing == ["created_at"]:
            return None
        files = await self.reader.attachments(m.object, record) if m.missing == ["body"] else []
        if any(not is_junk_file(f.name) for f in files):
            return None  # a message that is only its files
        return m.rejected_code or "map.rejected", m.rejected or ""

    def _requester(self, m: MappedRecord) -> Said | None:
        value = m.references.get("contact")
        if value is None:
            if m.references.get("placeholder_contact") or self.fallback:
                return None
            return "conversation.requester_missing", "the record names no requester"
        source_field = m.reference_fields.get("contact")
        fm = self.mmap.field_map(m.object, source_field) if source_field else None
        target = getattr(fm, "target", None) if fm is not None else None
        if getattr(target, "match", "key") == "email":
            if clean_email(value) or self.fallback:
                return None
            return "contact.email_invalid", f"the requester's email {value!r} is not valid"
        objects = [target.refers_to] if getattr(target, "refers_to", None) else [
            o.object for o in self.mmap.active_objects() if o.target is TargetKind.CONTACT]
        found = [self._book.states(obj, value) for obj in objects]
        if any(LOADS in states for states in found):
            return None
        if self.fallback:
            return None  # the operator's fallback requester takes it
        for states in found:
            if REJECTED in states:
                code, reason = states[REJECTED]
                return code, f"its requester ({value}) is rejected: {reason}"
        return "reference.missing", f"its requester ({value}) is not in the source, or is skipped there"


def save_scope(store: ProjectStore, result: ScopeResult, stamp: str) -> None:
    """The classes as findings of the latest audit (replacing an earlier scope check's);
    every record is in the result's CSV already."""
    audit_id = latest_audit_id(store)
    with store.session() as session:
        session.execute(delete(FindingRow).where(FindingRow.detail == SCOPE_DETAIL))
        if audit_id is not None:
            for (obj, status, code), cls in sorted(result.classes.items()):
                verb = ("will be rejected" if status == "rejected" else "are skipped by the source's scope"
                        if code.startswith("source.") else f"are left out by the map (`helpmig map P --include "
                                                           f"{obj}:{code}` includes them)")
                session.add(FindingRow(
                    audit_id=audit_id, code=code, severity="info" if status == "skipped" else "warning", object=obj,
                    message=f"{cls.count} {obj} {verb}: {cls.reason}", detail=SCOPE_DETAIL, count=cls.count,
                    keys=list(cls.samples), status="open", status_note="", status_at=None))
        project = session.get(Project, 1)
        if project is not None:
            project.settings = {**(project.settings or {}), SCOPE_HASH: stamp}


def scope_is_current(store: ProjectStore, stamp: str) -> bool:
    """Was the scope checked for this map and fallback contact (`stamp`) since the last audit
    (which clears it)?"""
    return (store.project().settings or {}).get(SCOPE_HASH) == stamp


def _shown(item: NotMigrated) -> str:
    return f"#{item.number} ({item.key})" if item.number else item.key


def _named_objects(mmap: MigrationMap) -> set[str]:
    """The objects whose records another record names: the conversations parts belong to,
    the contacts (and any object a reference field points at) requesters are."""
    active = mmap.active_objects()
    named = {o.parent for o in active if o.parent}
    named |= {o.object for o in active if o.target is TargetKind.CONTACT}
    named |= {t for fm in mmap.fields if (t := getattr(fm.target, "refers_to", None))}
    return named
