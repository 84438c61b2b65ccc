"""Rollback: remove exactly what this project created, newest first, in reverse dependency
order; archive what Intercom only archives; never touch what it did not create.

Scope: everything (`--all`) or only the sample run's objects (`--sample`). Every removal
is journaled (`rolled_back`), so a rollback that crashes resumes where it stopped: an
object already gone answers 404 and counts as removed. An object someone changed in
Intercom after the import (a reply from an agent, an edited contact) is listed and left
alone unless the operator includes changed objects.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from connectors.intercom import IntercomClient
from connectors.intercom.errors import IntercomError, NotFound
from helpmig_tui.pipeline.context import Observer
from helpmig_tui.pipeline.control import RunCancelled, RunControl
from helpmig_tui.pipeline.journal import Entry, Journal
from helpmig_tui.pipeline.runs import RunLog, resumable_run
from helpmig_tui.reports import write_text
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import FINISHED, JournalEntry, Project, Run

CHANGED_SLACK = timedelta(minutes=2)  # clocks and Intercom's own bookkeeping
CONCURRENCY = 16

# (journal kinds, what Intercom does): newest dependents first
ORDER: tuple[tuple[tuple[str, ...], str], ...] = (
    (("custom_object",), "deleted"),
    (("article",), "deleted"),
    (("collection",), "deleted"),
    (("conversation_segment", "conversation"), "deleted"),
    (("walkin_contact", "contact"), "deleted"),
    (("company",), "archived"),
    (("tag",), "deleted"),
    (("data_attribute", "conversation_attribute"), "archived"),
)
SCHEMA_KINDS = ("tag", "data_attribute", "conversation_attribute")
# journal kinds that go with their conversation or contact
CHILDREN = ("part", "part_segment", "attachment", "conversation_tag", "conversation_update", "conversation_team",
            "conversation_assignee", "conversation_state")


@dataclass
class RollbackReport:
    removed: dict[str, int] = field(default_factory=dict)  # kind -> deleted
    archived: dict[str, int] = field(default_factory=dict)  # kind -> archived (companies, attributes)
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # kind, source key, Intercom id: left alone
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # kind, source key, why
    run_id: int | None = None
    path: Path | None = None  # the rollback's report

    @property
    def clean(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        removed = sum(self.removed.values())
        archived = sum(self.archived.values())
        text = f"{removed} removed, {archived} archived"
        if self.changed:
            text += f", {len(self.changed)} changed in Intercom after the import (left alone)"
        if self.failed:
            text += f", {len(self.failed)} failed"
        return text


def sample_runs(store: ProjectStore) -> list[int]:
    with store.reader() as session:
        return list(session.scalars(select(Run.id).where(Run.kind == "sample")))


class Rollback:
    def __init__(self, store: ProjectStore, client: IntercomClient, journal: Journal, *, acting_admin: str,
                 run_ids: list[int] | None, object_types: dict[str, str], types_by_run: dict[int, dict[str, str]],
                 include_changed: bool = False,
                 observer: Observer | None = None, control: RunControl | None = None,
                 reports_dir: Path | None = None) -> None:
        self.store = store
        self.reports_dir = reports_dir or store.path.parent / "reports"
        self.client = client
        self.journal = journal
        self.acting_admin = acting_admin
        self.run_ids = run_ids
        self.include_changed = include_changed
        self.observer = observer
        self.control = control or RunControl()
        self.report = RollbackReport()
        self._types = object_types  # source object -> its custom object type, by the session's map
        self._types_by_run = types_by_run  # the same by the map each run wrote with (first)
        self._kept_contacts: set[str] = set()  # contacts of conversations left alone

    def _kinds(self, kinds: tuple[str, ...]) -> tuple[str, ...]:
        """A sample's rollback removes its records and keeps the schema the full load needs."""
        return tuple(k for k in kinds if self.run_ids is None or k not in SCHEMA_KINDS)

    def planned(self) -> dict[str, int]:
        """What a rollback would remove, per kind (the confirmation screen shows it)."""
        return {kind: n for kinds, _ in ORDER for kind in self._kinds(kinds)
                if (n := len(self.journal.created([kind], self.run_ids)))}

    async def run(self) -> RollbackReport:
        """Remove what is in scope, as a run: recorded with its scope and a heartbeat (the
        session that made it holds the project's run lock), so a killed rollback shows as
        interrupted and the next one resumes it (what it removed is journaled, so nothing is
        asked of Intercom twice)."""
        runlog = self._runlog()
        self.journal.run_id = runlog.run_id
        if self.run_ids is None:
            self._stage("rolling_back")
        try:
            await self._remove_all(runlog)
        except RunCancelled:
            self.journal.flush()
            runlog.finish("paused", {**self._summary(), "message": "cancelled; run the rollback again to resume"})
            raise
        self.journal.flush()
        runlog.finish("done" if self.report.clean else "failed", self._summary())
        self.report.run_id = runlog.run_id
        self.report.path = write_rollback_report(self.store, self.report, self.scope, self.reports_dir)
        if self.run_ids is None and self.report.clean and not self.report.changed:
            self._stage("rolled_back")  # nothing of the project is left in Intercom
        return self.report

    @property
    def scope(self) -> str:
        return "all" if self.run_ids is None else "sample"

    def _runlog(self) -> RunLog:
        """This rollback's run: the interrupted one of the same scope, or a new one."""
        previous = resumable_run(self.store, kinds=("rollback",))
        if previous is not None and (previous.options or {}).get("scope") == self.scope:
            return RunLog.resume(self.store, previous.id)
        if previous is not None:  # a rollback of the other scope was interrupted: it is replaced by this one
            RunLog(self.store, previous.id).finish("cancelled", {"message": f"replaced by a rollback of {self.scope}"})
        return RunLog.start(self.store, "rollback", options={"scope": self.scope,
                                                             "include_changed": self.include_changed})

    def _summary(self) -> dict[str, object]:
        r = self.report
        return {"scope": self.scope, "removed": dict(r.removed), "archived": dict(r.archived),
                "changed": len(r.changed), "failed": len(r.failed)}

    async def _remove_all(self, runlog: RunLog) -> None:
        for kinds, action in ORDER:
            entries = self.journal.created(self._kinds(kinds), self.run_ids)
            slots = asyncio.Semaphore(CONCURRENCY)

            async def one(entry: Entry, action: str = action) -> None:
                async with slots:
                    await self.control.checkpoint()
                    await self._remove(entry, action)

            if kinds == ("collection",):  # children before parents: newest first, one by one
                for entry in entries:
                    await one(entry)
            else:
                try:
                    async with asyncio.TaskGroup() as group:
                        for entry in entries:
                            group.create_task(one(entry))
                except BaseExceptionGroup as group_error:
                    # the operator's stop reaches every task at once: it is one stop, not many errors
                    if group_error.split(RunCancelled)[1] is not None:
                        raise
                    raise RunCancelled("cancelled by the operator") from None
            self.journal.flush()
            runlog.beat(time.monotonic())
            if entries:
                runlog.event("rollback", f"{len(entries)} {kinds[-1]} rows handled")
                if self.observer is not None:
                    self.observer.event("info", f"rollback: {len(entries)} {kinds[-1]} rows handled")

    def _stage(self, stage: str) -> None:
        with self.store.session() as session:
            project = session.get(Project, 1)
            if project is not None:
                project.stage = stage

    async def _remove(self, entry: Entry, action: str) -> None:
        remove = self._remover(entry)
        if remove is None:
            return
        try:
            if entry.kind in ("contact", "walkin_contact") and entry.intercom_id in self._kept_contacts:
                # deleting the contact would delete the conversation left alone with it
                self.report.changed.append((entry.kind, entry.source_key, entry.intercom_id or ""))
                return
            if not self.include_changed and await self._changed_after_import(entry):
                self.report.changed.append((entry.kind, entry.source_key, entry.intercom_id or ""))
                return
            await remove()
        except NotFound:
            pass  # already gone: the earlier, interrupted rollback removed it
        except IntercomError as exc:
            self.report.failed.append((entry.kind, entry.source_key, str(exc)))
            return
        self.journal.mark_rolled_back(entry.kind, entry.source_key)
        self.journal.flush()
        dependents_gone(self.store, entry)
        bucket = self.report.archived if action == "archived" else self.report.removed
        bucket[entry.kind] = bucket.get(entry.kind, 0) + 1

    def _remover(self, entry: Entry) -> Callable[[], Awaitable[object]] | None:
        c, object_id = self.client, entry.intercom_id or ""
        removers: dict[str, Callable[[], Awaitable[object]]] = {
            "custom_object": lambda: c.custom_objects.delete(self._object_type(entry), object_id),
            "article": lambda: c.articles.delete(object_id),
            "collection": lambda: c.collections.delete(object_id),
            "conversation": lambda: c.conversations.delete(object_id),
            "conversation_segment": lambda: c.conversations.delete(object_id),
            "contact": lambda: c.contacts.delete(object_id),
            "walkin_contact": lambda: c.contacts.delete(object_id),
            "company": lambda: c.companies.delete(object_id),
            "tag": lambda: c.tags.delete(object_id),
            "data_attribute": lambda: c.data_attributes.archive(int(object_id)),
            "conversation_attribute": lambda: c.conversation_attributes.archive(int(object_id)),
        }
        return removers.get(entry.kind)

    def _object_type(self, entry: Entry) -> str:
        obj = entry.object or ""
        written_as = self._types_by_run.get(entry.created_run or entry.run_id or 0, {}).get(obj)
        return written_as or self._types.get(obj, "")

    async def _changed_after_import(self, entry: Entry) -> bool:
        """Did someone change it in Intercom after helpmig's writes? A conversation with a
        part helpmig did not write; a contact updated after helpmig's last write."""
        if entry.kind in ("conversation", "conversation_segment"):
            found = await self.client.conversations.get(entry.intercom_id or "")
            ours = self._our_part_ids(entry.source_key.split("#")[0])  # a continuation's parts are its thread's
            parts = found.conversation_parts.conversation_parts if found.conversation_parts else []
            foreign = [p for p in parts if p.part_type in ("comment", "note") and p.id not in ours]
            if foreign:
                self._kept_contacts.update(c.id for c in (found.contacts.contacts if found.contacts else []))
            return bool(foreign)
        if entry.kind in ("contact", "walkin_contact"):
            found = await self.client.contacts.get(entry.intercom_id or "")
            last_write = self._last_write(entry)
            return bool(found.updated_at and last_write and found.updated_at > (last_write + CHANGED_SLACK).timestamp())
        return False

    def _our_part_ids(self, conversation_key: str) -> set[str]:
        with self.store.engine.connect() as conn:
            return set(conn.execute(select(JournalEntry.intercom_id).where(
                JournalEntry.parent_key == conversation_key, JournalEntry.intercom_id.is_not(None))).scalars())

    def _last_write(self, entry: Entry) -> datetime | None:
        with self.store.engine.connect() as conn:
            times = conn.execute(select(JournalEntry.updated_at).where(
                ((JournalEntry.kind == entry.kind) & (JournalEntry.source_key == entry.source_key))
                | (JournalEntry.parent_key == entry.source_key))).scalars().all()
        return max(times, default=None)


def dependents_gone(store: ProjectStore, entry: Entry) -> None:
    """What went with an object removed from Intercom, so a later load writes it again: a
    conversation's parts and state writes; a contact's company link, tags and email alias;
    a company's name alias; and the record's `finished` row."""
    row = JournalEntry
    finished = (row.kind == FINISHED) & (row.source_key == entry.source_key)
    if entry.kind in ("conversation", "conversation_segment"):
        which = ((row.parent_key == entry.source_key) & row.kind.in_(CHILDREN)) | finished
    elif entry.kind in ("contact", "walkin_contact"):
        # its links, tags and email alias; and the records merged into it (same email), which
        # a later load writes again
        which = ((row.kind.in_(("contact_company", "contact_tag"))
                  & ((row.source_key == entry.source_key) | row.source_key.startswith(entry.source_key + "#")))
                 | (row.kind.in_(("contact_email", "contact", FINISHED)) & (row.intercom_id == entry.intercom_id))
                 | finished)
    elif entry.kind == "company":
        which = ((row.kind == "company_name") & (row.intercom_id == entry.intercom_id)) | finished
    else:
        return
    with store.engine.begin() as conn:
        conn.execute(update(row).where(which, row.status == "done").values(status="rolled_back", created_id=None,
                                                                           created_run=None))


def write_rollback_report(store: ProjectStore, report: RollbackReport, scope: str, reports_dir: Path) -> Path:
    """The rollback's own report: what went, what was archived, what was left and why."""
    lines = [f"# Rollback of {'everything this project created' if scope == 'all' else 'the sample runs'} "
             f"(run {report.run_id})", "", f"Project {store.project().name}, finished "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC: {report.summary()}.", "",
             "| Kind | Deleted | Archived |", "|---|---:|---:|"]
    for kind in sorted(set(report.removed) | set(report.archived)):
        lines.append(f"| {kind} | {report.removed.get(kind, 0)} | {report.archived.get(kind, 0)} |")
    if report.changed:
        lines += ["", "## Left alone: changed in Intercom after the import", "",
                  "Rerun with --include-changed to remove these too.", ""]
        lines += [f"- {kind} {key} (Intercom {ident})" for kind, key, ident in report.changed]
    if report.failed:
        lines += ["", "## Could not be removed", ""] + [f"- {kind} {key}: {why}" for kind, key, why in report.failed]
    return write_text(reports_dir / f"run-{report.run_id}-rollback.md", "\n".join(lines) + "\n")
