"""Where each wizard step stands: what it waits for, in one line, so no step is blocked
without a reason; and which steps are done, so the step list can mark them. Both are
judged from the same facts, read once (the overview reads them on every return from a step)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from helpmig_tui.audit_store import latest_audit_id, open_blockers
from helpmig_tui.mapping.versions import MapStateError, require_confirmed_version
from helpmig_tui.pipeline.runs import rolled_back_since_load
from helpmig_tui.project import ProjectStatus
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import JournalEntry, Run


@dataclass(frozen=True)
class _Facts:
    """What the project's store says about the steps."""

    audited: bool
    blockers: int  # open blockers of the latest audit
    map_problem: str | None  # why the map cannot be loaded (None: confirmed)
    runs_done: frozenset[str]  # kinds of the runs that finished
    runs: int  # runs started
    created: int  # journal entries created in Intercom
    rolled_back: int  # journal entries rolled back
    load_undone: bool  # a rollback of everything began since the load last ended


def _facts(store: ProjectStore) -> _Facts:
    audited = latest_audit_id(store) is not None
    try:
        require_confirmed_version(store)
        map_problem = None
    except MapStateError as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        map_problem = problems[0]
    with store.reader() as session:
        runs_done = frozenset(kind for (kind,) in session.execute(select(Run.kind).where(Run.status == "done")))
        runs = session.scalar(select(func.count()).select_from(Run)) or 0
        entries = dict(session.execute(
            select(JournalEntry.status, func.count()).where(
                ((JournalEntry.status == "done") & (JournalEntry.outcome == "created"))
                | (JournalEntry.status == "rolled_back")).group_by(JournalEntry.status)).all())
    return _Facts(audited=audited, blockers=len(open_blockers(store)) if audited else 0, map_problem=map_problem,
                  runs_done=runs_done, runs=runs, created=entries.get("done", 0),
                  rolled_back=entries.get("rolled_back", 0), load_undone=rolled_back_since_load(store))


def step_standing(store: ProjectStore, status: ProjectStatus, reports_dir: Path) -> tuple[dict[str, str], set[str]]:
    """What each step waits for (step -> what must be done first; steps that can go ahead
    are absent) and which steps are done."""
    facts = _facts(store)
    return _waits(status, facts), _marks(status, facts, reports_dir)


def _waits(status: ProjectStatus, facts: _Facts) -> dict[str, str]:
    waits: dict[str, str] = {}
    if status.source_problem:
        waits["audit"] = f"fix the source on Connect: {status.source_problem}"
    if not facts.audited:
        waits["mapping"] = "run the audit first"
    map_problem = f"confirm the field map on Mapping review: {facts.map_problem}" if facts.map_problem else None
    load_wait = map_problem or (
        f"{facts.blockers} audit blockers are open: acknowledge or waive them on Audit" if facts.blockers else None)
    if not status.intercom_url and not status.destination:
        load_wait = load_wait or "connect Intercom on Connect"
    for step in ("plan", "sample", "load"):
        if load_wait:
            waits[step] = load_wait
    if not facts.runs_done & {"sample", "load", "delta"}:
        waits["validate"] = "load a sample or everything first"
    if "load" not in facts.runs_done:
        waits["delta"] = "after the full load"
    elif facts.load_undone:
        waits["delta"] = "the project was rolled back: run the full load again first"
    if not facts.created:
        waits["rollback"] = "nothing created in Intercom yet"
    return waits


def _marks(status: ProjectStatus, facts: _Facts, reports_dir: Path) -> set[str]:
    """The steps that are done, each judged by what it leaves behind in the project."""
    done: set[str] = set()
    if not status.source_problem and (status.intercom_url or status.destination):
        done.add("connect")
    if facts.audited and not facts.blockers:
        done.add("audit")
    if facts.map_problem is None:
        done.add("mapping")
    if facts.runs:
        done.add("plan")  # a run was started from it
    done |= facts.runs_done & {"sample", "load", "delta"}
    if status.stage in ("validated", "cutover"):
        done.add("validate")
    if facts.rolled_back:
        done.add("rollback")
    if (reports_dir / "summary.md").exists():
        done.add("reports")
    return done
