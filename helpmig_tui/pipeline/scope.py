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

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete

from helpmig_tui.audit import is_junk_file
from helpmig_tui.audit_store import latest_audit_id
from connectors.base import Record
from helpmig_tui.mapping.apply import MappedRecord, apply_map, left_out
from helpmig_tui.mapping.model import MigrationMap
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.pipeline.reader import SourceReader
from helpmig_tui.pipeline.records import SKIP_REASONS
from helpmig_tui.pipeline.requesters import clean_email, email_problem, take_fallback
from helpmig_tui.pipeline.resolver import orphan_reason
from helpmig_tui.reports import write_csv
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import FindingRow, Project

SCOPE_DETAIL = "Named before the load by the scope check; every record is in reports/not-migrated.csv."
SCOPE_HASH = "scope_map_hash"  # the project setting: the map (and fallback contact) the last scope check was made for
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


class ScopeCheck:
    def __init__(self, reader: SourceReader, mmap: MigrationMap, number_fields: dict[str, str],
                 fallback_contact: str | None, progress: Callable[[str], None] = lambda _s: None) -> None:
        self.reader = reader
        self.mmap = mmap
        self.number_fields = number_fields
        self.fallback = clean_email(fallback_contact) if fallback_contact else None
        self.progress = progress
        self.items: list[NotMigrated] = []
        self._loadable: dict[str, set[str]] = defaultdict(set)  # object -> keys that will load
        self._rejected: dict[tuple[str, str], tuple[str, str]] = {}  # (object, key) -> (code, reason)
        self._skipped: dict[tuple[str, str], tuple[str, str]] = {}  # left out by a scope rule of the map

    async def run(self) -> list[NotMigrated]:
        active = [o for o in self.mmap.active_objects() if o.target not in (TargetKind.LOOKUP,)]
        for om in sorted(active, key=lambda o: _ORDER.get(o.target, 4)):
            self.progress(f"scope check: {om.object}")
            async for reason, batch in self.reader.skipped(om.object):
                why = SKIP_REASONS.get(reason, reason.replace("_", " "))
                self.items += [NotMigrated(om.object, s.key, s.number, "skipped", f"source.skipped_{reason}", why)
                               for s in batch]
            async for batch in self.reader.batches(om.object, batch_size=500):
                for record in batch:
                    number = self._number(om.object, record)
                    left = self._left_out(om.object, record)
                    if left is not None:
                        self.items.append(NotMigrated(om.object, record.key, number, "skipped", *left))
                        continue
                    m = apply_map(self.mmap, om.object, record)
                    problem = await self._problem(om.target, m, record)
                    if problem is None:
                        self._loadable[om.object].add(record.key)
                    else:
                        self._rejected[(om.object, record.key)] = problem
                        self.items.append(NotMigrated(om.object, record.key, number, "rejected", *problem))
        return self.items

    def _left_out(self, obj: str, record: Record) -> tuple[str, str] | None:
        """A scope rule of the map (a private article), or the rule that left its ticket out."""
        rule = left_out(self.mmap, obj, record)
        if rule is not None:
            self._skipped[(obj, record.key)] = (rule.code, rule.reason)
            return rule.code, rule.reason
        om = self.mmap.object_map(obj)
        parent = (om.parent, record.parent_key) if om is not None and om.parent else None
        if parent in self._skipped:
            code, reason = self._skipped[parent]  # type: ignore[index]
            return code, f"its ticket is left out: {reason}"
        return None

    def _number(self, obj: str, record: object) -> str | None:
        name = self.number_fields.get(obj)
        value = record.data.get(name) if name else None  # type: ignore[attr-defined]
        return str(value).strip()[:128] or None if value is not None else None

    async def _problem(self, kind: TargetKind, m: MappedRecord, record: object) -> tuple[str, str] | None:
        if kind is TargetKind.PART:
            return await self._part(m, record)
        if kind is TargetKind.CONVERSATION:
            take_fallback(m, self.fallback)
        if not m.ok and not (kind is TargetKind.CONVERSATION and m.missing == ["created_at"]):
            return m.rejected_code or "map.rejected", m.rejected or ""
        if kind is TargetKind.CONTACT:
            return email_problem(self.mmap, m)
        if kind is TargetKind.CONVERSATION:
            return self._requester(m)
        return None

    async def _part(self, m: MappedRecord, record: object) -> tuple[str, str] | None:
        om = self.mmap.object_map(m.object)
        parent = getattr(record, "parent_key", None)
        if om is not None and om.parent:
            if (om.parent, parent) in self._rejected:
                code, reason = self._rejected[(om.parent, parent)]
                return code, f"its conversation is rejected: {reason}"
            if parent not in self._loadable[om.parent]:
                return "part.conversation_missing", orphan_reason(parent)
        if m.ok or m.missing == ["created_at"]:
            return None
        files = await self.reader.attachments(m.object, record) if m.missing == ["body"] else []  # type: ignore[arg-type]
        if any(not is_junk_file(f.name) for f in files):
            return None  # a message that is only its files
        return m.rejected_code or "map.rejected", m.rejected or ""

    def _requester(self, m: MappedRecord) -> tuple[str, str] | None:
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
        if any(value in self._loadable[obj] for obj in objects):
            return None
        if self.fallback:
            return None  # the operator's fallback requester takes it
        for obj in objects:
            if (obj, value) in self._rejected:
                code, reason = self._rejected[(obj, value)]
                return code, f"its requester ({value}) is rejected: {reason}"
        return "reference.missing", f"its requester ({value}) is not in the source, or is skipped there"


def save_scope(store: ProjectStore, items: list[NotMigrated], reports_dir: Path, stamp: str) -> Path:
    """The classes as findings of the latest audit (replacing an earlier scope check's), and
    every record in reports/not-migrated.csv."""
    groups: dict[tuple[str, str, str], list[NotMigrated]] = defaultdict(list)
    for item in items:
        groups[(item.object, item.status, item.code)].append(item)
    audit_id = latest_audit_id(store)
    with store.session() as session:
        session.execute(delete(FindingRow).where(FindingRow.detail == SCOPE_DETAIL))
        if audit_id is not None:
            for (obj, status, code), members in sorted(groups.items()):
                reasons = Counter(m.reason for m in members).most_common(1)[0][0]
                verb = ("will be rejected" if status == "rejected" else "are skipped by the source's scope"
                        if code.startswith("source.") else f"are left out by the map (`helpmig map P --include "
                                                           f"{obj}:{code}` includes them)")
                session.add(FindingRow(
                    audit_id=audit_id, code=code, severity="info" if status == "skipped" else "warning", object=obj,
                    message=f"{len(members)} {obj} {verb}: {reasons}", detail=SCOPE_DETAIL, count=len(members),
                    keys=[_shown(m) for m in members[:SAMPLE_KEYS]], status="open", status_note="", status_at=None))
        project = session.get(Project, 1)
        if project is not None:
            project.settings = {**(project.settings or {}), SCOPE_HASH: stamp}
    return write_csv(reports_dir / "not-migrated.csv", ("object", "key", "number", "status", "code", "reason"),
                     [(i.object, i.key, i.number or "", i.status, i.code, i.reason) for i in items])


def scope_is_current(store: ProjectStore, stamp: str) -> bool:
    """Was the scope checked for this map and fallback contact (`stamp`) since the last audit
    (which clears it)?"""
    return (store.project().settings or {}).get(SCOPE_HASH) == stamp


def _shown(item: NotMigrated) -> str:
    return f"#{item.number} ({item.key})" if item.number else item.key
