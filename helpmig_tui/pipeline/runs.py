"""Runs and phases in the project store: start, heartbeat, counts, finish, and the timeline.

A run is one load, sample, delta, validation or rollback. While it runs it beats every
few seconds; a `running` run whose heartbeat is stale was interrupted (a killed process,
a dropped RDP session), and `resumable_run()` finds it so the next start continues it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpmig_tui import redact
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import JsonText, Phase, Run, UtcDateTime, utcnow

HEARTBEAT_S = 5.0

_EVENT = "INSERT INTO events (at, level, kind, message, run_id, data) VALUES (?, ?, ?, ?, ?, ?)"
_AT, _DATA = UtcDateTime(), JsonText()  # the columns' own conversions (ISO-8601 UTC text, sorted JSON)


@dataclass(frozen=True)
class PhaseState:
    name: str
    position: int
    status: str
    planned: int
    counts: dict[str, int]
    report_path: str | None
    accepted_note: str
    report: dict[str, Any] | None = None  # its report as it closed (pipeline/report.py `kept`)


def _state(row: Phase) -> PhaseState:
    return PhaseState(row.name, row.position, row.status, row.planned, dict(row.counts or {}), row.report_path,
                      row.accepted_note, row.report)


class RunLog:
    """One run's bookkeeping: the run row, its phases, its events."""

    def __init__(self, store: ProjectStore, run_id: int) -> None:
        self.store = store
        self.run_id = run_id
        self._last_beat = 0.0

    @classmethod
    def start(cls, store: ProjectStore, kind: str, *, map_version: int | None = None, map_hash: str | None = None,
              options: dict[str, Any] | None = None, phases: list[tuple[str, int]] = ()) -> RunLog:
        """A new run with its phases (name, planned records) in order."""
        now = datetime.now(UTC)
        with store.session() as session:
            run = Run(kind=kind, status="running", started_at=now, heartbeat_at=now, map_version=map_version,
                      map_hash=map_hash, options=options or {})
            session.add(run)
            session.flush()
            for position, (name, planned) in enumerate(phases):
                session.add(Phase(run_id=run.id, name=name, position=position, planned=planned))
            run_id = run.id
        log = cls(store, run_id)
        log.event("run", f"{kind} run {run_id} started")
        return log

    @classmethod
    def resume(cls, store: ProjectStore, run_id: int) -> RunLog:
        with store.session() as session:
            run = session.get(Run, run_id)
            if run is None:
                raise KeyError(f"no run {run_id}")
            run.status = "running"
            run.heartbeat_at = datetime.now(UTC)
        log = cls(store, run_id)
        log.event("run", f"run {run_id} resumed")
        return log

    def run(self) -> Run:
        with self.store.reader() as session:
            run = session.get(Run, self.run_id)
            assert run is not None
            return run

    def beat(self, now: float) -> None:
        """Refresh the heartbeat at most every HEARTBEAT_S seconds (`now`: a monotonic clock)."""
        if now - self._last_beat < HEARTBEAT_S:
            return
        self._last_beat = now
        with self.store.session() as session:
            run = session.get(Run, self.run_id)
            if run is not None:
                run.heartbeat_at = datetime.now(UTC)

    def phases(self) -> list[PhaseState]:
        with self.store.reader() as session:
            rows = session.scalars(select(Phase).where(Phase.run_id == self.run_id).order_by(Phase.position))
            return [_state(row) for row in rows]

    def phase(self, name: str) -> PhaseState:
        return next(p for p in self.phases() if p.name == name)

    def update_phase(self, name: str, **values: Any) -> None:
        with self.store.session() as session:
            row = session.scalars(select(Phase).where(Phase.run_id == self.run_id, Phase.name == name)).one()
            if values.get("status") == "running" and row.started_at is None:
                row.started_at = datetime.now(UTC)
            if values.get("status") in ("done", "failed", "accepted"):
                row.ended_at = datetime.now(UTC)
            for key, value in values.items():
                setattr(row, key, value)

    def rolled_back_since(self) -> bool:
        """Has a rollback started since this run began? (What its finished phases wrote may
        be gone from Intercom.)"""
        with self.store.engine.connect() as conn:
            return conn.exec_driver_sql("SELECT 1 FROM runs WHERE kind = 'rollback' AND id > ? LIMIT 1",
                                        (self.run_id,)).first() is not None

    def finish(self, status: str, summary: dict[str, Any] | None = None) -> None:
        with self.store.session() as session:
            run = session.get(Run, self.run_id)
            if run is None:
                return
            run.status = status
            if status in ("done", "failed", "cancelled"):
                run.ended_at = datetime.now(UTC)
            if summary is not None:
                run.summary = summary
        self.event("run", f"run {self.run_id} {status}")

    def event(self, kind: str, message: str, level: str = "info", **data: Any) -> None:
        """One line of the timeline, in plain SQL: a run writes a few dozen before its first
        call (each phase's start and end, the schema's warnings), and an ORM session each
        cost a resume's start-up more than the rows."""
        with self.store.engine.begin() as conn:
            conn.exec_driver_sql(_EVENT, (_AT.process_bind_param(utcnow(), None), level, kind, redact.redact(message),
                                          self.run_id, _DATA.process_bind_param(data, None)))


def finished_phases(store: ProjectStore, kinds: tuple[str, ...],
                    statuses: tuple[str, ...] = ("done", "accepted")) -> set[str]:
    """The phases that finished in a run of these kinds and that no rollback undid since: a
    rollback of everything undoes every phase that ended before it began, a rollback of the
    samples only the sample runs' phases (it keeps what the full load wrote)."""
    with store.reader() as session:
        everything, samples = _rollbacks(session)
        rows = session.execute(select(Phase.name, Run.kind, Phase.ended_at).join(Run, Run.id == Phase.run_id)
                               .where(Run.kind.in_(kinds), Phase.status.in_(statuses))).all()

    def undone(kind: str, ended: datetime | None) -> bool:
        since = samples if kind == "sample" else everything
        return since is not None and (ended is None or ended < since)

    return {name for name, kind, ended in rows if not undone(kind, ended)}


def rolled_back_since_load(store: ProjectStore) -> bool:
    """Has a rollback of everything begun since a phase of a load last ended? (A sample's
    rollback keeps what the load wrote.)"""
    with store.reader() as session:
        everything, _ = _rollbacks(session)
        ended = session.scalar(select(func.max(Phase.ended_at)).join(Run, Run.id == Phase.run_id)
                               .where(Run.kind == "load"))
    return everything is not None and (ended is None or ended < everything)


def _rollbacks(session: Session) -> tuple[datetime | None, datetime | None]:
    """When the last rollback of everything began, and the last of any scope."""
    rollbacks = session.execute(select(Run.started_at, Run.options).where(Run.kind == "rollback")).all()
    everything = max((at for at, options in rollbacks if (options or {}).get("scope") != "sample"), default=None)
    return everything, max((at for at, _ in rollbacks), default=None)


def resumable_run(store: ProjectStore, kinds: tuple[str, ...] = ("load", "sample", "delta", "rollback")) -> Run | None:
    """The latest run of these kinds that did not end: running (interrupted) or paused."""
    with store.reader() as session:
        run = session.scalars(
            select(Run).where(Run.kind.in_(kinds)).order_by(Run.id.desc()).limit(1)
        ).first()
    if run is not None and run.status in ("running", "paused"):
        return run
    return None
