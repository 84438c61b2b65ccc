"""SMART Service Desk from generated export folders: CSV in several encodings and delimiters, XLSX, messy rows."""

from datetime import UTC, datetime

import pytest

from connectors.base import Capability, ObjectRole, Severity, SourceError
from connectors.registry import open_source
from connectors.samples.smart_export_sample import write_smart_export
from connectors.smart_export import SmartExportSource
from tests.support.findings import REJECTED_ROWS, SKIPPED_ROWS, rows_counted


def _read(source, name, since=None):
    return [r for batch in source.iter_records(name, since=since, batch_size=8) for r in batch]


def _finding(source, code):
    return next(f for f in source.findings if f.code == code)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smart") / "export"
    return folder, write_smart_export(folder, size=40, seed=3)


@pytest.fixture(scope="module")
def source(export):
    folder, _ = export
    built = open_source("smart-export", {"folder": str(folder), "time_zone": "Europe/Berlin"}, lambda name: None)
    for spec in built.describe().objects:  # the findings come with the reads: a test may run first (xdist)
        for _batch in built.iter_records(spec.name):
            pass
    yield built
    built.close()


@pytest.mark.parametrize(("fmt", "encoding", "delimiter"), [
    ("csv", "utf-8-sig", ","), ("csv", "utf-8", ";"), ("csv", "cp1252", "\t"), ("csv", "cp1252", "|"),
    ("xlsx", "utf-8", ","), ("workbook", "utf-8", ","),
])
def test_every_object_reads_exactly_the_ground_truth(tmp_path, fmt, encoding, delimiter):
    truth = write_smart_export(tmp_path / "x", size=30, seed=5, fmt=fmt, encoding=encoding, delimiter=delimiter)
    with SmartExportSource(tmp_path / "x", time_zone="Europe/Berlin") as source:
        schema = source.describe()
        assert {s.name for s in schema.objects} == set(truth.counts)
        for spec in schema.objects:
            records = _read(source, spec.name)
            assert len(records) == truth.counts[spec.name] == spec.count, spec.name
            assert len({r.key for r in records}) == len(records)
        assert rows_counted(source, "tickets", REJECTED_ROWS) == truth.rejected["tickets"]
        people = {r.data["name"] for r in _read(source, "users")}
        assert "José Person 5" in people  # decoded right whatever the encoding
        assert any("5 €" in (r.data["subject"] or "") for r in _read(source, "tickets"))


def test_roles_keys_and_capabilities(source):
    schema = source.describe()
    assert schema.object("tickets").role is ObjectRole.CONVERSATION and schema.object("tickets").key == "ticket_id"
    assert schema.object("comments").parent == "tickets" and schema.object("comments").parent_field == "ticket_id"
    assert schema.object("technicians").role is ObjectRole.AGENT and schema.object("users").role is ObjectRole.CONTACT
    assert schema.object("vendors").role is ObjectRole.COMPANY and schema.object("organizations").role is ObjectRole.COMPANY
    assert schema.object("kb_articles").role is ObjectRole.ARTICLE and schema.object("kb_categories").role is ObjectRole.KB_CATEGORY
    assert {s.name for s in schema.by_role(ObjectRole.RECORD)} == {"problems", "changes", "releases", "assets", "contracts",
                                                                   "purchase_orders"}
    assert Capability.CHILDREN_BY_PARENT in source.capabilities


def test_duplicate_ids_are_rejected_with_the_rows_named(export, source):
    _, truth = export
    duplicate = _finding(source, "smart.duplicate_id")
    assert duplicate.count == 2 and set(duplicate.keys) == {truth.messy["duplicate_id_identical"][0],
                                                           truth.messy["duplicate_id_different"][0]}
    assert "identical to row 5" in duplicate.detail and "different from row 7" in duplicate.detail
    assert _finding(source, "smart.missing_id").count == 1
    assert rows_counted(source, "tickets", REJECTED_ROWS) == truth.rejected["tickets"]
    kept = source.get("tickets", [truth.messy["duplicate_id_different"][0]])[0]
    assert kept.data["subject"] != "A different subject under the same id"  # the first row wins


def test_dates_are_read_in_the_job_zone_and_bad_ones_reported(export, source):
    _, truth = export
    first = source.get("tickets", ["T-0000"])[0]
    assert first.data["created_at"] == datetime(2024, 1, 8, 8, 30, tzinfo=UTC)  # 09:30 in Berlin (winter)
    bad = source.get("tickets", truth.messy["ticket_unreadable_date"])[0]
    assert bad.data["created_at"] is None
    finding = _finding(source, "smart.value_unreadable")
    assert finding.severity is Severity.WARNING and finding.count == 1


def test_dotted_dates_with_an_explicit_format_and_a_wrong_format(tmp_path):
    write_smart_export(tmp_path / "d", size=10, date_style="dmy", messy=False)
    with SmartExportSource(tmp_path / "d", date_format="%d.%m.%Y %H:%M") as source:
        assert source.get("tickets", ["T-0000"])[0].data["created_at"] == datetime(2024, 1, 8, 9, 30, tzinfo=UTC)
    with SmartExportSource(tmp_path / "d", date_format="%Y-%m-%d") as source:
        assert all(r.data["created_at"] is None for r in _read(source, "tickets"))
        assert _finding(source, "smart.value_unreadable").count == 10


def test_types_lists_custom_columns_and_amounts(export, source):
    _, truth = export
    ticket = source.get("tickets", ["T-0000"])[0]
    assert ticket.data["tags"] == ["vip", "printer"] and ticket.data["cf_asset_tag"] == "AT-0"
    spec = source.describe().object("tickets")
    assert spec.field("legacy_ref").custom and ticket.data["legacy_ref"] == "L0"
    assert _read(source, "purchase_orders")[0].data["total_amount"] == 1234.5
    unreadable = set(truth.messy["comment_private_unreadable"])
    flags = {c.key: c.data["is_private"] for c in _read(source, "comments")}
    assert all(flags[k] is None for k in unreadable)  # "?" is unknown, never "public"
    assert all(isinstance(v, bool) for k, v in flags.items() if k not in unreadable)
    assert spec.field("category_2").custom and ticket.data["category_2"] == "Sub 0"  # the second "Category" column


def test_export_shapes_are_skipped_with_findings_and_the_counts_add_up(export, source):
    _, truth = export
    for name in ("tickets", "comments"):
        assert rows_counted(source, name, SKIPPED_ROWS) == truth.skipped[name]
        assert source.describe().object(name).count == truth.counts[name]
        assert rows_counted(source, name, REJECTED_ROWS) == truth.rejected.get(name, 0)
    codes = {(f.code, f.object) for f in source.findings}
    assert {("smart.header_row", "tickets"), ("smart.summary_row", "tickets"), ("smart.summary_row", "comments"),
            ("smart.blank_row", "tickets"), ("smart.duplicate_header", "tickets")} <= codes


def test_comments_group_under_their_tickets(export, source):
    _, truth = export
    assert source.child_counts("comments") == truth.children["comments"]
    got = source.children("comments", ["T-0001", "T-0002", "nope"])
    assert got["nope"] == [] and all(r.parent_key == "T-0001" for r in got["T-0001"])
    assert [r.data["created_at"] for r in got["T-0001"]] == sorted(r.data["created_at"] for r in got["T-0001"])
    assert source.orphan_keys("comments", "parent", "tickets") == (1, tuple(truth.messy["comment_orphan"]))


def test_attachments_open_found_files_and_flag_missing_or_escaping_ones(export, source):
    _, truth = export
    refs = []
    for name in ("tickets", "comments"):
        for record in _read(source, name):
            refs.extend(source.attachments(name, record))
    assert len(refs) == sum(truth.attachments.values())
    missing = [r for r in refs if not r.exists]
    assert len(missing) == truth.missing_attachments
    assert all(r.open().read() for r in refs if r.exists)
    assert _finding(source, "smart.attachment_missing").keys == ("T-0002",)
    assert _finding(source, "smart.attachment_outside_folder").keys == ("T-0002",)
    assert _finding(source, "smart.attachment_orphan").count == 1


def test_cab_members_without_login_are_flagged(export, source):
    _, truth = export
    finding = _finding(source, "smart.cab_member_without_login")
    assert finding.severity is Severity.WARNING
    for member in truth.messy["cab_member_without_login"]:
        assert member in finding.message
    assert "CH0" in finding.keys


def test_delta_keeps_records_changed_since(source):
    everything = _read(source, "tickets")
    since = everything[20].updated_at
    changed = _read(source, "tickets", since=since)
    assert {r.key for r in changed} == {r.key for r in everything if r.updated_at is None or r.updated_at >= since}


def test_layout_maps_renamed_columns_and_reports_missing_ones(tmp_path):
    folder = tmp_path / "r"
    write_smart_export(folder, size=8, messy=False)
    text = (folder / "tickets.csv").read_text(encoding="utf-8-sig").replace("subject", "Request Title", 1)
    (folder / "tickets.csv").write_text(text, encoding="utf-8-sig")
    with SmartExportSource(folder) as source:
        check = source.check()
        assert not check.ok and "'subject'" in check.summary and "Request Title" in check.details[0]
        with pytest.raises(SourceError, match="no column 'subject'"):
            source.describe()
    with SmartExportSource(folder, layout={"tickets": {"columns": {"subject": "request title"}}}) as source:
        assert source.check().ok and _read(source, "tickets")[0].data["subject"]
    with pytest.raises(SourceError, match="unknown field"):
        SmartExportSource(folder, layout={"tickets": {"columns": {"subjekt": "x"}}})


def test_a_missing_folder_or_tickets_file_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        SmartExportSource(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with SmartExportSource(tmp_path / "empty") as source:
        assert not source.check().ok
        with pytest.raises(SourceError, match="no tickets export"):
            source.describe()


def test_optional_files_may_be_absent(tmp_path):
    folder = tmp_path / "few"
    truth = write_smart_export(folder, size=8, messy=False)
    for name in ("problems", "changes", "releases", "assets", "contracts", "vendors", "purchase_orders"):
        (folder / f"{name}.csv").unlink()
    with SmartExportSource(folder) as source:
        names = {s.name for s in source.describe().objects}
        assert "problems" not in names and len(_read(source, "tickets")) == truth.counts["tickets"]
        assert any(f.code == "source.object_absent" and f.object == "problems" for f in source.findings)


def test_a_file_that_is_not_the_declared_encoding_is_a_clear_error(tmp_path):
    folder = tmp_path / "enc"
    write_smart_export(folder, size=8, messy=False, encoding="cp1252")
    with SmartExportSource(folder, encoding="utf-8") as source:
        with pytest.raises(SourceError, match="is not utf-8"):
            source.describe()


def test_staging_is_removed_on_close(tmp_path):
    write_smart_export(tmp_path / "s", size=5, messy=False)
    source = SmartExportSource(tmp_path / "s")
    _read(source, "tickets")
    staging = source._db.dir
    assert staging.exists()
    source.close()
    assert not staging.exists()
