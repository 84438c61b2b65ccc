"""A conversation an earlier run made, deleted in Intercom since: the next run that must
write to it (a delta with a new message) fails that ticket by name, counts every one of its
messages, and goes on; it never stops with an unexpected error."""

from __future__ import annotations

import sqlite3

from sqlalchemy import select

from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.project import open_project
from helpmig_tui.state.models import JournalEntry


async def test_a_conversation_deleted_in_intercom_fails_its_ticket_by_name(tmp_path):
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 20)
    async with demo.session() as session:
        assert (await session.load(LoadOptions(accept_gates=True))).status == "done"
    database = demo.source_factory().settings.sqlite  # type: ignore[attr-defined]
    with sqlite3.connect(database) as conn:
        ticket, when = conn.execute(
            "SELECT TicketId, MAX(DateReceivedUtc) FROM st_TicketMessages GROUP BY TicketId "
            "HAVING COUNT(*) > 1 ORDER BY TicketId LIMIT 1").fetchone()
        conn.execute(
            "INSERT INTO st_TicketMessages (TicketMessageId, TicketId, DateReceivedUtc, BodyText, BodyHtml, "
            "MessageDirection, IsDraft) VALUES (999002, ?, ?, 'Another reply', '<p>Another reply</p>', 0, 0)",
            (ticket, when))
    conn.close()
    with open_project(paths, demo.project) as store, store.reader() as session:
        conversation_id = session.scalar(select(JournalEntry.intercom_id).where(
            JournalEntry.kind == "conversation", JournalEntry.source_key == f"tickets:{ticket}"))
    assert conversation_id
    demo.sandbox.store.remove("conversations", conversation_id)  # deleted in Intercom by someone

    async with demo.session() as session:
        delta = await session.delta()
    assert delta.status != "done"  # not clean: a ticket is not in Intercom
    conversations = next(r for r in delta.reports if r.phase == "conversations")
    tickets = next(o for o in conversations.objects if o.object == "tickets")
    assert tickets.failed == 1
    assert all(o.unexplained == 0 for o in conversations.objects)  # every message counted
    gone = [row for row in conversations.rows if row[5] == "intercom.gone"]
    assert {row[2] for row in gone} == {f"tickets:{ticket}"}
    assert all("no longer in Intercom" in row[6] and conversation_id in row[6] for row in gone)
    assert any("tickets" in p and "failed" in p for p in delta.problems())
    assert demo.sandbox.store.get("conversations", conversation_id) is None  # nothing written into it
    demo.close()
