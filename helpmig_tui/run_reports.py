"""What the wizard's runs leave behind in words and files: what a delta found, and the
validation and rollback reports in the project's reports folder (the Reports step lists
them beside the summary and the phase reports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from helpmig_tui.reports import write_text
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import JournalEntry

RECORD_KINDS = ("company", "contact", "conversation", "article", "custom_object", "csv_row")


@dataclass
class DeltaFound:
    created: int = 0  # records new in the source since the load began
    updated: int = 0  # records changed since, sent again
    appended: int = 0  # messages and notes added to conversations already in Intercom
    unchanged: int = 0  # records the delta looked at and left as they were

    def line(self) -> str:
        if not (self.created or self.updated or self.appended):
            return f"nothing new: {self.unchanged:,} records unchanged"
        return (f"{self.created:,} created, {self.updated:,} updated, {self.appended:,} messages appended, "
                f"{self.unchanged:,} unchanged")


def delta_found(store: ProjectStore, result: Any, part_objects: set[str]) -> DeltaFound:
    """What a delta run wrote (its journal rows) and what it left unchanged (records its
    phases found done already; `part_objects`: the messages and notes, not records)."""
    found = DeltaFound()
    run_id = result.reports[0].run_id if result.reports else None
    if run_id is None:
        return found
    with store.reader() as session:
        rows = session.execute(
            select(JournalEntry.kind, JournalEntry.outcome, func.count())
            .where(JournalEntry.run_id == run_id, JournalEntry.status == "done",
                   JournalEntry.kind.in_((*RECORD_KINDS, "part")))
            .group_by(JournalEntry.kind, JournalEntry.outcome)
        ).all()
    for kind, outcome, n in rows:
        if kind == "part":
            found.appended += n
        elif outcome == "created":
            found.created += n
        else:
            found.updated += n
    found.unchanged = sum(o.earlier for r in result.reports if r.phase not in ("match", "schema")
                          for o in r.objects if o.object not in part_objects)
    return found


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def write_validation_report(reports_dir: Path, project: str, result: Any, *, sample_run_only: bool) -> Path:
    """validation-<time>.md: the verdict, per kind, the count checks and every difference."""
    what = "the sample run" if sample_run_only else "the load"
    lines = [f"# Validation of {what}: {project}", "", f"Written {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC.", "",
             result.summary(), "", "| Kind | Compared | With a difference | Rate |", "|---|---:|---:|---:|"]
    lines += [f"| {kind} | {n} | {result.failed_records.get(kind, 0)} | {result.rate(kind):.1%} |"
              for kind, n in result.checked.items()]
    if result.unchecked:
        lines += ["", "## Written but not checked", ""] + [f"- {kind}" for kind in result.unchecked]
    if result.count_problems:
        lines += ["", "## Counts that do not agree", ""] + [f"- {p}" for p in result.count_problems]
    if result.mismatches:
        lines += ["", "## Differences", "", "| Kind | Record | Field | Source says | Intercom has |",
                  "|---|---|---|---|---|"]
        lines += [f"| {m.kind} | {m.object}:{m.key} | {m.field} | {_cell(m.expected)} | {_cell(m.actual)} |"
                  for m in result.mismatches[:1000]]
    prefix = "validation-sample" if sample_run_only else "validation"
    return write_text(reports_dir / f"{prefix}-{_stamp()}.md", "\n".join(lines) + "\n")


def write_rollback_report(reports_dir: Path, project: str, report: Any, *, sample_only: bool) -> Path:
    """rollback-<time>.md: what was removed, archived, left alone (changed in Intercom) or failed."""
    what = "the sample runs" if sample_only else "everything the project created"
    lines = [f"# Rollback of {what}: {project}", "", f"Written {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC.", "",
             report.summary(), "", "| Kind | Removed | Archived |", "|---|---:|---:|"]
    kinds = sorted({*report.removed, *report.archived})
    lines += [f"| {k} | {report.removed.get(k, 0)} | {report.archived.get(k, 0)} |" for k in kinds]
    if report.changed:
        lines += ["", "## Changed in Intercom after the import: left alone", "", "| Kind | Source key | Intercom id |",
                  "|---|---|---|"] + [f"| {k} | {key} | {ident} |" for k, key, ident in report.changed]
    if report.failed:
        lines += ["", "## Failed", "", "| Kind | Source key | Why |", "|---|---|---|"]
        lines += [f"| {k} | {key} | {_cell(why)} |" for k, key, why in report.failed]
    prefix = "rollback-sample" if sample_only else "rollback"
    return write_text(reports_dir / f"{prefix}-{_stamp()}.md", "\n".join(lines) + "\n")


def _cell(value: Any) -> str:
    text = " ".join(str(value).split())
    return (text[:117] + "…" if len(text) > 120 else text).replace("|", "/")
