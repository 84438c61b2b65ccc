"""The audit engine on a hand-made source: every check, exact counts, stored, reported."""

from __future__ import annotations

import csv
import threading
from datetime import UTC, datetime

import pytest

from connectors.base import Severity
from helpmig_tui.audit import MAX_PARTS, AuditCancelled, is_mojibake, run_audit
from helpmig_tui.audit_store import decide, findings, open_blockers, save_audit, source_objects
from helpmig_tui.project import create_project, project_status
from helpmig_tui.reports import write_audit_reports
from tests.support.findings import by_code
from tests.support.handmade import NOW, USERS, make_source, rec
from tests.support.memory_source import MemorySource

@pytest.fixture(scope="module")
def result():
    return run_audit(make_source(), now=NOW)


def one(result, code, obj=None):
    found = [f for f in by_code(result, code) if obj is None or f.object == obj]
    assert len(found) == 1, (code, found)
    return found[0]


def test_counts_and_date_ranges(result):
    assert {o.spec.name: o.profile.count for o in result.objects} == {
        "orgs": 4, "customers": 5, "tickets": 4, "messages": 304, "notes": 201, "articles": 2, "categories": 1, "slas": 2,
    }
    tickets = result.object("tickets").profile
    assert tickets.first_created == datetime(1900, 1, 1, tzinfo=UTC) and tickets.fields["opened"].filled == 3


@pytest.mark.parametrize(
    ("code", "obj", "count", "keys"),
    [
        ("contact.email_missing", "customers", 1, ("3",)),
        ("contact.email_invalid", "customers", 1, ("4",)),
        ("contact.email_duplicate", "customers", 2, ("1", "2")),
        ("text.mojibake", "customers", 1, ("5",)),
        ("attribute.too_long", "customers", 1, ("5",)),
        ("reference.missing", "customers", 1, ("4",)),
        ("text.nul", "tickets", 1, ("11",)),
        ("date.sentinel", "tickets", 1, ("11",)),
        ("date.future", "tickets", 1, ("13",)),
        ("date.missing", "tickets", 1, ("12",)),
        ("conversation.requester_missing", "tickets", 1, ("11",)),
        ("conversation.no_messages", "tickets", 1, ("12",)),
        ("conversation.over_500_parts", "tickets", 1, ("13",)),
        ("part.conversation_missing", "messages", 1, ("lost",)),
        ("body.too_large", "messages", 1, ("big",)),
        ("attachment.over_10", "messages", 1, ("m0",)),
        ("attachment.restricted_type", "messages", 1, ("m1/setup.exe",)),
        ("attachment.missing", "messages", 1, ("m1/gone.pdf",)),
        ("attachment.empty", "messages", 1, ("m1/empty.txt",)),
        ("attachment.count", "messages", 14, ()),
        ("company.no_domain", "orgs", 1, ("3",)),
        ("company.shared_domain", "orgs", 1, ("2",)),
        ("company.duplicate_domain", "orgs", 2, ("1", "4")),
        ("article.category_missing", "articles", 1, ("2",)),
        ("inventory.rebuild", "slas", 2, ()),
    ],
)
def test_every_check_finds_exactly_its_records(result, code, obj, count, keys):
    finding = one(result, code, obj)
    assert finding.count == count
    assert tuple(sorted(finding.keys)) == tuple(sorted(keys))
    assert finding.message and finding.detail


def test_threads_exactly_at_the_limit_are_fine():
    src = make_source()
    src.records["notes"] = src.records["notes"][:200]  # 300 + 200 = 500 parts: allowed
    assert by_code(run_audit(src, now=NOW), "conversation.over_500_parts") == []
    assert MAX_PARTS == 500


def test_clean_data_has_no_data_findings():
    src = MemorySource([USERS], {"customers": [rec("customers", 1, email="a@b.co", name="A")]}, platform="memory")
    result = run_audit(src, now=NOW)
    assert [f.code for f in result.findings if not f.code.startswith("checklist.")] == []


def test_platform_checklist_is_included(result):
    codes = {f.code for f in result.findings if f.code.startswith("checklist.")}
    assert {"checklist.smartertrack_backup", "checklist.smartertrack_license", "checklist.smartertrack_threads"} <= codes
    assert one(result, "checklist.smartertrack_backup").severity is Severity.BLOCKER


def test_findings_are_sorted_blockers_first(result):
    order = [f.severity for f in result.findings]
    assert order == sorted(order, key=[Severity.BLOCKER, Severity.WARNING, Severity.INFO].index)


def test_progress_and_cancel():
    seen = []
    run_audit(make_source(), now=NOW, progress=seen.append)
    assert seen[-1].step == "done" and seen[-1].done == seen[-1].total
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    cancel = threading.Event()

    def stop_after_first(p):
        cancel.set()

    with pytest.raises(AuditCancelled):
        run_audit(make_source(), now=NOW, progress=stop_after_first, cancel=cancel)


@pytest.mark.parametrize(("text", "bad"), [("JosÃ©", True), ("â€œquotedâ€\x9d", True), ("José", False), ("Ã alone", False), ("naïve café", False)])
def test_mojibake_detector(text, bad):
    assert is_mojibake(text) is bad


def test_saved_audit_keeps_decisions_across_reruns(paths, result, tmp_path):
    with create_project(paths, "p", "smartertrack", {"sqlite": str(tmp_path / "x.db")}) as store:
        save_audit(store, result)
        assert project_status(store).stage == "audited"
        assert {o.name: o.count for o in source_objects(store)}["messages"] == 304
        blockers = open_blockers(store)
        assert [b.code for b in blockers] == ["checklist.smartertrack_backup"]
        with pytest.raises(ValueError, match="needs a note"):
            decide(store, blockers[0].id, "waived")
        decide(store, blockers[0].id, "acknowledged")
        dupes = next(f for f in findings(store) if f.code == "contact.email_duplicate")
        decide(store, dupes.id, "waived", "same person, merged after cutover")
        assert open_blockers(store) == []
        save_audit(store, result)  # the audit runs again
        rows = {(f.code, f.object): f for f in findings(store)}
        assert rows[("checklist.smartertrack_backup", None)].status == "acknowledged"
        assert rows[("contact.email_duplicate", "customers")].status_note == "same person, merged after cutover"
        assert rows[("text.nul", "tickets")].status == "open"
        assert project_status(store).findings["warning"] >= 10


def test_reports_are_written(tmp_path, result):
    scope, findings_csv = write_audit_reports(tmp_path / "reports", "acme", result)
    text = scope.read_text(encoding="utf-8")
    assert "# Migration scope: acme" in text and "| tickets | 4 |" in text and "SLA rules: 2" in text
    assert "- [ ] Confirm a verified backup" in text
    raw = findings_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a BOM
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == len(result.findings)
    nul = next(r for r in rows if r["code"] == "text.nul")
    assert (nul["object"], nul["count"], nul["affected records (sample)"]) == ("tickets", "1", "11")
