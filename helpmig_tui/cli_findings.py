"""`helpmig findings P`: the audit's findings, and settling them, headless.

The wizard's Audit step acknowledges and waives findings; this is its twin, so a load can
start from the command line (the pre-flight checklist items are blockers until settled).
`--acknowledge checklist` settles every checklist item at once, after the operator has
done what they say.
"""

from __future__ import annotations

import argparse
from typing import Any

from helpmig_tui.audit_store import decide, findings
from helpmig_tui.project import open_project
from helpmig_tui.settings import resolve_paths
from helpmig_tui.state.models import FindingRow


class FindingsUsage(Exception):
    """Bad input (an id that is not a finding, a waiver without a note): exit 2."""


def row_data(row: FindingRow) -> dict[str, Any]:
    return {"id": row.id, "code": row.code, "severity": row.severity, "object": row.object, "message": row.message,
            "count": row.count, "keys": list(row.keys or [])[:20], "status": row.status, "note": row.status_note,
            "decided_at": row.status_at}


def _ids(rows: list[FindingRow], wanted: list[str]) -> list[int]:
    known = {r.id: r for r in rows}
    if wanted == ["checklist"]:
        return [r.id for r in rows if r.code.startswith("checklist.")]
    out = []
    for raw in wanted:
        if not raw.isdigit() or int(raw) not in known:
            raise FindingsUsage(f"{raw!r} is not a finding of the latest audit: `helpmig findings P` lists their ids")
        out.append(int(raw))
    return out


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """What the command prints: (JSON data, text)."""
    with open_project(resolve_paths(args.home), args.project) as store:
        rows = findings(store)
        if not rows:
            raise FindingsUsage(f"no audit yet for {args.project}: run `helpmig audit {args.project}` first")
        changed: list[int] = []
        if args.acknowledge:
            changed = _ids(rows, args.acknowledge)
            for finding_id in changed:
                decide(store, finding_id, "acknowledged", args.note or "")
        elif args.waive:
            if not (args.note or "").strip():
                raise FindingsUsage("a waiver needs --note saying why the finding does not matter")
            changed = _ids(rows, [args.waive])
            decide(store, changed[0], "waived", args.note)
        elif args.reopen:
            changed = _ids(rows, args.reopen)
            for finding_id in changed:
                decide(store, finding_id, "open")
        elif args.note:
            raise FindingsUsage("--note goes with --waive or --acknowledge")
        rows = findings(store)
    shown = [r for r in rows if args.all or r.severity != "info" or r.id in changed]
    blockers = [r for r in rows if r.severity == "blocker" and r.status == "open"]
    lines = [f"{'#':>4}  {'severity':<8} {'status':<12} finding"]
    for r in shown:
        where = f" [{r.object}]" if r.object else ""
        count = f" ({r.count})" if r.count and r.count > 1 else ""
        lines.append(f"{r.id:>4}  {r.severity:<8} {r.status:<12} {r.code}{where}: {r.message}{count}")
        if r.status_note:
            lines.append(f"{'':>4}  {'':<8} {'':<12} note: {r.status_note}")
    if changed:
        lines.append(f"Settled {len(changed)} finding(s).")
    if blockers:
        lines.append(f"{len(blockers)} blocker(s) still open: the load waits for them. Settle one with "
                     f"`helpmig findings {args.project} --acknowledge ID` or `--waive ID --note TEXT`.")
    else:
        lines.append("No open blockers: the load may start.")
    if not args.all:
        hidden = sum(1 for r in rows if r.severity == "info" and r.id not in changed)
        if hidden:
            lines.append(f"{hidden} notes not shown (--all lists them).")
    data = {"findings": [row_data(r) for r in rows], "open_blockers": len(blockers), "settled": changed}
    return data, "\n".join(lines)
