"""Files as the operator expects them: system files (Thumbs.db, desktop.ini, .DS_Store)
are never attachments, the files of a rejected ticket are never sent, and an inline
image's `cid:` reference points at the file once Intercom holds it."""

from __future__ import annotations

import sqlite3

from helpmig_tui.audit import is_junk_file
from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.pipeline.prepare import Resolutions
from helpmig_tui.project import open_project
from helpmig_tui.settings import resolve_paths


def _attach(con, root, ticket, message, name, content, cid=None):
    disk = f"helpmig-test-{message}-{name}".replace("/", "_")
    (root / disk).write_bytes(content)
    con.execute("INSERT INTO st_TicketAttachments (TicketId, TicketMessageId, FileNameOriginal, FileNameOnDisk, "
                "CidTagName, Length, Crc, CreationDateUtc, IsDeleted) VALUES (?, ?, ?, ?, ?, ?, 0, "
                "'2021-03-01 10:00:00', 0)", (ticket, message, name, disk, cid, len(content)))


def test_junk_files_by_name():
    for name in ("Thumbs.db", "desktop.ini", ".DS_Store", "~$report.docx", "._photo.jpg", r"C:\x\THUMBS.DB"):
        assert is_junk_file(name), name
    for name in ("thumbs.png", "report.docx", "db", "photo.jpg"):
        assert not is_junk_file(name), name


async def test_junk_rejected_and_inline_files(tmp_path):
    paths = resolve_paths(tmp_path / "home")
    demo = prepare_demo(paths, "smartertrack", 12)
    home = tmp_path / "home"
    db = next(home.rglob("*.db"))
    root = next(home.rglob("App_Data"))
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT t.TicketId, m.TicketMessageId, t.UserIdCustomer FROM st_Tickets t JOIN st_TicketMessages m "
            "ON m.TicketId = t.TicketId WHERE COALESCE(t.IsDeleted, 0) = 0 AND COALESCE(t.IsSpam, 0) = 0 "
            "AND COALESCE(m.IsDraft, 0) = 0 AND m.BodyHtml IS NOT NULL AND t.UserIdCustomer IS NOT NULL "
            "ORDER BY t.TicketId, m.DateReceivedUtc").fetchall()
        first = {}
        for ticket, message, customer in rows:
            first.setdefault(ticket, []).append((message, customer))
        tickets = [t for t, messages in first.items() if len(messages) >= 2]
        kept, rejected = tickets[0], tickets[-1]
        shown = first[kept][1][0]  # a reply, not the opening message
        con.execute("UPDATE st_TicketMessages SET BodyHtml = '<p>Here is the screen:</p>"
                    "<img src=\"cid:shot.png@01D9A1B2\"><p>and a lost one <img src=\"cid:gone.png@01\"></p>' "
                    "WHERE TicketMessageId = ?", (shown,))
        _attach(con, root, kept, shown, "shot.png", b"\x89PNG fake image bytes", "shot.png@01D9A1B2")
        _attach(con, root, kept, shown, "Thumbs.db", b"thumbnail cache")
        _attach(con, root, kept, shown, "report.txt", b"a real file")
        customer = first[rejected][0][1]
        other = first[rejected][1][0]
        con.execute("UPDATE st_Users SET Email = 'not an email' WHERE UserId = ?", (customer,))
        con.execute("UPDATE st_Tickets SET CustomerEmailAddress = NULL WHERE TicketId = ?", (rejected,))
        _attach(con, root, rejected, other, "secret-plan.pdf", b"%PDF of a rejected ticket")
    with open_project(demo.paths, demo.project) as store:
        resolutions = Resolutions.load(store)
        resolutions.fallback_contact = None  # its requester is rejected: so is the ticket
        resolutions.save(store)
    async with demo.session() as session:
        await session.plan()
        result = await session.load(LoadOptions(accept_gates=True))
    assert result.status in ("done", "gated")
    parts = [p for c in demo.sandbox.store.all("conversations") for p in c["parts"]]
    names = [a["name"] for p in parts for a in p.get("attachments") or []]
    assert "shot.png" in names and "report.txt" in names
    assert "Thumbs.db" not in names and "secret-plan.pdf" not in names
    message = next(p for p in parts if "Here is the screen" in (p.get("body") or ""))
    assert '<img src="https://sandbox.invalid/uploads/shot.png">' in message["body"]
    assert "cid:" not in message["body"] and "report.txt" in [a["name"] for a in message["attachments"]]
    with open_project(demo.paths, demo.project) as store, store.reader() as s:
        from sqlalchemy import select

        from helpmig_tui.state.models import JournalEntry
        junk = s.scalars(select(JournalEntry).where(JournalEntry.kind == "attachment",
                                                    JournalEntry.code == "attachment.junk")).all()
        ticket = s.scalars(select(JournalEntry).where(JournalEntry.kind == "conversation",
                                                      JournalEntry.source_key == f"tickets:{rejected}")).one()
    assert [j.last_error.split(":")[0] for j in junk] == ["Thumbs.db"]
    assert ticket.status == "rejected"
    conversations = next(r for r in result.reports if r.phase == "conversations")
    report = (paths.reports_dir(demo.project)).glob("*-conversations.md")
    text = next(report).read_text(encoding="utf-8")
    assert "body.inline_image_missing" in text
    assert conversations.objects
