"""The delta against a desk that lives on during the migration window.

A SmarterTrack sample is sampled, rolled back, loaded; then changed the way a live
helpdesk changes: a new customer with a new ticket, new messages on an open and on a
closed ticket and on a ticket that had none when it was loaded, a subject, a status, a
priority and an assignee edited, a ticket reopened, a customer renamed, a ticket marked
deleted, one deleted outright, later one marked spam. The first delta is killed (SIGKILL,
in the middle of its replies) and resumed; the records gone from the source wait for the
operator's choice, then are closed (later: deleted) as chosen; a delta with nothing to do
writes nothing. Intercom (the strict sandbox) must then hold exactly the source's truth,
read from the source's own tables here, not through the loader's map; validation must
see every state change; and a rollback (interrupted once) must leave nothing the project
created active.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from connectors.intercom.sandbox import DEFAULT_TOKEN
from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.context import LoadOptions, NullObserver
from helpmig_tui.pipeline.control import RunCancelled, RunControl
from helpmig_tui.project import open_project, project_status
from helpmig_tui.settings import resolve_paths
from helpmig_tui.state.models import JournalEntry, Run
from tests.support.exactly_once import assert_exactly_once
from tests.support.cli import serving

ROOT = Path(__file__).resolve().parents[2]
LATER = "2031-01-0{} 10:00:00"  # after everything the sample holds
NEW_CUSTOMER, NEW_TICKET = 950001, 950001


def _plain(text: str | None) -> str:
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", text or "").split())


class Desk:
    """The sample's SQLite database, changed with SQL as SmarterTrack itself would."""

    def __init__(self, path: str) -> None:
        self.path = path

    def rows(self, sql: str, *args: object) -> list[tuple]:
        with sqlite3.connect(self.path) as conn:
            return conn.execute(sql, args).fetchall()

    def run(self, sql: str, *args: object) -> None:
        conn = sqlite3.connect(self.path)
        with conn:
            conn.execute(sql, args)
        conn.close()

    def message(self, mid: int, ticket: int, when: str, text: str, *, agent: int | None = None) -> None:
        who = agent if agent is not None else self.rows("SELECT UserIdCustomer FROM st_Tickets WHERE TicketId = ?",
                                                        ticket)[0][0]
        self.run("INSERT INTO st_TicketMessages (TicketMessageId, TicketId, DateReceivedUtc, UserIdFrom, BodyText, "
                 "BodyHtml, MessageDirection, IsDraft, IsFirstMessageOfTicket) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)",
                 mid, ticket, when, who, text, f"<p>{text}</p>", 1 if agent is not None else 0)


def _conversation_ids(demo) -> dict[str, str]:
    with open_project(demo.paths, demo.project) as store, store.reader() as session:
        return dict(session.execute(select(JournalEntry.source_key, JournalEntry.intercom_id).where(
            JournalEntry.kind == "conversation", JournalEntry.status == "done")).all())


def _admin_of(demo, desk: Desk, agent: int) -> str:
    email = desk.rows("SELECT Email FROM st_Users WHERE UserId = ?", agent)[0][0]
    return next(a["id"] for a in demo.sandbox.store.all("admins") if a["email"] == email)


def _kill_at(demo, child: list[subprocess.Popen], nth: int) -> None:
    """SIGKILL the delta's process when the sandbox receives its `nth` reply: the write is
    applied, its answer never read (the hard case for a resume)."""
    decide, seen = demo.sandbox.faults.decide, [0]

    def deciding(method: str, path: str) -> str | None:
        if method == "POST" and path.endswith("/reply"):
            seen[0] += 1
            if seen[0] == nth and child:
                os.kill(child[0].pid, signal.SIGKILL)
        return decide(method, path)

    demo.sandbox.faults.decide = deciding  # type: ignore[method-assign]


def _killed_delta(demo) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HELPMIG_INTERCOM_TOKEN": DEFAULT_TOKEN}
    child: list[subprocess.Popen] = []
    _kill_at(demo, child, nth=2)
    with serving(demo):
        child.append(subprocess.Popen([sys.executable, "-m", "helpmig_tui", "--home", str(demo.paths.home), "delta",
                                       demo.project], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        child[0].wait(timeout=600)
        child[0].stderr.close()
    assert child[0].returncode == -signal.SIGKILL


async def test_delta_keeps_intercom_true_to_a_changing_source_and_rollback_takes_it_all(tmp_path):
    paths = resolve_paths(tmp_path / "home")
    demo = prepare_demo(paths, "smartertrack", 30)
    desk = Desk(demo.source_factory().settings.sqlite)  # type: ignore[attr-defined]
    before = demo.sandbox.state.counts()
    async with demo.session() as session:
        assert (await session.load(LoadOptions(sample=5, accept_gates=True))).status == "done"
        assert (await session.rollback(sample_only=True).run()).clean
        assert (await session.load(LoadOptions(accept_gates=True))).status == "done"
    loaded = _conversation_ids(demo)

    # -- the desk lives on ---------------------------------------------------------------
    live = "IsDeleted = 0 AND IsSpam = 0"
    with_messages = f"{live} AND TicketId IN (SELECT TicketId FROM st_TicketMessages) AND UserIdCustomer IN " \
                    "(SELECT UserId FROM st_Users WHERE IsDeleted = 0)"
    opened = [t for (t,) in desk.rows(f"SELECT TicketId FROM st_Tickets WHERE {with_messages} AND TicketStatusId IN "
                                      "(1, 2) ORDER BY TicketId") if f"tickets:{t}" in loaded]
    closed = [t for (t,) in desk.rows(f"SELECT TicketId FROM st_Tickets WHERE {with_messages} AND TicketStatusId = 3 "
                                      "ORDER BY TicketId") if f"tickets:{t}" in loaded]
    silent = [t for (t,) in desk.rows(f"SELECT TicketId FROM st_Tickets WHERE {live} AND TicketId NOT IN "
                                      "(SELECT TicketId FROM st_TicketMessages)") if f"tickets:{t}" in loaded]
    assert len(opened) >= 5 and len(closed) >= 3 and silent, (opened, closed, silent)
    replied_open, to_close, edited, marked_deleted, erased = opened[:5]
    replied_closed, reopened, spammed = closed[:3]
    quiet = silent[0]  # loaded with no message at all
    agents = [a for (a,) in desk.rows("SELECT UserId FROM st_Users WHERE IsQueue = 0 AND IsDeleted = 0 AND UserId IN "
                                      "(SELECT UserId FROM st_UsersInGroups) ORDER BY UserId")]
    agents = [a for a in agents if any(x["email"] == desk.rows("SELECT Email FROM st_Users WHERE UserId = ?", a)[0][0]
                                       for x in demo.sandbox.store.all("admins"))]
    old_agent = desk.rows("SELECT UserId FROM st_Tickets WHERE TicketId = ?", edited)[0][0]
    new_agent = next(a for a in agents if a != old_agent)
    renamed = desk.rows("SELECT UserIdCustomer FROM st_Tickets WHERE TicketId = ?", replied_open)[0][0]

    desk.message(990001, replied_open, LATER.format(1), "Still broken after the update, please call me")
    desk.message(990002, replied_closed, LATER.format(1), "Thanks, one more question about this")
    desk.message(990003, quiet, LATER.format(1), "Here is what happens, step by step")
    desk.message(990004, replied_open, LATER.format(2), "We will call you this afternoon", agent=new_agent)
    desk.run("UPDATE st_Tickets SET Subject = 'Edited subject after the load', TicketPriorityId = 4, UserId = ? "
             "WHERE TicketId = ?", new_agent, edited)
    desk.run("UPDATE st_Tickets SET TicketStatusId = 3 WHERE TicketId = ?", to_close)
    desk.run("UPDATE st_Tickets SET TicketStatusId = 1 WHERE TicketId = ?", reopened)
    desk.run("UPDATE st_Users SET DisplayName = 'Renamed During The Window' WHERE UserId = ?", renamed)
    desk.run("INSERT INTO st_Users (UserId, UserName, Email, DisplayName, IsDeleted, IsQueue, DateCreatedUtc) "
             "VALUES (?, 'newbie', 'new.customer@window.example', 'New Customer', 0, 0, ?)", NEW_CUSTOMER, LATER.format(1))
    desk.run("INSERT INTO st_Tickets (TicketId, TicketNumber, DateOpenedUtc, TicketPriorityId, TicketStatusId, "
             "DepartmentId, UserId, UserIdCustomer, Subject, IsDeleted, IsSpam) VALUES (?, 'NEW-0001', ?, 3, 1, 1, ?, ?, "
             "'Opened during the window', 0, 0)", NEW_TICKET, LATER.format(2), new_agent, NEW_CUSTOMER)
    desk.message(990005, NEW_TICKET, LATER.format(2), "My new problem, first message")
    desk.message(990006, NEW_TICKET, LATER.format(3), "Looking into it", agent=new_agent)
    desk.run("UPDATE st_Tickets SET IsDeleted = 1, DateDeletedUtc = ? WHERE TicketId = ?", LATER.format(1),
             marked_deleted)
    desk.run("DELETE FROM st_TicketMessages WHERE TicketId = ?", erased)
    desk.run("DELETE FROM st_Tickets WHERE TicketId = ?", erased)

    # -- delta 1: killed in the middle of its replies, then resumed ---------------------------
    _killed_delta(demo)
    async with demo.session() as session:
        waiting = await session.delta()
    assert waiting.status == "gated" and not waiting.clean
    gone = {key: status for _, key, _, status, _ in waiting.delta.gone}
    assert gone == {str(marked_deleted): "pending", str(erased): "pending"}  # listed, none touched yet
    conversations = {c["id"]: c for c in demo.sandbox.store.all("conversations")}
    assert conversations[loaded[f"tickets:{marked_deleted}"]]["state"] == "open"
    async with demo.session() as session:
        closing = await session.delta(LoadOptions(gone="close"))
    assert closing.status == "done", closing.problems()
    assert {r.run_id for r in closing.reports} == {r.run_id for r in waiting.reports}  # one run, resumed
    did = closing.delta.totals()
    assert did["gone"] == 2 and did["waiting"] == 0
    assert_exactly_once(paths, demo)
    ids = _conversation_ids(demo)
    conversations = {c["id"]: c for c in demo.sandbox.store.all("conversations")}

    def thread(ticket: int) -> list[tuple[str, str]]:
        c = conversations[ids[f"tickets:{ticket}"]]
        return [(p["author"]["type"], _plain(p["body"])) for p in c["parts"] if p["part_type"] in ("comment", "note")]

    def state(ticket: int) -> str:
        return conversations[ids[f"tickets:{ticket}"]]["state"]

    # messages: each exactly once, last, in order, by the right kind of author
    assert thread(replied_open)[-2:] == [("user", "Still broken after the update, please call me"),
                                         ("admin", "We will call you this afternoon")]
    assert thread(replied_closed)[-1] == ("user", "Thanks, one more question about this")
    assert thread(quiet) == [("user", "Here is what happens, step by step")]  # a reply, not lost as an "opening"
    assert thread(NEW_TICKET) == [("admin", "Looking into it")]
    assert _plain(conversations[ids[f"tickets:{NEW_TICKET}"]]["source"]["body"]) == "My new problem, first message"
    # state, assignee, title and priority as the source has them now
    assert state(replied_closed) == "closed"  # Intercom reopened it for the customer's reply; closed again
    assert state(to_close) == "closed" and state(reopened) == "open" and state(replied_open) == "open"
    assert state(marked_deleted) == state(erased) == "closed"  # gone from the source: closed, as chosen
    edited_c = conversations[ids[f"tickets:{edited}"]]
    assert edited_c["title"] == "Edited subject after the load"
    assert str(edited_c["admin_assignee_id"]) == str(_admin_of(demo, desk, new_agent))
    urgent = desk.rows("SELECT DisplayName FROM st_TicketPriorities WHERE TicketPriorityId = 4")[0][0]
    assert "urgent" in str(edited_c["custom_attributes"].get("st_priority", "")).casefold(), urgent
    assert conversations[ids[f"tickets:{NEW_TICKET}"]]["state"] == "open"
    contacts = {c["email"]: c for c in demo.sandbox.store.all("contacts") if c.get("email")}
    assert contacts["new.customer@window.example"]["name"] == "New Customer"
    renamed_email = desk.rows("SELECT Email FROM st_Users WHERE UserId = ?", renamed)[0][0].casefold()
    assert contacts[renamed_email]["name"] == "Renamed During The Window"
    # the delta's report counts what it did, not the project's totals
    lines = {line.object: line for line in closing.delta.lines}
    assert lines["tickets"].created == 1 and lines["tickets"].updated >= 6
    assert lines["messages"].appended == 6  # every new message once; the killed try's writes count for this run
    assert lines["tickets"].state_changes >= 4  # closed, reopened, re-assigned, closed again after a reply
    assert lines["customers"].created == 1 and lines["customers"].updated == 1
    assert lines["tickets"].unchanged > 0
    report = closing.delta.path.read_text(encoding="utf-8")
    assert "Gone from the source" in report and "deleted in the source" in report

    # -- delta 2: a ticket marked spam, deleted from Intercom as chosen ----------------------
    desk.run("UPDATE st_Tickets SET IsSpam = 1 WHERE TicketId = ?", spammed)
    async with demo.session() as session:
        deleting = await session.delta(LoadOptions(gone="delete"))
    assert deleting.status == "done"
    assert [(key, status) for _, key, _, status, _ in deleting.delta.gone] == [(str(spammed), "deleted")]
    assert demo.sandbox.store.get("conversations", ids[f"tickets:{spammed}"]) is None
    assert deleting.delta.totals()["appended"] == deleting.delta.totals()["created"] == 0, [l for l in deleting.delta.lines if l.created]

    # -- delta 3: nothing changed, nothing written ---------------------------------------------
    operations = dict(demo.sandbox.middleware.operations)
    async with demo.session() as session:
        idle = await session.delta(LoadOptions(gone="delete"))
    assert idle.status == "done"
    t = idle.delta.totals()
    assert (t["created"], t["updated"], t["appended"], t["state_changes"]) == (0, 0, 0, 0)
    assert t["unchanged"] > 0
    called = {op: n - operations.get(op, 0) for op, n in demo.sandbox.middleware.operations.items()
              if n != operations.get(op, 0)}
    reads = ("retrieve", "list", "search", "show", "find", "identify", "get", "lisDataAttributes")  # Intercom's spelling
    writes = {op: n for op, n in called.items() if not op.startswith(reads)}
    assert not writes, writes

    # -- validation sees every state change, whatever its sample -------------------------------
    async with demo.sandbox.client() as intercom:  # someone reopens a conversation the delta closed
        await intercom.conversations.open(ids[f"tickets:{to_close}"], "991267001")
    async with demo.session() as session:
        check = await session.validate(sample=1, seed=3)
    assert not check.passed
    assert any(m.key == str(to_close) and m.field == "state" for m in check.mismatches)

    # -- rollback, interrupted once, then resumed: nothing the project created stays ----------
    control = RunControl()

    class StopAfterConversations(NullObserver):
        def event(self, level: str, message: str) -> None:
            if "conversation rows handled" in message:
                control.cancel()

    async with demo.session(StopAfterConversations(), control=control) as session:
        try:
            await session.rollback(sample_only=False, include_changed=True).run()
        except RunCancelled:
            pass
        else:
            raise AssertionError("the rollback was not interrupted")
    with open_project(paths, demo.project) as store:
        status = project_status(store)
        assert status.stage == "rolling_back" and status.last_run.kind == "rollback" and status.last_run.interrupted
        first_run = status.last_run.id
    async with demo.session() as session:
        rolled = await session.rollback(sample_only=False, include_changed=True).run()
    assert rolled.clean and not rolled.changed and rolled.run_id == first_run
    after = demo.sandbox.state.counts()
    for kind in ("contacts", "conversations", "articles", "collections", "custom_objects", "tags"):
        assert after[kind] == before[kind], kind
    assert after["companies"] == before["companies"]
    ours = [a for a in demo.sandbox.store.all("data_attributes") if a.get("description") == "created by helpmig"]
    assert ours and all(a.get("archived") for a in ours)  # the sample run's ones too
    with open_project(paths, demo.project) as store:
        assert project_status(store).stage == "rolled_back"
        with store.reader() as session:
            runs = list(session.scalars(select(Run).where(Run.kind == "rollback")))
        from helpmig_tui.pipeline.summary import write_summary

        summary, _ = write_summary(store, paths.reports_dir(demo.project))
    assert [r.status for r in runs] == ["done", "done"]  # the sample's, and this one (resumed)
    text = summary.read_text(encoding="utf-8")
    assert "Stage: rolled_back" in text and "| rollback | done |" in text
