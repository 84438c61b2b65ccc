"""What every load test checks at its end: each record in the sandbox written once and
journaled, and a report's columns that must add up to what was read."""

from __future__ import annotations

from sqlalchemy import select

from helpmig_tui.project import open_project
from helpmig_tui.state.models import JournalEntry

RECORD_COLUMNS = ("created", "updated", "skipped", "rejected", "failed", "in_doubt", "queued")


def journal_ids(paths, project, kinds) -> list[str]:
    """The Intercom ids the journal says this project created (and owns, whatever was done to
    them since)."""
    with open_project(paths, project) as store, store.reader() as session:
        return list(session.scalars(select(JournalEntry.created_id).where(
            JournalEntry.kind.in_(kinds), JournalEntry.created_id.is_not(None))))


def assert_exactly_once(paths, demo) -> None:
    """Every conversation, part and contact in the sandbox was written once and journaled:
    the sandbox's ids and the journal's ids are the same sets, with no id twice."""
    sandbox = demo.sandbox
    conversations = [c["id"] for c in sandbox.store.all("conversations")]
    parts = [p["id"] for c in sandbox.store.all("conversations") for p in c["parts"] if p["part_type"] in ("comment", "note")]
    openings = {c["source"]["id"] for c in sandbox.store.all("conversations")}
    contacts = [c["id"] for c in sandbox.store.all("contacts")]
    journal_conversations = journal_ids(paths, demo.project, ("conversation", "conversation_segment"))
    # a message that opened its conversation is journaled with the conversation's source id, never the
    # conversation's own id
    journaled_parts = journal_ids(paths, demo.project, ("part", "part_segment"))
    assert not set(journaled_parts) & set(conversations)
    journal_parts = [i for i in journaled_parts if i not in openings]
    journal_contacts = journal_ids(paths, demo.project, ("contact", "walkin_contact"))
    assert parts, "no parts: nothing was checked"
    for live, journaled in ((conversations, journal_conversations), (parts, journal_parts), (contacts, journal_contacts)):
        assert len(live) == len(set(live))
        assert sorted(live) == sorted(journaled)
    opening_rows = [i for i in journaled_parts if i in openings]
    assert len(opening_rows) == len(set(opening_rows))  # one opening message per conversation
