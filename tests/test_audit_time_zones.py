"""Local (zone-less) source times: the audit blocks while their zone is only assumed and
names the zone and the columns; the operator settles it by setting the zone or accepting
this machine's (recorded by name); daylight-saving gaps and overlaps are read by one rule,
named by the audit and counted by the load."""

from __future__ import annotations

import csv
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors import local_time
from connectors.base import SourceError
from connectors.local_time import DST_GAP, DST_OVERLAP, SourceClock, wall_time_problem, zone_name
from connectors.registry import open_source
from connectors.samples import generate_smartertrack, generate_trackit
from helpmig_tui.audit import run_audit
from helpmig_tui.audit_store import findings
from helpmig_tui.cli import main
from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.project import open_project
from helpmig_tui.reports import scope_document
from helpmig_tui.settings import resolve_paths
from tests.support.findings import by_code

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
# (zone, local time, what the rule reads it as, the problem)
TRANSITIONS = [
    ("Europe/Berlin", datetime(2024, 3, 31, 2, 30), datetime(2024, 3, 31, 1, 30, tzinfo=UTC), DST_GAP),
    ("Europe/Berlin", datetime(2024, 10, 27, 2, 30), datetime(2024, 10, 27, 0, 30, tzinfo=UTC), DST_OVERLAP),
    ("America/New_York", datetime(2024, 3, 10, 2, 30), datetime(2024, 3, 10, 7, 30, tzinfo=UTC), DST_GAP),
    ("America/New_York", datetime(2024, 11, 3, 1, 30), datetime(2024, 11, 3, 5, 30, tzinfo=UTC), DST_OVERLAP),
]


def no_secret(_name: str) -> None:
    return None


@pytest.fixture
def machine_in_new_york(monkeypatch):
    """This machine's zone, as the OS would name it."""
    monkeypatch.setattr(local_time, "machine_zone_name", lambda: "America/New_York")


@pytest.mark.parametrize(("zone", "local", "read", "problem"), TRANSITIONS)
def test_gaps_and_overlaps_read_by_the_documented_rule(zone, local, read, problem):
    clock = SourceClock(zone)
    assert clock.to_utc(local) == read
    assert wall_time_problem(local, ZoneInfo(zone)) == problem
    code, line = clock.note(local)
    assert code == problem and f"{read:%H:%M} UTC" in line and zone in line
    # the hour either side is an ordinary time, and UTC has no such hours
    assert wall_time_problem(local.replace(hour=local.hour + 2), ZoneInfo(zone)) is None
    assert SourceClock("UTC").note(local) is None


def test_zone_names_windows_and_local(machine_in_new_york):
    assert zone_name("W. Europe Standard Time") == "Europe/Berlin"
    assert zone_name("eastern standard time") == "America/New_York"
    assert zone_name("local") == "America/New_York"
    assert zone_name("Asia/Kolkata") == "Asia/Kolkata"
    with pytest.raises(SourceError, match="unknown time zone"):
        zone_name("Mars/Olympus")
    clock = SourceClock(None)
    assert not clock.configured and clock.zone == NEW_YORK and "this machine" in clock.label


def _trackit(tmp_path: Path, **changes: str) -> tuple[dict, Path]:
    manifest = generate_trackit(tmp_path / "ti", tickets=40)
    if changes:
        with sqlite3.connect(manifest.database) as con:
            for statement in changes.values():
                con.execute(statement)
    return {k: v for k, v in manifest.options.items() if k != "timezone"}, Path(manifest.database)


def test_an_unset_zone_is_a_blocker_naming_the_zone_and_the_columns(tmp_path, machine_in_new_york):
    options, db = _trackit(tmp_path)
    with open_source("trackit", options, no_secret) as source:
        result = run_audit(source)
    [blocker] = by_code(result, "source.timezone_assumed")
    assert blocker.severity.value == "blocker"
    assert "America/New_York (this machine's zone)" in blocker.message
    columns = " ".join(blocker.keys)
    assert "tasks.REQDATE" in columns and "tasks.DUEDATE" in columns and "TaskNote.CreatedDate" in columns
    with sqlite3.connect(db) as con:
        filled = sum(con.execute(f"SELECT COUNT({c}) FROM tasks").fetchone()[0]
                     for c in ("REQDATE", "DUEDATE", "MODIDATE", "CLSDDATE"))
    assert blocker.count >= filled > 0
    assert "--timezone" in blocker.detail and "first occurrence" not in blocker.detail  # the rule, as worded
    assert "offset before the change" in blocker.detail and "first of the two" in blocker.detail
    scope = scope_document("p", result)
    [line] = [x for x in scope.splitlines() if x.startswith("- **source.timezone_assumed**")]
    assert "Columns: " in line and "tasks.REQDATE" in line and "Records:" not in line
    with open_source("trackit", {**options, "timezone": "Europe/Berlin"}, no_secret) as source:
        assert by_code(run_audit(source), "source.timezone_assumed") == []


def test_smartertrack_columns_not_named_utc_are_local(tmp_path, machine_in_new_york):
    manifest = generate_smartertrack(tmp_path / "st", tickets=40)
    with open_source("smartertrack", manifest.options, no_secret) as source:
        assert by_code(run_audit(source), "source.timezone_assumed") == []  # every date column is *Utc
    with sqlite3.connect(manifest.database) as con:
        con.execute("ALTER TABLE st_Tickets ADD COLUMN DateResolved DATETIME")
        con.execute("UPDATE st_Tickets SET DateResolved = '2024-03-10 02:30:00' WHERE TicketId = 2")
    with open_source("smartertrack", manifest.options, no_secret) as source:
        result = run_audit(source)
        [ticket] = source.get("tickets", ["2"])
    [blocker] = by_code(result, "source.timezone_assumed")
    assert "st_Tickets.DateResolved" in blocker.keys[0] and blocker.count == 1
    assert ticket.data["date_resolved"] == datetime(2024, 3, 10, 7, 30, tzinfo=UTC)  # the gap, in New York
    assert ticket.data["opened_at"].tzinfo is UTC  # *Utc columns stay UTC
    [gap] = by_code(result, DST_GAP)
    assert gap.object == "tickets" and gap.keys == ("2",) and gap.numbers[0]
    with open_source("smartertrack", {**manifest.options, "timezone": "UTC"}, no_secret) as source:
        result = run_audit(source)
        [ticket] = source.get("tickets", ["2"])
    assert by_code(result, "source.timezone_assumed") == [] and by_code(result, DST_GAP) == []
    assert ticket.data["date_resolved"] == datetime(2024, 3, 10, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_the_audit_names_the_records_in_gaps_and_overlaps(tmp_path, zone):
    (_, gap, gap_read, _), (_, overlap, overlap_read, _) = [t for t in TRANSITIONS if t[0] == zone]
    options, db = _trackit(
        tmp_path,
        ticket=f"UPDATE tasks SET REQDATE = '{gap:%Y-%m-%d %H:%M:%S}' WHERE WOID = 5",
        note=f"UPDATE TaskNote SET CreatedDate = '{overlap:%Y-%m-%d %H:%M:%S}' "
             "WHERE TaskNoteId = (SELECT MIN(TaskNoteId) FROM TaskNote WHERE WOID = 6)",
    )
    with sqlite3.connect(db) as con:
        note_key = str(con.execute("SELECT MIN(TaskNoteId) FROM TaskNote WHERE WOID = 6").fetchone()[0])
        number = str(con.execute("SELECT WO_NUM FROM tasks WHERE WOID = 5").fetchone()[0])
    with open_source("trackit", {**options, "timezone": zone}, no_secret) as source:
        result = run_audit(source)
        [ticket] = source.get("tickets", ["5"])
        [note] = source.get("notes", [note_key])
    # the sample's own times were written for Berlin: in another zone a few of them fall in its gaps too
    [gaps] = [f for f in by_code(result, DST_GAP) if f.object == "tickets"]
    [overlaps] = [f for f in by_code(result, DST_OVERLAP) if f.object == "notes"]
    assert "5" in gaps.keys and f"#{number} (5)" in gaps.shown_keys() and gaps.count == len(gaps.keys)
    assert note_key in overlaps.keys and overlaps.count == len(overlaps.keys)
    if zone == "Europe/Berlin":
        assert (gaps.keys, overlaps.keys) == (("5",), (note_key,))
    assert ticket.data["opened_at"] == gap_read and note.data["created_at"] == overlap_read
    assert [n.code for n in ticket.notes] == [DST_GAP] and ticket.notes[0].field == "opened_at"


def test_setting_or_accepting_the_zone_settles_the_blocker(tmp_path, capsys, machine_in_new_york):
    options, db = _trackit(tmp_path)
    home = str(tmp_path / "home")
    args = ["--home", home, "init", "p", "--source", "trackit", "--sqlite", str(db)]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["--home", home, "audit", "p"]) == 0
    out = capsys.readouterr().out  # the blocker, and how it is settled, on the operator's screen
    [line] = [n for n, x in enumerate(out.splitlines()) if x.startswith("  [blocker] no source time zone is set")]
    assert "America/New_York (this machine's zone)" in out.splitlines()[line]
    assert "--timezone" in out.splitlines()[line + 1] and "affected-records.csv" in out
    paths = resolve_paths(Path(home))
    with open_project(paths, "p") as store:
        assert "source.timezone_assumed" in [f.code for f in findings(store) if f.severity == "blocker"]
    assert main(["--home", home, "audit", "p", "--timezone", "W. Europe Standard Time"]) == 0
    with open_project(paths, "p") as store:
        assert store.project().source_options["timezone"] == "Europe/Berlin"
        assert not [f for f in findings(store) if f.code == "source.timezone_assumed"]
    assert main(["--home", home, "audit", "p", "--timezone", "local"]) == 0  # accept this machine's, by name
    with open_project(paths, "p") as store:
        assert store.project().source_options["timezone"] == "America/New_York"
        assert not [f for f in findings(store) if f.code == "source.timezone_assumed"]
    capsys.readouterr()
    assert main(["--home", home, "audit", "p", "--timezone", "Mars/Olympus"]) == 2
    assert "unknown time zone" in capsys.readouterr().err


async def test_the_load_counts_the_records_the_rule_changed(tmp_path):
    paths = resolve_paths(tmp_path / "home")
    demo = prepare_demo(paths, "trackit", 12)  # the sample's zone: Europe/Berlin
    db = next((tmp_path / "home").rglob("*.db"))
    with sqlite3.connect(db) as con:
        woids = [row[0] for row in con.execute(
            "SELECT WOID FROM tasks WHERE REQDATE LIKE '20__-%' AND REQDATE NOT LIKE '203%' ORDER BY WOID LIMIT 2")]
        con.execute(f"UPDATE tasks SET REQDATE = '2024-03-31 02:30:00' WHERE WOID = {woids[0]}")
        con.execute(f"UPDATE tasks SET REQDATE = '2024-10-27 02:30:00' WHERE WOID = {woids[1]}")
    async with demo.session() as session:
        result = await session.load(LoadOptions(accept_gates=True))
    assert result.status == "done"
    report = next(p for p in paths.reports_dir(demo.project).iterdir() if p.name.endswith("-conversations.md"))
    text = report.read_text(encoding="utf-8")
    assert "## Loaded with a change" in text
    for code in (DST_GAP, DST_OVERLAP):
        row = next(line for line in text.splitlines() if f"| {code} |" in line)
        assert int(row.split("|")[3]) == 1
    examples = text[text.index("## Loaded with a change"):]
    assert "2024-03-31 02:30 does not exist in Europe/Berlin" in examples and "(01:30 UTC)" in examples


def test_affected_records_are_written_in_full(tmp_path):
    options, _ = _trackit(tmp_path)
    with open_source("trackit", {**options, "timezone": "UTC"}, no_secret) as source:
        result = run_audit(source)
    from helpmig_tui.reports import write_audit_reports

    write_audit_reports(tmp_path / "reports", "p", result)
    with open(tmp_path / "reports" / "affected-records.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for finding in result.findings:
        listed = [r for r in rows if r["code"] == finding.code and r["object"] == (finding.object or "")]
        if finding.keys and finding.code != "source.timezone_assumed":  # its keys are columns
            assert len(listed) == finding.count, finding.code


def test_a_rest_tenant_s_default_zone_is_a_guess_and_a_blocker():
    """ITSM 365 sends every date without an offset: its default zone (Moscow) is a guess
    until the operator sets the tenant's, and the blocker names the attributes."""
    from connectors.samples.itsm365_fake import FakeItsm365

    fake = FakeItsm365(size=12)
    unset = {k: v for k, v in fake.options().items() if k != "time_zone"}
    with fake.source(options=unset) as source:
        result = run_audit(source)
        [ticket] = source.iter_records("incidents").__next__()[:1]
    [blocker] = by_code(result, "source.timezone_assumed")
    assert blocker.severity.value == "blocker" and "Europe/Moscow (ITSM 365's default" in blocker.message
    assert any(k.startswith("creationDate (incidents.created,") for k in blocker.keys)
    assert blocker.count == sum(int(k.rsplit(", ", 1)[1].split()[0].replace(",", "")) for k in blocker.keys)
    with fake.source(options={**unset, "time_zone": "Asia/Yekaterinburg"}) as source:
        result = run_audit(source)
        [same] = [r for r in source.iter_records("incidents").__next__() if r.key == ticket.key]
    assert by_code(result, "source.timezone_assumed") == []
    # the same wall-clock time, read two hours earlier in UTC in Yekaterinburg than in Moscow
    assert (ticket.data["created"] - same.data["created"]).total_seconds() == 2 * 3600


def test_an_export_job_without_a_zone_is_a_blocker_naming_its_date_columns(tmp_path):
    from connectors.samples.smart_export_sample import write_smart_export

    write_smart_export(tmp_path / "export", size=10, seed=1)
    with open_source("smart-export", {"folder": str(tmp_path / "export")}, no_secret) as source:
        result = run_audit(source)
    [blocker] = by_code(result, "source.timezone_assumed")
    assert "UTC (the export reader's default" in blocker.message
    assert any("(tickets.created_at," in k and ".csv: created_at" in k for k in blocker.keys)
    with open_source("smart-export", {"folder": str(tmp_path / "export"), "time_zone": "UTC"}, no_secret) as source:
        assert by_code(run_audit(source), "source.timezone_assumed") == []


def _set_cells(path: Path, updates: dict[str, dict[str, str]]) -> None:
    """Rewrite an export's CSV with some cells changed ({row id: {column: value}})."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    for row in rows[1:]:
        for column, value in updates.get(row[0], {}).items():
            row[header.index(column)] = value
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)


@pytest.mark.parametrize("written", ["2024-03-31 02:30:00", "31.03.2024 02:30", "2024-03-31T02:30:00"])
def test_an_export_names_its_times_in_gaps_and_overlaps(tmp_path, written):
    """SMART exports carry wall-clock times with no zone: those the DST rule settles are
    counted and named as the database sources' are, whatever format the cell is in."""
    from connectors.samples.smart_export_sample import write_smart_export

    folder = tmp_path / "export"
    write_smart_export(folder, size=10, seed=1, messy=False)
    _set_cells(folder / "tickets.csv", {"T-0003": {"created_at": written}})
    _set_cells(folder / "comments.csv", {"C-0002-1": {"created_at": "2024-10-27 02:30:00"}})
    with open_source("smart-export", {"folder": str(folder), "time_zone": "Europe/Berlin"}, no_secret) as source:
        result = run_audit(source)
        [ticket] = source.get("tickets", ["T-0003"])
        [comment] = source.get("comments", ["C-0002-1"])
        [other] = source.get("tickets", ["T-0004"])
    [gaps] = by_code(result, DST_GAP)
    [overlaps] = by_code(result, DST_OVERLAP)
    assert (gaps.object, gaps.keys, gaps.count) == ("tickets", ("T-0003",), 1)
    assert (overlaps.object, overlaps.keys, overlaps.count) == ("comments", ("C-0002-1",), 1)
    assert ticket.data["created_at"] == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)  # the rule: as if not moved yet
    assert comment.data["created_at"] == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)  # the first, daylight-saving one
    assert [(n.field, n.code) for n in ticket.notes] == [("created_at", DST_GAP)]
    assert "2024-03-31 02:30 does not exist in Europe/Berlin" in ticket.notes[0].message
    assert other.notes == () and "$notes" not in ticket.data
    with open_source("smart-export", {"folder": str(folder), "time_zone": "UTC"}, no_secret) as source:
        assert by_code(run_audit(source), DST_GAP) == []
