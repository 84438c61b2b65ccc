"""The reconciliation report that closes each phase, and its verdict.

Per object: in = created + updated/matched + skipped + rejected + failed + in doubt +
queued, every reason counted with its code and the affected records listed (by the number
people know them by, the internal key beside it) in a CSV. "Skipped" counts what the
source holds and the scope leaves out (deleted, spam, drafts, ...), read from the source.

The verdict: a phase is clean only when nothing failed, nothing is in doubt or queued,
every record is accounted for, and every rejection is explained by a class of record the
audit predicted (its finding code), with rejections at most the operator's share of the
phase's records (2% by default) and never every record of an object. Anything else stops
at the gate, with the reasons ranked by count.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helpmig_tui.pipeline.context import LoadContext, ObjectProgress
from helpmig_tui.reports import write_csv, write_text

COLUMNS = ("read", "created", "updated", "unchanged", "skipped", "rejected", "failed", "in_doubt", "queued",
           "state_changes")
REASON_STATUSES = ("rejected", "skipped", "failed", "pending", "in_flight")
DEFAULT_MAX_REJECTED = 0.02  # share of a phase's records that predicted rejections may reach
_KEYS = re.compile(r"\((?:[^()]*\d[^()]*)\)")  # "(123)", "(tickets:9)": one reason, many records
SAMPLE = 5


@dataclass
class Reason:
    kind: str
    status: str
    code: str
    reason: str
    count: int
    explained: bool | None = None  # for rejections: did the audit predict this class?
    examples: list[str] = field(default_factory=list)  # the records, as people know them


@dataclass
class PhaseReport:
    run_id: int
    phase: str
    objects: list[ObjectProgress]
    reasons: list[Reason] = field(default_factory=list)
    rows: list[tuple[str, str, str, str, str, str, str]] = field(default_factory=list)
    # kind, object, key, number, status, code, reason
    problems: list[str] = field(default_factory=list)  # why the phase is not clean, most records first
    # what mapping changed on records that loaded: (object, flag code, records, examples)
    noted: list[tuple[str, str, int, list[str]]] = field(default_factory=list)
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def clean(self) -> bool:
        return not self.problems

    def totals(self) -> dict[str, int]:
        out = {c: sum(getattr(o, c) for o in self.objects) for c in COLUMNS}
        out["unexplained"] = sum(o.unexplained for o in self.objects)
        out["earlier"] = sum(o.earlier for o in self.objects)
        return out

    def summary(self) -> str:
        t = self.totals()
        parts = [f"{t['read']} in", f"{t['created']} created", f"{t['updated']} updated/matched"]
        parts += [f"{t[k]} {k.replace('_', ' ')}" for k in ("unchanged", "skipped", "rejected", "failed", "in_doubt",
                                                            "queued", "state_changes") if t[k]]
        if t["unexplained"]:
            parts.append(f"{t['unexplained']} UNEXPLAINED")
        return ", ".join(parts)


def kept(report: PhaseReport, inputs: str) -> dict[str, Any]:
    """The report as the phase row keeps it, with what the phase depended on (`inputs`): a
    resume of the run takes it instead of running the finished phase again. The records'
    rows stay in the CSV written beside the report."""
    return {"inputs": inputs, "objects": [asdict(o) for o in report.objects],
            "reasons": [asdict(r) for r in report.reasons], "noted": [list(n) for n in report.noted], "finished_at": report.finished_at.isoformat()}


def from_kept(ctx: LoadContext, phase: str, data: dict[str, Any]) -> PhaseReport:
    """A kept report, judged by this run's rules (`judged`)."""
    return judged(ctx, PhaseReport(ctx.runlog.run_id, phase, [ObjectProgress(**o) for o in data["objects"]],
                                   [Reason(**r) for r in data["reasons"]],
                                   noted=[(obj, code, n, list(examples)) for obj, code, n, examples in data["noted"]],
                                   finished_at=datetime.fromisoformat(data["finished_at"])))


def label(key: str, number: str | None) -> str:
    """A record as people know it: its number, with the internal key beside it."""
    return f"#{number} ({key})" if number else key


def verdict(objects: Iterable[ObjectProgress], reasons: list[Reason], max_rejected: float,
            sample: bool = False) -> list[str]:
    """Why the phase is not clean (empty when it is), most records first. A sample run's few
    records say nothing about shares: there, foreseen rejections are never a problem."""
    objects = list(objects)
    problems: list[tuple[int, str]] = []
    for o in objects:
        for column, words in (("failed", "failed"), ("in_doubt", "in doubt (outcome unknown)"),
                              ("queued", "waiting for the operator"), ("unexplained", "not accounted for")):
            n = getattr(o, column)
            if n:
                problems.append((n, f"{o.object}: {n} {words}"))
        loadable = o.read - o.skipped
        if o.rejected and o.rejected == loadable and not sample:
            problems.append((o.rejected, f"{o.object}: every record was rejected ({o.rejected})"))
    for r in reasons:
        if r.status == "rejected" and r.explained is False:
            problems.append((r.count, f"{r.count} {r.kind} rejected for a reason the audit did not predict "
                                      f"[{r.code}]: {r.reason}"))
    records = sum(o.read - o.skipped for o in objects)
    rejected = sum(o.rejected for o in objects)
    if records and rejected > max_rejected * records and not sample:
        problems.append((rejected, f"{rejected} of {records} records rejected ({rejected / records:.1%}), over the "
                                   f"{max_rejected:.0%} the operator allows"))
    return [text for _, text in sorted(problems, key=lambda p: -p[0])]


def build_report(ctx: LoadContext, phase: str) -> PhaseReport:
    from helpmig_tui.pipeline.loader import PHASE_KINDS

    report = PhaseReport(ctx.runlog.run_id, phase, [p for p in ctx.progress.values() if p.phase == phase])
    entries = ctx.journal.reasons(PHASE_KINDS[phase], REASON_STATUSES, limit=100_000)
    entries += ctx.journal.reasons(("skip",), ("skipped",), limit=1_000_000, run_id=ctx.runlog.run_id, phase=phase)
    grouped: Counter[tuple[str, str, str, str]] = Counter()
    examples: dict[tuple[str, str, str, str], list[str]] = {}
    for entry in entries:
        reason = entry.last_error or ("written, outcome not confirmed" if entry.status == "in_flight" else "")
        code = entry.code or ("intercom.in_doubt" if entry.status == "in_flight" else "")
        kind = entry.object if entry.kind == "skip" else entry.kind
        group = (kind or entry.kind, entry.status, code, _KEYS.sub("(…)", reason)[:160])
        grouped[group] += 1
        shown = label(entry.source_key.split(":", 1)[-1], entry.label)
        if len(examples.setdefault(group, [])) < SAMPLE:
            examples[group].append(shown)
        report.rows.append((entry.kind, entry.object or "", entry.source_key, entry.label or "", entry.status, code,
                            reason))
    report.reasons = [Reason(k, s, c, r, n, examples=examples[(k, s, c, r)]) for (k, s, c, r), n in grouped.most_common()]
    report.noted = sorted(((obj, code, n, ctx.noted_examples.get((p, obj, code), []))
                           for (p, obj, code), n in ctx.noted.items() if p == phase), key=lambda row: -row[2])
    return judged(ctx, report)


def judged(ctx: LoadContext, report: PhaseReport) -> PhaseReport:
    """The report's verdict by this run's rules: the audit's predicted rejections, the
    operator's threshold, a sample run or not (a kept report is judged again by them)."""
    for r in report.reasons:
        r.explained = (r.code in ctx.predicted) if r.status == "rejected" else None
    report.problems = verdict(report.objects, report.reasons, ctx.max_rejected, ctx.options.sample is not None)
    return report


def markdown(ctx: LoadContext, report: PhaseReport) -> str:
    verdict_line = "clean: the next phase may start" if report.clean else "NOT CLEAN: the next phase waits"
    lines = [
        f"# Phase {report.phase} (run {report.run_id}) — {verdict_line}",
        "",
        f"Project {ctx.project}, finished {report.finished_at:%Y-%m-%d %H:%M:%S} UTC.",
        "",
        "In = created + updated/matched + unchanged + skipped + rejected + failed + in doubt + queued"
        + (" (a delta: unchanged is what an earlier run wrote and the source did not change; state changes "
           "are reopened, closed, re-assigned or re-tagged conversations)." if ctx.options.delta else "."),
        "",
        "| Object | In | Created | Updated/matched | Unchanged | Skipped | Rejected | Failed | In doubt | Queued "
        "| Unexplained | State changes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for o in report.objects:
        lines.append(
            f"| {o.object} | {o.read} | {o.created} | {o.updated} | {o.unchanged} | {o.skipped} | {o.rejected} "
            f"| {o.failed} | {o.in_doubt} | {o.queued} | {o.unexplained} | {o.state_changes} |"
        )
    earlier = sum(o.earlier for o in report.objects)
    if earlier:
        lines += ["", f"{earlier} of the created or updated records were written by an earlier run (resumed)."]
    if report.problems:
        lines += ["", "## Why the phase is not clean", ""] + [f"- {p}" for p in report.problems]
    if report.reasons:
        lines += ["", "## Reasons", "", "| What | Status | Code | Predicted by the audit | Reason | Records | e.g. |",
                  "|---|---|---|---|---|---:|---|"]
        for r in report.reasons[:200]:
            predicted = "" if r.explained is None else ("yes" if r.explained else "**no**")
            lines.append(f"| {r.kind} | {r.status} | {r.code} | {predicted} | {r.reason.replace('|', '/')} | {r.count} "
                         f"| {', '.join(r.examples)} |")
        lines += ["", "Every record with a reason is listed in the CSV beside this report."]
    if report.noted:
        lines += ["", "## Loaded with a change", "",
                  "What the map did to records that loaded: a value cut to fit, a fallback source used, a date filled, "
                  "a local time read by the daylight-saving rule.",
                  "", "| Object | What | Records | e.g. |", "|---|---|---:|---|"]
        for obj, code, n, examples in report.noted:
            lines.append(f"| {obj} | {code} | {n} | {'; '.join(examples).replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def write_report(ctx: LoadContext, report: PhaseReport) -> Path:
    position = ctx.runlog.phase(report.phase).position + 1
    stem = f"run-{report.run_id}-{position}-{report.phase}"
    path = write_text(ctx.reports_dir / f"{stem}.md", markdown(ctx, report))
    if report.rows:
        write_csv(ctx.reports_dir / f"{stem}-records.csv", ("kind", "object", "key", "number", "status", "code",
                                                             "reason"), report.rows)
    return path
