"""The project store's tables, as SQLAlchemy 2.0 typed models (the latest schema version).

One SQLite file per migration project. What each table holds:
- meta: schema version and the file's owner, so a foreign file is recognised.
- project: the project's settings (one row). Never a secret.
- source_objects: the source inventory (objects, counts, date ranges, field profiles).
- audits, findings: audit runs and the data-quality findings with their acknowledgement.
- field_maps, map_changes: versioned field maps with confirmation, and every edit.
- runs, phases: each load/sample/delta/validate/rollback run and its phases with counts.
- journal: one row per destination write (per record and per conversation part).
- events: the timeline the UI and reports show.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes stored as ISO-8601 text: readable in any SQLite browser."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the project store; use aware UTC")
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def process_result_value(self, value: str | None, dialect: Any) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)


class JsonText(TypeDecorator[Any]):
    """JSON stored as compact text with sorted keys (stable hashes and diffs)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


class Base(DeclarativeBase):
    pass


class Meta(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Project(Base):
    """The project's own settings; exactly one row (id 1)."""

    __tablename__ = "project"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(32))
    source_options: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)
    intercom_url: Mapped[str | None] = mapped_column(String(255))
    stage: Mapped[str] = mapped_column(String(32), default="created")
    settings: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class SourceObject(Base):
    """One source object as the last audit saw it."""

    __tablename__ = "source_objects"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(128), default="")
    count: Mapped[int | None] = mapped_column(Integer)
    first_created: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_created: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JsonText, default=list)
    profile: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)
    spec: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)  # key, parent, parent_field, created_field
    audited_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Audit(Base):
    __tablename__ = "audits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | done | failed
    summary: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))  # blocker | warning | info
    object: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
    keys: Mapped[list[str]] = mapped_column(JsonText, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | acknowledged | waived
    status_note: Mapped[str] = mapped_column(Text, default="")
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_findings_audit_severity", "audit_id", "severity"),)


class FieldMap(Base):
    """One version of the field map. Confirmed versions are immutable."""

    __tablename__ = "field_maps"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | confirmed | superseded
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(128))
    proposer: Mapped[str] = mapped_column(String(32), default="builtin")
    body: Mapped[dict[str, Any]] = mapped_column(JsonText)
    note: Mapped[str] = mapped_column(Text, default="")


class MapChange(Base):
    """Every edit and confirmation of a field-map row, who and when."""

    __tablename__ = "map_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(ForeignKey("field_maps.version", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    object: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))  # edit | confirm | skip | reset
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonText)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonText)


class Run(Base):
    """A load, sample, delta, validation or rollback run."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # sample | load | delta | validate | rollback
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | paused | done | failed | cancelled
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # a stale heartbeat = interrupted
    map_version: Mapped[int | None] = mapped_column(ForeignKey("field_maps.version"))
    map_hash: Mapped[str | None] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)


class Phase(Base):
    __tablename__ = "phases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | running | done | failed | accepted
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    planned: Mapped[int] = mapped_column(Integer, default=0)  # records the plan expects
    counts: Mapped[dict[str, int]] = mapped_column(JsonText, default=dict)
    report_path: Mapped[str | None] = mapped_column(Text)
    accepted_note: Mapped[str] = mapped_column(Text, default="")
    # the phase's report as it closed, kept: a resume of the run takes it instead of running a
    # finished phase again (pipeline/report.py `kept`); None before version 7 or while it runs
    report: Mapped[dict[str, Any] | None] = mapped_column(JsonText)

    __table_args__ = (UniqueConstraint("run_id", "name"),)


JOURNAL_STATUSES = ("pending", "in_flight", "done", "failed", "rejected", "skipped", "rolled_back")
# the kind of the row that says a whole record needs nothing more (a resume skips it);
# not a write: status counts leave it out
FINISHED = "finished"


class JournalEntry(Base):
    """One destination write: journaled before the call (in_flight) and after it."""

    __tablename__ = "journal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    phase: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))  # contact, company, conversation, part, tag, ...
    source_key: Mapped[str] = mapped_column(String(255))
    object: Mapped[str | None] = mapped_column(String(64))  # the source object the key belongs to
    parent_key: Mapped[str | None] = mapped_column(String(255))  # the conversation of a part
    seq: Mapped[int] = mapped_column(Integer, default=0)  # a part's position in its conversation
    status: Mapped[str] = mapped_column(String(16), default="pending")
    intercom_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(16))  # created | updated | adopted | matched
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str | None] = mapped_column(String(64))  # the reason's code (an audit finding's, when predicted)
    label: Mapped[str | None] = mapped_column(String(128))  # the number people know the record by
    # ownership: what this project created (kept whatever later writes did; cleared by a rollback)
    created_id: Mapped[str | None] = mapped_column(String(64))
    created_run: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("kind", "source_key"),
        Index("ix_journal_status", "status"),
        Index("ix_journal_parent", "kind", "parent_key", "seq"),
        Index("ix_journal_object", "object", "status"),
    )


class Event(Base):
    """The timeline: what happened, when, for the UI's live log and the reports."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    level: Mapped[str] = mapped_column(String(8), default="info")  # info | warning | error
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)

    __table_args__ = (Index("ix_events_at", "at"),)
