"""The project's summary report: where every record went, and what to rebuild by hand."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from helpmig_tui.rebuild_inventory import inventory_markdown
from helpmig_tui.reports import write_text
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import JournalEntry, Phase, Run

RECORD_KINDS = ("company", "contact", "conversation", "part", "article", "custom_object", "collection", "csv_row",
                "admin", "team")


def write_summary(store: ProjectStore, reports_dir: Path) -> tuple[Path, list[Path]]:
    project = store.project()
    with store.reader() as session:
        runs = list(session.scalars(select(Run).order_by(Run.id)))
        rows = session.execute(
            select(JournalEntry.object, JournalEntry.status, func.count())
            .where(JournalEntry.kind.in_(RECORD_KINDS))
            .group_by(JournalEntry.object, JournalEntry.status)
        ).all()
        reasons = session.execute(
            select(JournalEntry.kind, JournalEntry.status, JournalEntry.last_error, func.count())
            .where(JournalEntry.status.in_(("rejected", "skipped", "failed", "pending", "in_flight")))
            .group_by(JournalEntry.kind, JournalEntry.status, JournalEntry.last_error)
            .order_by(func.count().desc())
            .limit(30)
        ).all()
        gates = list(session.scalars(select(Phase).where(Phase.status.in_(("failed", "accepted")))))
    by_object: dict[str, dict[str, int]] = {}
    for obj, status, n in rows:
        by_object.setdefault(obj or "(on demand)", {})[status] = n
    statuses = ("done", "skipped", "rejected", "failed", "pending", "in_flight", "rolled_back")
    lines = [f"# Migration summary: {project.name}", "", f"Stage: {project.stage}.", "", "## Runs", "",
             "| Run | Kind | Status | Started | Ended |", "|---:|---|---|---|---|"]
    lines += [f"| {r.id} | {r.kind} | {r.status} | {r.started_at:%Y-%m-%d %H:%M} | "
              f"{r.ended_at.strftime('%Y-%m-%d %H:%M') if r.ended_at else '—'} |" for r in runs]
    lines += ["", "## Where every record is", "", "| Object | " + " | ".join(statuses) + " |",
              "|---|" + "---:|" * len(statuses)]
    lines += [f"| {obj} | " + " | ".join(str(counts.get(s, 0)) for s in statuses) + " |"
              for obj, counts in sorted(by_object.items())]
    if gates:
        lines += ["", "## Phases that did not close clean", ""]
        lines += [f"- run {g.run_id}, {g.name}: {g.status} {g.accepted_note}".rstrip() for g in gates]
    if reasons:
        lines += ["", "## Most common reasons", "", "| What | Status | Reason | Records |", "|---|---|---|---:|"]
        lines += [f"| {k} | {s} | {(r or '').replace('|', '/')[:150]} | {n} |" for k, s, r, n in reasons]
    lines += [""] + inventory_markdown(store)
    files = sorted(p for p in reports_dir.rglob("*") if p.is_file() and p.name != "summary.md")
    lines += ["", "## Reports in this folder", ""] + [f"- {p.relative_to(reports_dir).as_posix()}" for p in files]
    return write_text(reports_dir / "summary.md", "\n".join(lines) + "\n"), files
