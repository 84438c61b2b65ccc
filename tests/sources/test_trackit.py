"""Track-It! on a generated database: local times, discovered notes, requesters, folders, gaps."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors.base import FieldType, ObjectRole, SourceError
from connectors.trackit import TrackItSource
from tests.sources.helpers import copy_sample, no_secret, records

ROLES = {
    "tickets": ObjectRole.CONVERSATION,
    "notes": ObjectRole.PART,
    "requesters": ObjectRole.CONTACT,
    "companies": ObjectRole.COMPANY,
    "technicians": ObjectRole.AGENT,
    "statuses": ObjectRole.LOOKUP,
    "priorities": ObjectRole.LOOKUP,
    "hd_users": ObjectRole.AGENT,
    "hd_groups": ObjectRole.TEAM,
    "kb_articles": ObjectRole.ARTICLE,
    "assets": ObjectRole.RECORD,
}


def raw(path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


def test_counts_and_roles_equal_the_ground_truth(ti, ti_manifest):
    schema = ti.describe()
    assert {spec.name: spec.count for spec in schema.objects} == ti_manifest.counts
    assert {spec.name: spec.role for spec in schema.objects} == ROLES
    for name, count in ti_manifest.counts.items():
        keys = [r.key for r in records(ti, name, batch_size=7)]
        assert len(keys) == len(set(keys)) == count, name


def test_local_times_become_utc_in_the_configured_zone(ti, ti_manifest):
    zone = ZoneInfo(ti_manifest.options["timezone"])
    stored = {str(woid): value for woid, value in raw(ti_manifest.database, "SELECT WOID, REQDATE FROM tasks")}
    tickets = records(ti, "tickets")
    for ticket in tickets:
        value = stored[ticket.key]
        expected = None if value is None else datetime.fromisoformat(value).replace(tzinfo=zone).astimezone(UTC)
        assert ticket.data["opened_at"] == expected, ticket.key
    summer = next(t for t in tickets if t.data["opened_at"] and t.data["opened_at"].month == 7)
    local = datetime.fromisoformat(stored[summer.key])
    assert summer.data["opened_at"].hour == (local.hour - 2) % 24  # CEST is UTC+2
    with TrackItSource.from_options({**ti_manifest.options, "timezone": "America/New_York"}, no_secret) as other:
        moved = {r.key: r.data["opened_at"] for r in records(other, "tickets")}
        assert moved[summer.key] - summer.data["opened_at"] == (
            datetime(2000, 7, 1, tzinfo=ZoneInfo("America/New_York")).utcoffset() * -1
            + datetime(2000, 7, 1, tzinfo=zone).utcoffset()
        )
    notes = records(ti, "notes")
    assert all(n.data["created_at"] is None or n.data["created_at"].tzinfo is UTC for n in notes)


def test_without_a_zone_the_machines_local_time_is_used_and_said(ti_manifest):
    options = {key: value for key, value in ti_manifest.options.items() if key != "timezone"}
    with TrackItSource.from_options(options, no_secret) as source:
        use = source.time_zone()
        assert not use.configured and "this machine" in use.zone
        assert {"tasks.REQDATE", "tasks.DUEDATE", "tasks.MODIDATE", "TaskNote.CreatedDate"} <= set(use.columns)
        stored = dict(raw(ti_manifest.database, "SELECT WOID, MODIDATE FROM tasks WHERE WOID = 3"))
        [ticket] = source.get("tickets", ["3"])
        assert ticket.data["updated_at"] == datetime.fromisoformat(stored[3]).astimezone(UTC)
        assert ticket.updated_at == ticket.data["updated_at"]
    with pytest.raises(SourceError, match="unknown time zone"):
        TrackItSource.from_options({**options, "timezone": "Mars/Olympus"}, no_secret)


def test_changes_since_are_read_by_modification_date(ti):
    every = records(ti, "tickets")
    since = sorted(t.data["updated_at"] for t in every)[len(every) // 2]
    changed = records(ti, "tickets", since=since)
    assert {t.key for t in changed} == {t.key for t in every if t.data["updated_at"] >= since}
    assert ti.capabilities & ti.capabilities.DELTA_UPDATED_AT


def test_work_orders_carry_requester_status_and_priority_names(ti, ti_manifest):
    view = {
        str(woid): (email, name, status)
        for woid, email, name, status in raw(
            ti_manifest.database, "SELECT woid, request_email, request_fullname, WorkOrderStatusName FROM vTASKS_BROWSE"
        )
    }
    for ticket in records(ti, "tickets"):
        email, name, status = view[ticket.key]
        assert (ticket.data["requester_email"], ticket.data["requester_name"], ticket.data["status"]) == (
            email,
            name,
            status,
        )
        if email:
            assert ticket.data["requester_id"] == email.strip().lower()
    spec = ti.describe().object("tickets")
    assert spec.field("priority").type is FieldType.OPTIONS and spec.field("requester_id").references == "requesters"
    assert {"wo_text1", "wo_text2", "hours", "lookup2"} <= set(spec.field_names)  # columns exposed as they are
    priorities = {r.key for r in records(ti, "priorities")}
    assert priorities == {"Routine", "High", "Urgent", "Critical"}
    assert {r.data["name"] for r in records(ti, "statuses")} == {"Open", "Escalated", "Paused", "Closed", "Cancelled"}


def test_requesters_are_one_per_email_case_insensitively(ti, ti_manifest):
    requesters = {r.key: r for r in records(ti, "requesters")}
    for case in ("contact_no_email", "contact_invalid_email", "requester_case_merged"):
        assert set(ti_manifest.keys(case, "requesters")) <= set(requesters), case
    merged = requesters[ti_manifest.keys("requester_case_merged", "requesters")[0]]
    assert merged.data["tickets"] >= 2
    nameless = [requesters[key] for key in ti_manifest.keys("contact_no_email", "requesters")]
    assert all(not r.data["email"] for r in nameless)
    assert ti.orphan_keys("tickets", "requester_id", "requesters") == (
        2,
        tuple(ti_manifest.keys("orphan_ticket", "tickets")),
    )


def test_notes_are_discovered_and_come_in_time_order(ti, ti_manifest):
    spec = ti.describe().object("notes")
    assert spec.parent == "tickets" and {"body", "created_at", "author", "is_private", "note_type"} <= set(
        spec.field_names
    )
    huge = ti_manifest.keys("over_500_parts", "tickets")[0]
    thread = ti.children("notes", [huge, "1", "2"])
    assert len(thread[huge]) == 505
    for parts in thread.values():
        times = [n.data["created_at"] for n in parts]
        assert times == sorted(times, key=lambda t: (t is not None, t))
    [large] = ti.get("notes", ti_manifest.keys("large_body", "notes"))
    assert len(large.data["body"]) > 60_000
    assert ti.orphan_keys("notes", "parent", "tickets") == (2, tuple(ti_manifest.keys("orphan_note", "notes")))
    assert ti.childless_keys("tickets", "notes") == (2, tuple(ti_manifest.keys("ticket_without_messages", "tickets")))


def test_task_note_columns_under_other_names_are_still_found(ti_manifest, tmp_path):
    path = copy_sample(ti_manifest, tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE TaskNote RENAME COLUMN FullText TO NoteText")
        conn.execute("ALTER TABLE TaskNote RENAME COLUMN CreatedDate TO NoteDate")
        conn.execute("ALTER TABLE TaskNote RENAME COLUMN CreatedBy TO EnteredBy")
    with TrackItSource.from_options({**ti_manifest.options, "sqlite": str(path)}, no_secret) as source:
        notes = records(source, "notes")
        assert len(notes) == ti_manifest.counts["notes"]
        assert all(n.data["author"] for n in notes) and sum(bool(n.data["body"]) for n in notes) == len(notes)
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE TaskNote RENAME COLUMN NoteText TO Blurb")
        conn.execute("ALTER TABLE TaskNote RENAME COLUMN EnteredBy TO Scribe")
    with TrackItSource.from_options({**ti_manifest.options, "sqlite": str(path)}, no_secret) as source:
        notes = records(source, "notes")
        assert all(n.data["body"] is None and n.data["blurb"] is not None for n in notes)
        assert all("scribe" in n.data for n in notes)
        messages = {f.message for f in source.findings if f.object == "notes"}
        assert any("text column" in m for m in messages) and any("author column" in m for m in messages)


def test_optional_tables_are_read_as_they_are_or_reported_absent(ti, ti_manifest):
    schema = ti.describe()
    users = schema.object("hd_users")
    assert users.optional and "password" not in users.field_names and "email" in users.field_names
    assert users.field("lastlogin").type is FieldType.DATETIME
    absent = {f.object for f in ti.findings if f.code == "source.optional_table_absent"}
    assert absent == {"config_items", "change_requests"}
    [(email, count, keys)] = ti.duplicate_values("hd_users", "email")
    assert count == 2 and keys == tuple(ti_manifest.keys("duplicate_email_case", "hd_users")) and email == email.lower()
    stored = dict(raw(ti_manifest.database, "SELECT UserId, LastLogin FROM HDUsers WHERE UserId = 1"))
    [first] = ti.get("hd_users", ["1"])
    zone = ZoneInfo(ti_manifest.options["timezone"])
    assert first.data["lastlogin"] == datetime.fromisoformat(stored[1]).replace(tzinfo=zone).astimezone(UTC)


def test_without_the_view_work_orders_still_read(ti_manifest, tmp_path):
    path = copy_sample(ti_manifest, tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP VIEW vTASKS_BROWSE")
    with TrackItSource.from_options({**ti_manifest.options, "sqlite": str(path)}, no_secret) as source:
        names = {spec.name for spec in source.describe().objects}
        assert "requesters" not in names and source.describe().object("tickets").count == ti_manifest.counts["tickets"]
        tickets = records(source, "tickets")
        assert all(t.data["requester_email"] is None and t.data["requester"] for t in tickets)
        codes = {(f.code, f.object) for f in source.findings}
        assert {("source.table_missing", "tickets"), ("source.object_unavailable", "requesters")} <= codes


def test_attachments_sit_in_one_folder_per_work_order(ti, ti_manifest):
    refs = list(ti.iter_attachments("tickets"))
    assert len(refs) == ti_manifest.attachment_counts["tickets"]
    assert all(ref.exists for ref in refs)
    by_key = {f"{ref.record_key}/{ref.name}": ref for ref in refs}
    assert all(by_key[key].size == 0 for key in ti_manifest.keys("zero_byte_attachment", "tickets"))
    assert set(ti_manifest.keys("restricted_attachment", "tickets")) <= set(by_key)
    crowded = ti_manifest.keys("over_10_attachments", "tickets")[0]
    assert sum(ref.record_key == crowded for ref in refs) == 12
    padded = ti_manifest.keys("zero_padded_folder", "tickets")[0]
    [ticket] = ti.get("tickets", [padded])
    assert [ref.name for ref in ti.attachments("tickets", ticket)] == ["screenshot.png"]
    assert any(ref.name == "notes.txt" and "sub" in ref.location for ref in refs)  # nested inside the folder
    [stray] = [f for f in ti.findings if f.code == "attachments.orphan_folder"]
    assert stray.keys == tuple(ti_manifest.keys("orphan_attachment_folder", "tickets"))
    assert ti.attachments("notes", ticket) == []


def test_a_windows_style_root_is_accepted(ti_manifest):
    windows = str(Path(ti_manifest.attachments)).replace("/", "\\")
    with TrackItSource.from_options({**ti_manifest.options, "attachments": windows}, no_secret) as source:
        assert len(list(source.iter_attachments("tickets"))) == ti_manifest.attachment_counts["tickets"]


def test_a_database_without_tasks_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE something (id INTEGER PRIMARY KEY)")
    with TrackItSource.from_options({"sqlite": str(path), "timezone": "UTC"}, no_secret) as source:
        with pytest.raises(SourceError) as info:
            source.describe()
        assert info.value.code == "source.not_trackit"


def test_same_seed_same_desk(tmp_path):
    from connectors.samples import generate_trackit

    first = generate_trackit(tmp_path / "a", tickets=35, seed=4, large_body=500)
    again = generate_trackit(tmp_path / "b", tickets=35, seed=4, large_body=500)
    other = generate_trackit(tmp_path / "c", tickets=35, seed=5, large_body=500)
    dump = lambda path: list(sqlite3.connect(path).iterdump())  # noqa: E731
    assert first.messy == again.messy and dump(first.database) == dump(again.database)
    assert dump(first.database) != dump(other.database)
    files = lambda root: sorted(p.relative_to(root).as_posix() for p in Path(root).rglob("*") if p.is_file())  # noqa: E731
    assert files(first.attachments) == files(again.attachments)
    assert first.counts["tickets"] == 35


def test_companies_are_one_per_name_trimmed_and_case_folded_and_link_requesters_and_work_orders(ti_manifest, tmp_path):
    path = copy_sample(ti_manifest, tmp_path)
    with sqlite3.connect(path) as conn:
        (first, name), (second, _) = conn.execute("SELECT WOID, LOOKUP1 FROM tasks WHERE LOOKUP1 IS NOT NULL "
                                                  "ORDER BY WOID LIMIT 2").fetchall()
        conn.execute("UPDATE tasks SET LOOKUP1 = ? WHERE WOID = ?", (f"  {name.upper()} ", second))
        conn.execute("UPDATE tasks SET LOOKUP1 = '   ' WHERE WOID = (SELECT MAX(WOID) FROM tasks)")
        distinct = {n.strip().casefold() for (n,) in conn.execute("SELECT LOOKUP1 FROM tasks") if n and n.strip()}
    with TrackItSource.from_options({**ti_manifest.options, "sqlite": str(path)}, no_secret) as source:
        companies = {r.key: r.data["name"] for r in records(source, "companies")}
        assert set(companies) == distinct and companies[name.casefold()].strip() == companies[name.casefold()]
        tickets = {r.key: r.data for r in records(source, "tickets")}
        assert tickets[str(first)]["company_id"] == tickets[str(second)]["company_id"] == name.casefold()
        assert source.orphan_keys("tickets", "company_id", "companies")[0] == 0
        requesters = [r.data for r in records(source, "requesters")]
        assert requesters and all(r["company_id"] in companies for r in requesters if r["company_id"])
