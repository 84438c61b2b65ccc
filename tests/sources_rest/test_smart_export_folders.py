"""SMART exports written independently of our generator (smart_folders.py): every encoding customers
produce, XLSX, footers, a repeated header, localized headers; the reader reads exactly what was
written, decides the encoding and says so, and a wrong encoding blocks instead of garbling."""

from __future__ import annotations

import pytest

from connectors.base import Severity, SourceError
from connectors.smart_export import SmartExportSource
from helpmig_tui.audit import run_audit
from helpmig_tui.mapping.export_headers import match_headers
from tests.sources_rest.smart_folders import EN_DE, RU, RU_PLAIN, write_customer_export
from tests.support.findings import REJECTED_ROWS, SKIPPED_ROWS, rows_counted

CASES = {
    "cp1251": dict(lang=RU, encoding="cp1251", delimiter=";"),
    "utf-8-sig": dict(lang=RU, encoding="utf-8-sig", delimiter=";"),
    "utf-8": dict(lang=RU, encoding="utf-8", delimiter=","),
    "utf-16": dict(lang=RU, encoding="utf-16", delimiter="\t"),  # Excel's "Unicode text"
    "cp1252": dict(lang=EN_DE, encoding="cp1252", delimiter=";"),
    "xlsx": dict(lang=RU, fmt="xlsx"),
}


def _read(source, name):
    return [r for batch in source.iter_records(name) for r in batch]


def _codes(source):
    return {f.code: f for f in source.findings}


def _open(folder, **options):
    return SmartExportSource(folder, time_zone="Europe/Moscow", header_matcher=match_headers, **options)


@pytest.mark.parametrize("case", list(CASES))
def test_each_export_reads_exactly_what_was_written(tmp_path, case):
    spec = CASES[case]
    expected = write_customer_export(tmp_path / case, **spec)
    with _open(tmp_path / case) as source:
        tickets = {r.key: r.data for r in _read(source, "tickets")}
        assert set(tickets) == set(expected.tickets)  # no footer, no repeated header read as a ticket
        for tid, want in expected.tickets.items():
            got = tickets[tid]
            for name, value in want.items():
                assert got.get(name) == value, (tid, name)
        comments = [{k: r.data.get(k) for k in ("ticket_id", "body", "created_at", "author_email", "is_private")}
                    for r in _read(source, "comments")]
        assert sorted(comments, key=repr) == sorted(expected.comments, key=repr)
        assert sorted(r.data["email"] for r in _read(source, "technicians")) == expected.technicians
        assert sorted(r.data["email"] for r in _read(source, "users")) == sorted(expected.customers)

        for name in ("tickets", "comments"):
            assert rows_counted(source, name, REJECTED_ROWS) == 0
            if spec.get("fmt") != "xlsx":
                assert rows_counted(source, name, SKIPPED_ROWS) == sum(expected.skipped[name].values()), name
        found = _codes(source)
        assert "smart.encoding_suspect" not in found
        if spec.get("fmt") != "xlsx":
            decided = [f for f in source.findings if f.code == "smart.encoding" and f.keys == ("tickets.csv",)]
            assert decided and decided[0].message.startswith(f"tickets.csv is read as {spec['encoding']}")
            lang = spec["lang"]
            assert any(text in decided[0].message for text in (lang.subject, *lang.steps))  # a sample of decoded text
        for code in ("smart.summary_row", "smart.header_row"):
            assert sorted(f.object for f in source.findings if f.code == code) == ["comments", "tickets"], code
        duplicate = found["smart.duplicate_header"]
        assert duplicate.severity is Severity.WARNING and "columns 6, 7" in duplicate.message
        missing = found["smart.requester_email_missing"].keys + found["smart.requester_email_invalid"].keys
        assert sorted(missing) == sorted(expected.no_requester)
        refs = [ref for r in _read(source, "tickets") for ref in source.attachments("tickets", r)]
        assert sorted(ref.name for ref in refs) == sorted(expected.files)  # names in the customer's language
        assert all(ref.exists for ref in refs) and "smart.attachment_missing" not in found


def test_comment_authors_who_are_technicians_point_at_their_user_record(tmp_path):
    write_customer_export(tmp_path / "x", n=12)
    with _open(tmp_path / "x") as source:
        technicians = {r.data["email"]: r.key for r in _read(source, "technicians")}
        customers = {r.data["email"]: r.key for r in _read(source, "users")}
        for comment in _read(source, "comments"):
            email = comment.data["author_email"]
            folded = email.casefold()  # a requester typing their email in capitals is still the user
            assert comment.data["author_user_id"] == (technicians.get(folded) or customers.get(folded)), comment.key


def test_a_wrong_encoding_blocks_and_keeps_private_comments_private(tmp_path):
    """The issue's case: a Windows-1251 export read as Windows-1252."""
    expected = write_customer_export(tmp_path / "x", lang=RU_PLAIN, encoding="cp1251")
    with _open(tmp_path / "x", encoding="cp1252") as source:
        check = source.check()
        assert not check.ok and "mis-decoded" in check.summary
        audit = run_audit(source)
        blockers = [f for f in audit.findings if f.code == "smart.encoding_suspect"]
        assert {f.keys for f in blockers} >= {("tickets.csv",), ("comments.csv",)}
        assert all(f.severity is Severity.BLOCKER and "--encoding" in f.detail for f in blockers)
        comments = _read(source, "comments")
        assert all(c.data["is_private"] is None for c in comments)  # "Äà" is no yes/no: unknown, never False
        unreadable = next(f for f in audit.findings if f.code == "part.visibility_unreadable")
        assert unreadable.count == len(comments) >= len(expected.comments)  # every one, to be loaded as a note
        assert any(f.code == "smart.attachment_missing" for f in audit.findings)  # Cyrillic file names, garbled
    with _open(tmp_path / "x") as source:  # decided, not guessed
        assert source.check().ok
        assert not [f for f in run_audit(source).findings if f.severity is Severity.BLOCKER and f.code.startswith("smart.")]


def test_a_wrong_encoding_under_localized_headers_says_why_the_columns_are_missing(tmp_path):
    write_customer_export(tmp_path / "x", encoding="cp1251", n=8)
    with _open(tmp_path / "x", encoding="cp1252") as source:
        check = source.check()
        assert not check.ok and "tickets.csv" in check.summary and "mis-decoded" in check.summary
        assert any("«" in line and "Íîâûé" in line for line in check.details)  # the garbled sample, shown
        with pytest.raises(SourceError, match="mis-decoded") as raised:
            source.describe()
        assert "--encoding" in raised.value.hint


def test_localized_headers_need_the_vocabulary_or_a_layout(tmp_path):
    write_customer_export(tmp_path / "x", n=6)
    with SmartExportSource(tmp_path / "x") as source:  # no vocabulary: the headers are not guessed
        with pytest.raises(SourceError, match="no column") as raised:
            source.describe()
        assert "Тема" in raised.value.hint
    layout = {"tickets": {"columns": {"ticket_id": "Номер", "subject": "Тема", "created_at": "Дата создания"}},
              "comments": {"columns": {"ticket_id": "Номер заявки", "body": "Текст", "created_at": "Дата"}},
              "users": {"columns": {"email": "E-mail"}},
              "attachments": {"columns": {"ticket_id": "Номер заявки", "file_path": "Путь к файлу"}}}
    with SmartExportSource(tmp_path / "x", layout=layout, time_zone="Europe/Moscow") as source:
        assert len(_read(source, "tickets")) == 6
        spec = source.describe().object("tickets")
        custom = {f.name: f.label for f in spec.fields if f.custom}
        assert custom["opisanie"] == "Описание" and custom["kategoriia"] == "Категория"  # readable ASCII names
        assert custom["kategoriia_2"] == "Категория_2"
    with _open(tmp_path / "x") as source:
        source.describe()
        recognised = [f.message for f in source.findings if f.code == "smart.headers_recognised"]
        assert any("'Тема' as subject" in m and "'Email заявителя' as requester_email" in m for m in recognised)
        assert any("'Приватный' as is_private" in m for m in recognised)


def test_the_engine_opens_exports_with_the_vocabulary(tmp_path, paths):
    from helpmig_tui.audit_store import findings, save_audit
    from helpmig_tui.project import create_project, open_project, open_source
    from helpmig_tui.settings import Secrets
    from helpmig_tui.source_connection import check_source

    expected = write_customer_export(tmp_path / "x", n=20)
    options = {"folder": str(tmp_path / "x"), "timezone": "Europe/Moscow"}
    result = check_source("smart-export", options, Secrets(env={}, use_keyring=False))
    assert result.ok and any("cp1251" in line and "Новый ноутбук" in line for line in result.details)
    create_project(paths, "ru", "smart-export", options).close()
    with open_project(paths, "ru") as store:
        with open_source(store, Secrets(env={}, use_keyring=False)) as source:
            save_audit(store, run_audit(source))
        rows = {row.code: row for row in findings(store)}
    named = rows["smart.requester_email_missing"]
    assert set(named.keys) <= set(expected.no_requester) and named.count >= 1


def test_comments_without_a_visibility_column_are_flagged(tmp_path):
    write_customer_export(tmp_path / "x", n=6)
    path = tmp_path / "x" / "comments.csv"
    text = path.read_bytes().decode("cp1251").replace(";Приватный", ";Оценка")  # another column in its place
    path.write_bytes(text.encode("cp1251"))
    with _open(tmp_path / "x") as source:
        source.describe()
        assert "smart.visibility_column_missing" in _codes(source)
