"""The scope check keeps what it must remember on disk (ScopeBook) and writes its CSV a row
at a time (CsvReport): the answers must be the same whether a key is still in memory or
already in the file, and a check that stops half-way must leave the earlier report."""

from __future__ import annotations

import csv
import io

import pytest

from helpmig_tui import redact
from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline import scope_book
from helpmig_tui.pipeline.prepare import Resolutions
from helpmig_tui.pipeline.scope_book import LEFT_OUT, LOADS, REJECTED, ScopeBook
from helpmig_tui.project import open_project
from helpmig_tui.reports import CsvReport, write_csv
from helpmig_tui.settings import resolve_paths


@pytest.mark.parametrize("flush_every", [1, 10_000])
def test_the_book_answers_the_same_from_memory_and_from_its_file(monkeypatch, flush_every):
    monkeypatch.setattr(scope_book, "_FLUSH", flush_every)
    book = ScopeBook()
    try:
        book.note("tickets", "1", LOADS)
        book.note("tickets", "2", REJECTED, ("contact.email_invalid", "first"))
        book.note("tickets", "2", REJECTED, ("contact.email_missing", "second"))  # read twice: the last read counts
        book.note("tickets", "2", LOADS)
        book.note("articles", "1", LEFT_OUT, ("article.private", "private"))
        assert book.states("tickets", "1") == {LOADS: ("", "")}
        assert book.states("tickets", "2") == {REJECTED: ("contact.email_missing", "second"), LOADS: ("", "")}
        assert book.states("articles", "1") == {LEFT_OUT: ("article.private", "private")}
        assert book.states("tickets", "3") == {} and book.states("customers", "1") == {}
        assert book.states("tickets", None) == {} and book.states("tickets", 1) == {}  # not keys: never found
        many = [str(n) for n in range(1_200)]  # more than one query's worth of keys
        for key in many[::2]:
            book.note("chats", key, LOADS)
        found = book.states_of("chats", [*many, None, 7])
        assert set(found) == set(many[::2]) and all(v == {LOADS: ("", "")} for v in found.values())
    finally:
        book.close()


def test_the_commonest_reason_of_a_class_and_the_first_given_among_equals():
    book = ScopeBook()
    try:
        for reason in ("b", "a", "a", "c", "b"):
            book.give(0, reason)
        book.give(1, "only")
        assert book.commonest(0) == "b" and book.commonest(1) == "only" and book.commonest(2) == ""
    finally:
        book.close()


def test_a_csv_report_is_masked_row_by_row_and_replaces_the_earlier_one_only_when_done(tmp_path):
    path = tmp_path / "reports" / "not-migrated.csv"
    write_csv(path, ("key", "reason"), [("1", "earlier")])
    earlier = path.read_bytes()
    redact.register("s3cret-value")  # forgotten after the test (conftest)
    report = CsvReport(path, ("key", "reason"))
    report.row(("1", "token s3cret-value, quoted \"here\"\nand on"))
    report.row(("2", None))
    assert path.read_bytes() == earlier  # not yet complete
    report.discard()
    assert path.read_bytes() == earlier and not list(path.parent.glob("*.part"))
    report = CsvReport(path, ("key", "reason"))
    report.row(("1", "token s3cret-value, quoted \"here\"\nand on"))
    report.row(("2", None))
    assert report.done() == path
    text = path.read_bytes().decode("utf-8-sig")
    assert text == 'key,reason\r\n1,"token ****, quoted ""here""\nand on"\r\n2,\r\n'


async def test_the_scope_check_names_the_same_records_with_its_keys_in_memory_or_on_disk(tmp_path, monkeypatch):
    """Tickets rejected for their requester pass the rejection to their messages: found the
    same whether the tickets' keys were still in memory or written to the book's file."""
    demo = prepare_demo(resolve_paths(tmp_path / "home"), "smartertrack", 60)
    with open_project(demo.paths, demo.project) as store:
        resolutions = Resolutions.load(store)
        resolutions.fallback_contact = None
        resolutions.save(store)
    written = []
    for flush_every in (10_000, 1):
        monkeypatch.setattr(scope_book, "_FLUSH", flush_every)
        async with demo.session() as session:
            result = await session.check_scope()
        written.append((result.path.read_bytes(), {k: (c.count, c.samples, c.reason) for k, c in result.classes.items()}))
    assert written[0] == written[1]
    classes = written[0][1]
    inherited = [reason for (obj, status, code), (_n, _s, reason) in classes.items()
                 if obj == "messages" and status == "rejected" and code.startswith("contact.")]
    assert inherited and all(r.startswith("its conversation is rejected") for r in inherited)
    rows = list(csv.reader(io.StringIO(written[0][0].decode("utf-8-sig"), newline="")))
    assert len(rows) - 1 == sum(n for n, _s, _r in classes.values())
