"""Findings looked up by code: an audit's, and the rows a SMART export's findings account for."""

from __future__ import annotations

from helpmig_tui.audit import AuditResult
from connectors.base import Finding


def by_code(result: AuditResult, code: str) -> list[Finding]:
    return [f for f in result.findings if f.code == code]


SKIPPED_ROWS = ("smart.blank_row", "smart.header_row", "smart.summary_row")  # rows that are no record
REJECTED_ROWS = ("smart.duplicate_id", "smart.missing_id")


def rows_counted(source, name: str, codes: tuple[str, ...]) -> int:
    """The rows of an export file its findings account for, under these codes."""
    return sum(f.count for f in source.findings if f.object == name and f.code in codes)
