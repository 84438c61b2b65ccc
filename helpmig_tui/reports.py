"""Reports written to the project's reports folder: Markdown for people, CSV for Excel.

Everything written passes through `redact`, and CSV files carry a UTF-8 BOM so Excel on
Windows shows accented names correctly.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from connectors.base import Finding, ObjectRole
from connectors.registry import platform_label
from helpmig_tui import redact
from helpmig_tui.audit import TIME_ZONE_ASSUMED, AuditResult
from helpmig_tui.audit_records import HEADER as AFFECTED_HEADER

AFFECTED_RECORDS = "affected-records.csv"
SCOPE_NAMES = 20  # records named per class in the scope document (all are in AFFECTED_RECORDS)

ROLE_TARGET = {
    ObjectRole.CONVERSATION: "conversations",
    ObjectRole.PART: "conversation parts",
    ObjectRole.CONTACT: "contacts",
    ObjectRole.AGENT: "matched to admins",
    ObjectRole.COMPANY: "companies",
    ObjectRole.TEAM: "matched to teams",
    ObjectRole.KB_CATEGORY: "help-center collections",
    ObjectRole.ARTICLE: "help-center articles",
    ObjectRole.TAG: "tags",
    ObjectRole.LOOKUP: "used to resolve values",
    ObjectRole.RECORD: "operator's choice (custom object, conversation or CSV)",
    ObjectRole.INVENTORY: "rebuild inventory (not migrated as data)",
}


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redact.redact(text), encoding="utf-8")
    return path


class CsvReport:
    """A CSV report written a row at a time (each row masked on its way out), so its size
    never sits in memory; it takes the place of an earlier one only once complete:
    `done()`, or `discard()` for a write that stopped half-way."""

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        self.path = path
        self._part = path.with_name(path.name + ".part")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self._part.open("w", encoding="utf-8-sig", newline="")
        self._line = io.StringIO()
        self._writer = csv.writer(self._line, lineterminator="\r\n")
        self.row(header)

    def row(self, values: Sequence[object]) -> None:
        self._writer.writerow(["" if v is None else v for v in values])
        self._handle.write(redact.redact(self._line.getvalue()))
        self._line.seek(0)
        self._line.truncate()

    def done(self) -> Path:
        self._handle.close()
        os.replace(self._part, self.path)
        return self.path

    def discard(self) -> None:
        self._handle.close()
        self._part.unlink(missing_ok=True)

    def __enter__(self) -> CsvReport:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_exc: object) -> None:
        """Done when the block completes, discarded when it raised."""
        if kind is None:
            self.done()
        else:
            self.discard()


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    with CsvReport(path, header) as report:
        for row in rows:
            report.row(row)
    return path


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "—"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _names(f: Finding) -> str:
    """A finding's first records as the scope document names them (numbers first)."""
    shown = f.shown_keys()[:SCOPE_NAMES]
    return _cell(", ".join(shown)) + (" ..." if f.count > len(shown) else "")


def _named(f: Finding) -> str:
    """What a finding names, after its line: its records (skips have their own section),
    or the columns of the zone-less times."""
    if not f.keys or f.code.startswith("source.skipped_"):
        return ""
    if f.code == TIME_ZONE_ASSUMED:
        return f" Columns: {_cell('; '.join(f.keys))}."
    return f" Records: {_names(f)}"


def scope_document(project: str, result: AuditResult) -> str:
    """The scope document: modules with counts and date ranges, findings, checklist."""
    counts = result.severity_counts()
    lines = [
        f"# Migration scope: {project}",
        "",
        f"Source: {platform_label(result.platform)}. Audited {result.finished_at:%Y-%m-%d %H:%M} UTC.",
        f"Findings: {counts['blocker']} blockers, {counts['warning']} warnings, {counts['info']} notes.",
        "",
        "## Modules",
        "",
        "| Object | Records | First | Last | Lands in Intercom as |",
        "|---|---:|---|---|---|",
    ]
    for item in result.objects:
        prof = item.profile
        lines.append(
            f"| {_cell(item.spec.label or item.spec.name)} | {prof.count:,} | {_date(prof.first_created)} "
            f"| {_date(prof.last_created)} | {ROLE_TARGET[item.spec.role]} |"
        )
    inventory = [o for o in result.objects if o.spec.role is ObjectRole.INVENTORY and o.profile.count]
    if inventory:
        lines += ["", "## Rebuild inventory", "", "These do not migrate as data; the admin rebuilds them in Intercom:", ""]
        lines += [f"- {o.spec.label or o.spec.name}: {o.profile.count:,}" for o in inventory]
    for severity, title in (("blocker", "Blockers"), ("warning", "Warnings"), ("info", "Notes")):
        rows = [f for f in result.findings if f.severity.value == severity and not f.code.startswith("checklist.")]
        if rows:
            lines += ["", f"## {title}", ""]
            lines += [f"- **{f.code}**: {f.message}. {f.detail}".rstrip() + _named(f) for f in rows]
    checklist = [f for f in result.findings if f.code.startswith("checklist.")]
    if checklist:
        lines += ["", "## Pre-flight checklist", ""]
        lines += [f"- [ ] {f.message} ({f.severity.value}). {f.detail}" for f in checklist]
    skipped = [f for f in result.findings if f.code.startswith("source.skipped_")]
    if skipped:
        lines += ["", "## Not migrated: left out by the default read", ""]
        lines += [f"- {_cell(f.object or '')}: {f.count:,} ({f.code.removeprefix('source.skipped_').replace('_', ' ')})"
                  f": {_names(f)}" for f in skipped]
    lines += ["", "Findings: findings.csv in this folder; every record they name, with its number: "
              f"{AFFECTED_RECORDS}.", ""]
    return "\n".join(lines)


def write_audit_reports(reports_dir: Path, project: str, result: AuditResult) -> tuple[Path, Path]:
    """scope.md, findings.csv (one row per finding, its sampled records joined by ';', each
    as "#number (key)" where it has a number) and affected-records.csv (every record the
    findings name, one per row)."""
    scope = write_text(reports_dir / "scope.md", scope_document(project, result))
    findings = write_csv(
        reports_dir / "findings.csv",
        ("severity", "code", "object", "count", "message", "what to do", "affected records (sample)"),
        ((f.severity.value, f.code, f.object, f.count, f.message, f.detail, ";".join(f.shown_keys()))
         for f in result.findings),
    )
    if result.affected is not None:
        write_csv(reports_dir / AFFECTED_RECORDS, AFFECTED_HEADER, result.affected.rows())
    return scope, findings
