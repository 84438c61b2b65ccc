"""A thread longer than Intercom's 500 parts is split; when Intercom refuses to create the
continuation, the messages meant for it wait, journaled with the reason, and none of them
is skipped or overtaken by a later one. A later run writes them, in order."""

from __future__ import annotations

from connectors.intercom.errors import api_error
from connectors.intercom.resources.conversations import Conversations
from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.project import open_project
from helpmig_tui.settings import resolve_paths
from tests.pipeline.test_verdicts import _journal

CONTINUED = "(continued from the conversation"


async def test_a_refused_continuation_holds_back_its_messages_until_a_later_run(tmp_path, monkeypatch):
    demo = prepare_demo(resolve_paths(tmp_path / "home"), "smartertrack", 40)  # one ticket of 505 messages
    create = Conversations.create

    async def refuse_continuations(self, conversation):
        if str(conversation.payload().get("body", "")).startswith(CONTINUED):
            raise api_error(400, b'{"type":"error.list","errors":[{"code":"parameter_invalid","message":"no"}]}',
                            operation="conversations.create", method="POST", path="/conversations")
        return await create(self, conversation)

    monkeypatch.setattr(Conversations, "create", refuse_continuations)
    async with demo.session() as session:
        first = await session.load(LoadOptions(accept_gates=True))
    assert not first.clean
    segment = next(e for e in _journal(demo, "conversation_segment"))
    assert segment.status == "rejected"
    parent = segment.source_key.split("#")[0]
    waiting = [e for e in _journal(demo, "part") if e.parent_key == parent and e.status != "done"]
    assert waiting and all(e.code == "conversation.waiting" and "continuation" in (e.last_error or "")
                           for e in waiting)
    done = [e for e in _journal(demo, "part") if e.parent_key == parent and e.status == "done"]
    first_waiting = min(int(e.source_key.split(":")[1]) for e in waiting if e.source_key.startswith("messages:"))
    assert all(int(e.source_key.split(":")[1]) < first_waiting  # nothing after the split overtook it
               for e in done if e.source_key.startswith("messages:"))
    conversations = next(r for r in first.reports if r.phase == "conversations")
    assert all(o.unexplained == 0 for o in conversations.objects)  # each message counted once

    monkeypatch.setattr(Conversations, "create", create)  # Intercom takes it now
    with open_project(demo.paths, demo.project) as store:  # the refusal was of this payload: forget it
        from sqlalchemy import update

        from helpmig_tui.state.models import JournalEntry
        with store.engine.begin() as conn:
            conn.execute(update(JournalEntry).where(JournalEntry.id == segment.id).values(payload_hash=None))
    async with demo.session() as session:
        second = await session.load(LoadOptions(accept_gates=True))
    still = [e.source_key for e in _journal(demo, "part") if e.parent_key == parent and e.status != "done"]
    assert not still, f"the held-back messages were not written on the next run: {still[:5]}"
    continuation = next(e for e in _journal(demo, "conversation_segment"))
    thread = demo.sandbox.store.get("conversations", continuation.intercom_id)
    times = [p["created_at"] for p in thread["parts"] if p.get("part_type") == "comment"]
    assert times == sorted(times) and len(times) >= len(waiting) - 3  # in order (comments may sit apart)
    assert second.status == "done"
    demo.close()
