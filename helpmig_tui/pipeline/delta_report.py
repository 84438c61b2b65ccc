"""What one delta found and did: not the project's totals, this run's.

Per source object: new records created, records updated, messages appended to
conversations, state changes (reopened, closed, re-assigned, re-tagged), records gone
from the source (and what became of them), and records looked at and found unchanged.
Written beside the phase reports as `run-<id>-delta.md`, with every state change and
every record gone from the source in `run-<id>-delta-changes.csv`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from helpmig_tui.mapping.model import MigrationMap
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.pipeline.report import PhaseReport, label
from helpmig_tui.reports import write_csv, write_text
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import Event, JournalEntry

FIGURES = ("created", "updated", "appended", "state_changes", "gone", "unchanged", "rejected", "failed", "waiting")


@dataclass
class DeltaLine:
    object: str
    created: int = 0  # new records (new conversations, contacts, ...)
    updated: int = 0  # records the source changed, rewritten
    appended: int = 0  # new messages written (on conversations already in Intercom, or opening new ones)
    state_changes: int = 0
    gone: int = 0  # in Intercom, no longer in the source
    unchanged: int = 0
    rejected: int = 0
    failed: int = 0  # failed or in doubt: the next delta tries again
    waiting: int = 0  # for the operator (an agent with no admin, a deletion with no choice)


@dataclass
class DeltaSummary:
    run_id: int
    lines: list[DeltaLine] = field(default_factory=list)
    state_changes: list[tuple[str, str, str | None, str]] = field(default_factory=list)  # object, key, number, what
    gone: list[tuple[str, str, str | None, str, str]] = field(default_factory=list)  # object, key, number, status, why
    path: Path | None = None

    def totals(self) -> dict[str, int]:
        return {f: sum(getattr(line, f) for line in self.lines) for f in FIGURES}

    def text(self) -> str:
        t = self.totals()
        words = {"created": "created", "updated": "updated", "appended": "messages appended",
                 "state_changes": "state changes", "gone": "gone from the source", "unchanged": "unchanged",
                 "rejected": "rejected", "failed": "failed", "waiting": "waiting for the operator"}
        return ", ".join(f"{t[f]} {words[f]}" for f in FIGURES if t[f] or f in ("created", "updated", "unchanged"))

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "totals": self.totals(), "objects": [asdict(line) for line in self.lines],
                "state_changes": len(self.state_changes), "gone": len(self.gone),
                "report": str(self.path) if self.path else None}


def summarise(run_id: int, reports: list[PhaseReport], mmap: MigrationMap, store: ProjectStore) -> DeltaSummary:
    """The run's figures: from its phase reports (which count an interrupted try's writes as
    this run's) and, for state changes and records gone, from the run's timeline and journal."""
    parts = {o.object for o in mmap.active_objects() if o.target is TargetKind.PART}
    lines: dict[str, DeltaLine] = {}
    for report in reports:
        for o in report.objects:
            line = lines.setdefault(o.object, DeltaLine(o.object))
            if report.phase == "deletions":
                line.gone += o.read
                line.waiting += o.queued
                line.failed += o.failed
                continue
            if o.object in parts:
                line.appended += o.created
            else:
                line.created += o.created
            line.updated += o.updated
            line.unchanged += o.unchanged
            line.rejected += o.rejected
            line.failed += o.failed + o.in_doubt
            line.waiting += o.queued
    with store.reader() as session:
        changes = [(e.data.get("object", ""), e.data.get("key", ""), e.data.get("number"), e.data.get("what", ""))
                   for e in session.scalars(select(Event).where(Event.run_id == run_id, Event.kind == "state_change")
                                            .order_by(Event.id))]
        gone = [(obj or "", key.split(":", 1)[-1], number, status if status != "done" else outcome or status,
                 why or "") for obj, key, number, status, outcome, why in session.execute(
            select(JournalEntry.object, JournalEntry.source_key, JournalEntry.label, JournalEntry.status,
                   JournalEntry.outcome, JournalEntry.last_error)
            .where(JournalEntry.kind == "source_gone", JournalEntry.run_id == run_id).order_by(JournalEntry.id))]
    for obj, *_ in changes:
        lines.setdefault(obj, DeltaLine(obj)).state_changes += 1
    return DeltaSummary(run_id, [line for line in lines.values() if any(getattr(line, f) for f in FIGURES)],
                        changes, gone)


def write_delta_report(summary: DeltaSummary, project: str, reports_dir: Path) -> Path:
    lines = [f"# Delta run {summary.run_id}: what it found and did", "",
             f"Project {project}. {summary.text()}.", "",
             "| Object | Created | Updated | Appended | State changes | Gone from the source | Unchanged | Rejected "
             "| Failed | Waiting |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for line in summary.lines:
        lines.append("| " + " | ".join([line.object, *(str(getattr(line, f)) for f in FIGURES)]) + " |")
    lines += ["", "Appended: new messages written, on conversations already in Intercom or opening new ones. "
                  "Unchanged: looked at, nothing changed in the source since the last run that wrote it.",
              "Conversation priority: Intercom's API (2.16) has no way to set it; the map keeps it as an attribute "
              "or a tag, kept in step like the other attributes and tags."]
    if summary.state_changes:
        lines += ["", "## State changes", ""]
        lines += [f"- {obj} {label(key, number)}: {what}" for obj, key, number, what in summary.state_changes[:200]]
    if summary.gone:
        lines += ["", "## Gone from the source", "", "| Object | Record | Now | Why |", "|---|---|---|---|"]
        lines += [f"| {obj} | {label(key, number)} | {status} | {why.replace('|', '/')} |"
                  for obj, key, number, status, why in summary.gone[:500]]
    if len(summary.state_changes) > 200 or len(summary.gone) > 500:
        lines += ["", "Every one is in the CSV beside this report."]
    stem = f"run-{summary.run_id}-delta"
    rows = [("state change", obj, key, number or "", what, "") for obj, key, number, what in summary.state_changes]
    rows += [("gone from the source", obj, key, number or "", status, why)
             for obj, key, number, status, why in summary.gone]
    if rows:
        write_csv(reports_dir / f"{stem}-changes.csv", ("what", "object", "key", "number", "now", "why"), rows)
    summary.path = write_text(reports_dir / f"{stem}.md", "\n".join(lines) + "\n")
    return summary.path
