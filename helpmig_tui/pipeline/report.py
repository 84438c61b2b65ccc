"""The reconciliation report that closes each phase: per object, in = created + updated +
skipped + rejected + failed + in doubt + queued, with every reason counted and the
affected records listed in a CSV."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from helpmig_tui.pipeline.context import LoadContext, ObjectProgress
from helpmig_tui.reports import write_csv, write_text

COLUMNS = ("read", "created", "updated", "skipped", "rejected", "failed", "in_doubt", "queued")
REASON_STATUSES = ("rejected", "skipped", "failed", "pending", "in_flight")
_KEYS = re.compile(r"\((?:[^()]*\d[^()]*)\)")  # "(123)", "(tickets:9)": one reason, many records


@dataclass
class PhaseReport:
    run_id: int
    phase: str
    objects: list[ObjectProgress]
    reasons: list[tuple[str, str, str, int]] = field(default_factory=list)  # (kind, status, reason, count)
    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # kind, object, key, status, reason
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def clean(self) -> bool:
        return all(o.clean for o in self.objects)

    def totals(self) -> dict[str, int]:
        out = {c: sum(getattr(o, c) for o in self.objects) for c in COLUMNS}
        out["unexplained"] = sum(o.unexplained for o in self.objects)
        out["earlier"] = sum(o.earlier for o in self.objects)
        return out

    def summary(self) -> str:
        t = self.totals()
        parts = [f"{t['read']} in", f"{t['created']} created", f"{t['updated']} updated/matched"]
        parts += [f"{t[k]} {k.replace('_', ' ')}" for k in ("skipped", "rejected", "failed", "in_doubt", "queued") if t[k]]
        if t["unexplained"]:
            parts.append(f"{t['unexplained']} UNEXPLAINED")
        return ", ".join(parts)


def build_report(ctx: LoadContext, phase: str) -> PhaseReport:
    from helpmig_tui.pipeline.loader import PHASE_KINDS

    report = PhaseReport(ctx.runlog.run_id, phase, [p for p in ctx.progress.values() if p.phase == phase])
    entries = ctx.journal.reasons(PHASE_KINDS[phase], REASON_STATUSES, limit=100_000)
    grouped: Counter[tuple[str, str, str]] = Counter()
    for entry in entries:
        reason = entry.last_error or ("written, outcome not confirmed" if entry.status == "in_flight" else "")
        grouped[(entry.kind, entry.status, _KEYS.sub("(…)", reason)[:160])] += 1
        report.rows.append((entry.kind, entry.object or "", entry.source_key, entry.status, reason))
    report.reasons = [(k, s, r, n) for (k, s, r), n in grouped.most_common()]
    return report


def markdown(ctx: LoadContext, report: PhaseReport) -> str:
    verdict = "clean: the next phase may start" if report.clean else "NOT CLEAN: the next phase waits"
    lines = [
        f"# Phase {report.phase} (run {report.run_id}) — {verdict}",
        "",
        f"Project {ctx.project}, finished {report.finished_at:%Y-%m-%d %H:%M:%S} UTC.",
        "",
        "| Object | In | Created | Updated/matched | Skipped | Rejected | Failed | In doubt | Queued | Unexplained |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for o in report.objects:
        lines.append(
            f"| {o.object} | {o.read} | {o.created} | {o.updated} | {o.skipped} | {o.rejected} | {o.failed} "
            f"| {o.in_doubt} | {o.queued} | {o.unexplained} |"
        )
    earlier = sum(o.earlier for o in report.objects)
    if earlier:
        lines += ["", f"{earlier} of the created or updated records were written by an earlier run (resumed)."]
    if report.reasons:
        lines += ["", "## Reasons", "", "| What | Status | Reason | Records |", "|---|---|---|---:|"]
        lines += [f"| {k} | {s} | {r.replace('|', '/')} | {n} |" for k, s, r, n in report.reasons[:200]]
        lines += ["", "Every record with a reason is listed in the CSV beside this report."]
    return "\n".join(lines) + "\n"


def write_report(ctx: LoadContext, report: PhaseReport) -> Path:
    position = ctx.runlog.phase(report.phase).position + 1
    stem = f"run-{report.run_id}-{position}-{report.phase}"
    path = write_text(ctx.reports_dir / f"{stem}.md", markdown(ctx, report))
    if report.rows:
        write_csv(ctx.reports_dir / f"{stem}-records.csv", ("kind", "object", "key", "status", "reason"), report.rows)
    return path
