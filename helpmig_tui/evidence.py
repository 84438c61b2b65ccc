"""The evidence bundle (`helpmig report P --bundle FILE`): one zip an auditor reads offline.

It holds:
- `state.sqlite`: a copy of the project's state in which every text cell of every table
  went through `redact()` and the file was vacuumed (no freed page keeps an old value);
- `timeline.csv`: every run, phase, gate decision, map confirmation, finding decision and
  event, with its time, in order;
- `maps/`: each map version with its status, hash, who confirmed it and when, and every
  edit (`maps/changes.csv`);
- `reports/`: every report and findings file of the project, summary.md first rewritten;
- `logs/`: the log files that mention the project, every line masked;
- `manifest.json`: the project, when the bundle was made, each file's size and SHA-256.

Secrets cannot get in by construction (the state holds none, and everything copied is
masked on the way), and that is checked: before the zip is written, every member is
searched for each secret value this process knows and for anything credential-shaped;
a hit refuses the bundle, naming the member, never the value.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from helpmig_tui import __version__, redact
from helpmig_tui.pipeline.summary import write_summary
from helpmig_tui.settings import Paths
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import Event, FieldMap, FindingRow, MapChange, Phase, Run

TIMELINE = ("at", "run", "kind", "what", "detail")


class EvidenceError(Exception):
    """The bundle was not written; the message says why."""


@dataclass
class Evidence:
    path: Path
    members: list[str] = field(default_factory=list)


def write_evidence(store: ProjectStore, paths: Paths, project: str, out: Path,
                   secrets: Iterable[str] = ()) -> Evidence:
    """Write the bundle to `out` (whole or not at all)."""
    for value in secrets:
        redact.register(value)
    reports_dir = paths.reports_dir(project)
    write_summary(store, reports_dir)
    members: dict[str, bytes] = {"state.sqlite": _redacted_state(store.path),
                                 "timeline.csv": _csv(TIMELINE, timeline(store))}
    members.update(_maps(store))
    for file in sorted(p for p in reports_dir.rglob("*") if p.is_file()):
        members[f"reports/{file.relative_to(reports_dir).as_posix()}"] = _masked(file.read_bytes())
    for file in _project_logs(paths.logs, project):
        members[f"logs/{file.name}"] = _masked(file.read_bytes())
    leaks = [name for name, data in members.items() if _leaks(data)]
    if leaks:
        raise EvidenceError(f"not written: a secret or credential would be in {', '.join(leaks)}")
    manifest = _manifest(store, members)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".evidence-", suffix=".zip", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("manifest.json", manifest)
            for name, data in members.items():
                bundle.writestr(name, data)
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return Evidence(out, ["manifest.json", *members])


# -- the state ------------------------------------------------------------------------------

def _redacted_state(path: Path) -> bytes:
    """A copy of the SQLite file with every text cell masked, vacuumed."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "state.sqlite"
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)  # a URI for Windows paths too
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
            tables = [t for (t,) in target.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                   "AND name NOT LIKE 'sqlite_%'")]
            for table in tables:
                columns = [c[1] for c in target.execute(f'PRAGMA table_info("{table}")')]
                for column in columns:
                    rows = target.execute(f'SELECT rowid, "{column}" FROM "{table}" WHERE typeof("{column}") = '
                                          "'text'").fetchall()
                    changed = [(redact.redact(v), rowid) for rowid, v in rows if redact.redact(v) != v]
                    target.executemany(f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?', changed)
            target.commit()
            target.execute("VACUUM")
        finally:
            source.close()
            target.close()
        return copy.read_bytes()


def timeline(store: ProjectStore) -> list[tuple[str, str, str, str, str]]:
    """Every dated thing the project did or was told, oldest first."""
    rows: list[tuple[datetime, str, str, str, str]] = []
    with store.reader() as session:
        for run in session.scalars(select(Run)):
            options = json.dumps(run.options or {}, sort_keys=True)
            rows.append((run.started_at, str(run.id), "run started", run.kind, options))
            if run.ended_at:
                rows.append((run.ended_at, str(run.id), "run ended", f"{run.kind}: {run.status}",
                             json.dumps(run.summary or {}, sort_keys=True)[:2000]))
        for phase in session.scalars(select(Phase)):
            if phase.started_at:
                rows.append((phase.started_at, str(phase.run_id), "phase started", phase.name, ""))
            if phase.ended_at:
                kind = "gate decision" if phase.status in ("accepted", "failed") else "phase ended"
                rows.append((phase.ended_at, str(phase.run_id), kind, f"{phase.name}: {phase.status}",
                             phase.accepted_note or json.dumps(phase.counts or {}, sort_keys=True)))
        for version in session.scalars(select(FieldMap)):
            rows.append((version.created_at, "", "map version", f"v{version.version} by {version.proposer}",
                         version.note))
            if version.confirmed_at:
                rows.append((version.confirmed_at, "", "map confirmed", f"v{version.version}",
                             f"by {version.confirmed_by or 'unknown'}"))
        for change in session.scalars(select(MapChange)):
            rows.append((change.at, "", f"map {change.action}", f"v{change.version} {change.object}.{change.field}",
                         f"by {change.actor}"))
        for finding in session.scalars(select(FindingRow).where(FindingRow.status_at.is_not(None))):
            rows.append((finding.status_at, "", f"finding {finding.status}", finding.code,  # type: ignore[arg-type]
                         finding.status_note))
        for event in session.scalars(select(Event)):
            rows.append((event.at, str(event.run_id or ""), event.kind, event.level, event.message))
    rows.sort(key=lambda r: r[0])
    return [(at.astimezone(UTC).isoformat(timespec="seconds"), run, kind, what, redact.redact(detail or ""))
            for at, run, kind, what, detail in rows]


def _maps(store: ProjectStore) -> dict[str, bytes]:
    with store.reader() as session:
        versions = list(session.scalars(select(FieldMap).order_by(FieldMap.version)))
        changes = list(session.scalars(select(MapChange).order_by(MapChange.id)))
    out = {f"maps/map-v{v.version}.json": _masked(json.dumps(
        {"version": v.version, "status": v.status, "hash": v.hash, "proposer": v.proposer,
         "created_at": v.created_at.isoformat(), "confirmed_at": v.confirmed_at.isoformat() if v.confirmed_at else None,
         "confirmed_by": v.confirmed_by, "note": v.note, "map": v.body}, indent=2, ensure_ascii=False).encode())
        for v in versions}
    out["maps/changes.csv"] = _csv(("at", "version", "actor", "action", "object", "field", "before", "after"), [
        (c.at.isoformat(), c.version, c.actor, c.action, c.object, c.field, json.dumps(c.before), json.dumps(c.after))
        for c in changes])
    return out


# -- files and the check -----------------------------------------------------------------------

def _project_logs(folder: Path, project: str) -> list[Path]:
    """The log files that mention the project (one per process; others are other projects')."""
    if not folder.is_dir():
        return []
    needle = project.encode()
    return sorted(p for p in folder.glob("*.log*") if p.is_file() and needle in p.read_bytes())


def _masked(data: bytes) -> bytes:
    """A text file masked; a file that is not text copied as it is (the check still reads it)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return redact.redact(text).encode("utf-8")


def _csv(header: Iterable[str], rows: Iterable[Iterable[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return redact.redact(buffer.getvalue()).encode("utf-8-sig")


def _leaks(data: bytes) -> bool:
    """A known secret's bytes, or text that masking would still change."""
    if any(value.encode("utf-8") in data for value in redact.known()):
        return True
    text = data.decode("utf-8", errors="replace")
    return redact.redact(text) != text


def _manifest(store: ProjectStore, members: dict[str, bytes]) -> str:
    project = store.project()
    return json.dumps({
        "project": project.name, "platform": project.platform, "stage": project.stage,
        "helpmig": __version__, "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "secrets": "every member searched for the secrets this process knows and for credential-shaped text",
        "files": [{"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                  for name, data in members.items()],
    }, indent=2)
