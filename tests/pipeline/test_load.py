"""The load end to end against the sandbox: counts add up, nothing is duplicated after an
interruption or an apply-then-fail write, validation reads it back, rollback removes it,
the delta adds only what changed."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select

from helpmig_tui.demo import prepare_demo, run_headless
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.pipeline.control import RunControl
from helpmig_tui.pipeline.session import LoadRefused
from helpmig_tui.project import open_project
from helpmig_tui.state.models import JournalEntry
from tests.support.exactly_once import RECORD_COLUMNS, assert_exactly_once, journal_ids
from tests.support.stops import stopped_after

def map_skipped(paths, project, obj) -> int:
    """Records of `obj` a scope rule of the map left out in the full load."""
    with open_project(paths, project) as store, store.reader() as session:
        return session.scalar(select(func.count()).where(
            JournalEntry.kind == "skip", JournalEntry.object == obj, JournalEntry.status == "skipped",
            JournalEntry.code.not_like("source.%"))) or 0


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path_factory.mktemp("home"))
    demo = prepare_demo(paths, "smartertrack", 40)
    import asyncio

    result = asyncio.run(run_headless(demo, sample=5))
    return paths, demo, result


def test_every_phase_accounts_for_every_record(loaded):
    _, demo, result = loaded
    assert result.load.status == "done"
    for report in result.load.reports:
        for o in report.objects:
            assert o.read == sum(getattr(o, c) for c in RECORD_COLUMNS), (report.phase, o.object)
            assert o.failed == o.in_doubt == o.queued == 0, (report.phase, o.object)
    by_object = {o.object: o for r in result.load.reports for o in r.objects}
    paths = loaded[0]
    for obj in ("tickets", "messages", "comments", "customers", "organizations", "kb_articles", "chats"):
        # every record the source holds came in: those the source's scope leaves out as skipped, and
        # those the map's scope rules leave out (private articles) among what the source returns
        by_map = map_skipped(paths, demo.project, obj)
        assert by_object[obj].read - by_object[obj].skipped + by_map == demo.truth[obj], obj
        assert by_object[obj].skipped - by_map == demo.skipped.get(obj, 0), obj
    assert by_object["tickets"].skipped > 0 and by_object["messages"].skipped > 0
    assert map_skipped(paths, demo.project, "kb_articles") > 0  # the private ones


def test_the_sandbox_holds_one_copy_of_everything_the_journal_created(loaded):
    paths, demo, _ = loaded
    assert_exactly_once(paths, demo)
    assert demo.sandbox.state.counts()["articles"] == len(journal_ids(paths, demo.project, ("article",)))


def test_sample_then_validation_then_rollback(loaded):
    _, _, result = loaded
    assert result.sample.status == "done"
    assert result.sample_validation.passed and result.sample_validation.total > 0
    assert sum(result.sample_rollback.removed.values()) > 0
    assert "company" in result.sample_rollback.archived
    assert "data_attribute" not in result.sample_rollback.archived  # the schema stays for the full load
    assert result.validation.passed and result.validation.total >= 50


def test_reports_are_written_for_every_phase(loaded):
    paths, demo, _ = loaded
    names = {p.name for p in paths.reports_dir(demo.project).iterdir()}
    for phase in ("match", "schema", "companies", "contacts", "conversations", "articles"):
        assert any(n.endswith(f"-{phase}.md") for n in names), phase
    assert any(n.endswith("-conversations-records.csv") for n in names)


async def test_full_rollback_leaves_the_sandbox_as_it_was_but_for_archived(tmp_path):
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "trackit", 20)
    before = demo.sandbox.state.counts()
    async with demo.session() as session:
        assert (await session.load(LoadOptions(accept_gates=True))).status == "done"
        loaded = demo.sandbox.state.counts()
        assert loaded["conversations"] > 0 and loaded["contacts"] > 0
        report = await session.rollback(sample_only=False).run()
    after = demo.sandbox.state.counts()
    assert report.clean
    for kind in ("contacts", "conversations", "parts", "articles", "collections", "custom_objects", "tags"):
        assert after[kind] == before[kind], kind
    # companies and data attributes can only be archived: the report lists them
    assert report.archived.get("company", 0) == loaded["companies"] - before["companies"]
    assert after["companies"] == before["companies"]  # archived ones are not counted as live
    async with demo.session() as session:  # a second rollback finds nothing left to remove
        assert (await session.rollback(sample_only=False).run()).summary() == "0 removed, 0 archived"


async def test_an_interrupted_load_resumes_without_duplicates(tmp_path):
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 30)
    control = RunControl()
    with stopped_after(8, control):  # of the demo's 30 tickets and 4 chats
        async with demo.session(control=control) as session:
            first = await session.load(LoadOptions(accept_gates=True))
    assert first.status == "cancelled"
    with open_project(paths, demo.project) as store:
        from helpmig_tui.project import project_status

        assert project_status(store).last_run.status == "paused"
    async with demo.session() as session:
        second = await session.load(LoadOptions(accept_gates=True))
    assert second.status == "done"
    assert_exactly_once(paths, demo)
    conversations = next(r for r in second.reports if r.phase == "conversations")
    assert sum(o.earlier for o in conversations.objects) > 0  # the resumed run skipped what was done
    by_object = {o.object: o for r in second.reports for o in r.objects}
    for obj in ("tickets", "messages", "comments", "customers", "organizations", "chats", "chat_messages"):
        o = by_object[obj]  # what was done earlier is counted again, from the journal, and adds up
        assert o.read == demo.truth[obj] + demo.skipped.get(obj, 0) == sum(getattr(o, c) for c in RECORD_COLUMNS), \
            obj
    assert by_object["messages"].rejected > 0  # the orphan messages among them
    async with demo.session() as session:  # all finished: every count comes from the journal
        third = await session.load(LoadOptions(accept_gates=True))
    assert third.status == "done"
    assert_exactly_once(paths, demo)
    for obj, o in ((o.object, o) for r in third.reports for o in r.objects):
        if obj in ("tickets", "messages", "comments", "customers", "organizations", "chats", "chat_messages"):
            assert (o.read, o.rejected, o.skipped) == (by_object[obj].read, by_object[obj].rejected,
                                                       by_object[obj].skipped), obj
            assert o.earlier == o.created + o.updated, obj


async def test_apply_then_fail_writes_are_found_again_not_repeated(tmp_path):
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 20)
    demo.sandbox.faults.plan("error_after", method="POST", path="/conversations", times=3)
    demo.sandbox.faults.plan("drop_after", method="POST", path="/conversations/", times=5)  # replies, parts
    async with demo.session() as session:
        result = await session.load(LoadOptions(accept_gates=True))
    assert result.status == "done"
    assert_exactly_once(paths, demo)
    assert sum(demo.sandbox.faults.injected.values()) == 8  # every planned fault happened
    conversations = next(r for r in result.reports if r.phase == "conversations")
    assert all(o.in_doubt == 0 and o.failed == 0 for o in conversations.objects)


async def test_the_delta_appends_new_messages_and_updates_changed_records(tmp_path):
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 20)
    async with demo.session() as session:
        assert (await session.load(LoadOptions(accept_gates=True))).status == "done"
    parts_before = demo.sandbox.state.counts()["parts"]
    conversations_before = demo.sandbox.state.counts()["conversations"]
    database = demo.source_factory().settings.sqlite  # type: ignore[attr-defined]
    with sqlite3.connect(database) as conn:
        ticket, when = conn.execute(
            "SELECT TicketId, MAX(DateReceivedUtc) FROM st_TicketMessages GROUP BY TicketId ORDER BY TicketId LIMIT 1"
        ).fetchone()
        conn.execute(
            "INSERT INTO st_TicketMessages (TicketMessageId, TicketId, DateReceivedUtc, BodyText, BodyHtml, MessageDirection, "
            "IsDraft) VALUES (999001, ?, ?, 'A new reply after the load', '<p>A new reply after the load</p>', 0, 0)",
            (ticket, when),
        )
        conn.execute("UPDATE st_Users SET DisplayName = 'Renamed After Load' WHERE UserId = "
                     "(SELECT MIN(UserIdCustomer) FROM st_Tickets WHERE UserIdCustomer IS NOT NULL)")
    conn.close()
    async with demo.session() as session:
        delta = await session.delta()
    assert delta.status == "done"
    counts = demo.sandbox.state.counts()
    assert counts["conversations"] == conversations_before  # nothing duplicated
    assert counts["parts"] == parts_before + 1  # the new message, appended
    assert any(c.get("name") == "Renamed After Load" for c in demo.sandbox.store.all("contacts"))
    contacts = next(r for r in delta.reports if r.phase == "contacts")
    with open_project(paths, demo.project) as store, store.reader() as session:  # what this delta did
        run_id = contacts.run_id
        updated = session.scalar(select(func.count()).where(JournalEntry.kind == "contact", JournalEntry.run_id == run_id,
                                                            JournalEntry.outcome == "updated"))
    assert updated == 1


async def test_a_load_waits_for_open_blockers(tmp_path):
    from helpmig_tui.audit_store import decide, findings
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "trackit", 10)
    with open_project(paths, demo.project) as store:
        backup = next(f for f in findings(store) if f.code == "checklist.trackit_backup")
        decide(store, backup.id, "open")
    async with demo.session() as session:
        with pytest.raises(LoadRefused, match="audit blockers are open"):
            await session.load(LoadOptions())


async def test_long_threads_are_started_before_the_others(tmp_path):
    """A thread is a chain of calls that cannot overlap: the longest is started first, so
    it does not trail the phase alone; first in the whole phase, before the conversations of
    an object the map loads before its own (the chats). One conversation at a time makes
    the order visible."""
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 30)
    database = demo.source_factory().settings.sqlite  # type: ignore[attr-defined]
    with sqlite3.connect(database) as conn:
        longest, messages = conn.execute("SELECT TicketId, COUNT(*) FROM st_TicketMessages GROUP BY TicketId "
                                         "ORDER BY COUNT(*) DESC LIMIT 1").fetchone()
        first_ticket = conn.execute("SELECT MIN(TicketId) FROM st_Tickets").fetchone()[0]
    conn.close()
    assert messages > 50 and longest != first_ticket  # the source order alone would not start it first
    async with demo.session() as session:
        assert (await session.load(LoadOptions(accept_gates=True, concurrency=1))).status == "done"
    with open_project(paths, demo.project) as store, store.reader() as session:
        conversations = session.execute(select(JournalEntry.source_key, JournalEntry.intercom_id)
                                        .where(JournalEntry.kind == "conversation")
                                        .order_by(JournalEntry.id)).all()
    first_key, first_id = conversations[0]
    assert first_key == f"tickets:{longest}"
    assert conversations[1][0].startswith("chats:")  # the chats come before the tickets in the map
    created = list(demo.sandbox.store.all("conversations"))
    assert len(demo.sandbox.store.get("conversations", first_id)["parts"]) == max(len(c["parts"]) for c in created)


async def test_collections_are_nested_as_the_categories_are(tmp_path):
    """The schema phase writes a level of categories at once, parents before children: every
    collection of a category with a parent sits under its parent's collection."""
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 10)
    database = demo.source_factory().settings.sqlite  # type: ignore[attr-defined]
    with sqlite3.connect(database) as conn:
        parents = dict(conn.execute("SELECT KbCategoryId, KbCategoryIdParent FROM st_KbCategories"))
    conn.close()
    async with demo.session() as session:
        assert (await session.load(LoadOptions(accept_gates=True, phases=("match", "schema")))).status == "done"
    with open_project(paths, demo.project) as store, store.reader() as session:
        made = {key.split(":", 1)[1]: intercom_id for key, intercom_id in session.execute(
            select(JournalEntry.source_key, JournalEntry.intercom_id).where(
                JournalEntry.kind == "collection", JournalEntry.status == "done"))}
    nested = [(child, parent) for child, parent in parents.items() if parent is not None
              and str(child) in made and str(parent) in made]
    assert len(nested) >= 4 and any(parents[parent] is not None for _, parent in nested)  # three levels
    for child, parent in nested:
        assert str(demo.sandbox.store.get("collections", made[str(child)])["parent_id"]) == made[str(parent)]
