"""Where each wizard step stands: what it waits for, in one line, so no step is blocked
without a reason; and which steps are done, so the step list can mark them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from helpmig_tui.audit_store import latest_audit_id, open_blockers
from helpmig_tui.mapping.versions import MapStateError, require_confirmed_version
from helpmig_tui.project import ProjectStatus
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import JournalEntry, Run


def step_waits(store: ProjectStore, status: ProjectStatus) -> dict[str, str]:
    """step -> what must be done first (steps that can go ahead are absent)."""
    waits: dict[str, str] = {}
    if status.source_problem:
        waits["audit"] = f"fix the source on Connect: {status.source_problem}"
    audited = latest_audit_id(store) is not None
    if not audited:
        waits["mapping"] = "run the audit first"
    try:
        require_confirmed_version(store)
        map_problem = None
    except MapStateError as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        map_problem = f"confirm the field map on Mapping review: {problems[0]}"
    blockers = open_blockers(store) if audited else []
    load_wait = map_problem or (
        f"{len(blockers)} audit blockers are open: acknowledge or waive them on Audit" if blockers else None)
    if not status.intercom_url and not status.destination:
        load_wait = load_wait or "connect Intercom on Connect"
    for step in ("plan", "sample", "load"):
        if load_wait:
            waits[step] = load_wait
    with store.reader() as session:
        runs = {kind for (kind,) in session.execute(select(Run.kind).where(Run.status == "done"))}
        created = session.scalar(select(func.count()).select_from(JournalEntry).where(
            JournalEntry.status == "done", JournalEntry.outcome == "created")) or 0
    if not runs & {"sample", "load", "delta"}:
        waits["validate"] = "load a sample or everything first"
    if "load" not in runs:
        waits["delta"] = "after the full load"
    if not created:
        waits["rollback"] = "nothing created in Intercom yet"
    return waits


def step_marks(store: ProjectStore, status: ProjectStatus, reports_dir: Path) -> set[str]:
    """The steps that are done, each judged by what it leaves behind in the project."""
    done: set[str] = set()
    if not status.source_problem and (status.intercom_url or status.destination):
        done.add("connect")
    if latest_audit_id(store) is not None and not open_blockers(store):
        done.add("audit")
    try:
        require_confirmed_version(store)
        done.add("mapping")
    except MapStateError:
        pass
    with store.reader() as session:
        runs = {kind for (kind,) in session.execute(select(Run.kind).where(Run.status == "done"))}
        started = session.scalar(select(func.count()).select_from(Run)) or 0
        rolled_back = session.scalar(select(func.count()).select_from(JournalEntry).where(
            JournalEntry.status == "rolled_back")) or 0
    if started:
        done.add("plan")  # a run was started from it
    done |= runs & {"sample", "load", "delta"}
    if status.stage in ("validated", "cutover"):
        done.add("validate")
    if rolled_back:
        done.add("rollback")
    if (reports_dir / "summary.md").exists():
        done.add("reports")
    return done
