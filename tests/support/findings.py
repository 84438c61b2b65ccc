"""The audit's findings of one code: what most audit tests look for."""

from __future__ import annotations

from helpmig_tui.audit import AuditResult
from connectors.base import Finding


def by_code(result: AuditResult, code: str) -> list[Finding]:
    return [f for f in result.findings if f.code == code]
