"""The write-ahead journal: in_flight before the call, outcomes after, crash leaves a trace."""

from __future__ import annotations

import pytest

from helpmig_tui.pipeline.journal import Intent, Journal, payload_hash
from helpmig_tui.project import create_project


@pytest.fixture
def store(paths, tmp_path):
    with create_project(paths, "p", "trackit", {"sqlite": str(tmp_path / "t.db")}) as store:
        yield store


def test_begin_is_durable_before_any_outcome(store):
    journal = Journal(store, run_id=None)
    journal.begin([Intent("contact", "u1", "contacts", payload_hash({"a": 1})), Intent("contact", "u2", "contacts")])
    # a second process (or the resumed one) sees both as in flight: the crash case
    fresh = Journal(store, run_id=None)
    assert [(e.source_key, e.status, e.attempts) for e in fresh.in_flight()] == [("u1", "in_flight", 1), ("u2", "in_flight", 1)]
    assert fresh.get("contact", "u1").payload_hash == payload_hash({"a": 1})


def test_outcomes_are_buffered_until_flush(store):
    journal = Journal(store, run_id=None)
    journal.begin([Intent("contact", "u1", "contacts"), Intent("contact", "u2", "contacts"), Intent("contact", "u3", "contacts")])
    journal.done("contact", "u1", "66a1")
    journal.failed("contact", "u2", "HTTP 500 from Intercom")
    journal.rejected("contact", "u3", "no email and no external id")
    assert journal.unflushed == 3
    assert Journal(store, None).get("contact", "u1").status == "in_flight"  # not yet committed
    journal.flush()
    entries = Journal(store, None).entries("contact", ["u1", "u2", "u3", "u9"])
    assert {k: (e.status, e.intercom_id, e.last_error) for k, e in entries.items()} == {
        "u1": ("done", "66a1", None),
        "u2": ("failed", None, "HTTP 500 from Intercom"),
        "u3": ("rejected", None, "no email and no external id"),
    }
    assert journal.counts() == {"contact": {"done": 1, "failed": 1, "rejected": 1}}


def test_retrying_counts_attempts_and_clears_the_error(store):
    journal = Journal(store, run_id=None)
    journal.begin([Intent("company", "c1", "companies")])
    journal.failed("company", "c1", "timeout")
    journal.begin([Intent("company", "c1", "companies")])  # begin flushes what was buffered
    entry = journal.get("company", "c1")
    assert (entry.status, entry.attempts, entry.last_error) == ("in_flight", 2, None)


def test_intercom_ids_are_looked_up_and_cached(store):
    journal = Journal(store, run_id=None)
    journal.begin([Intent("contact", "u1", "contacts")])
    journal.done("contact", "u1", "abc")
    journal.flush()
    other = Journal(store, None)
    assert other.intercom_id("contact", "u1") == "abc"
    assert other.intercom_id("contact", "nope") is None
    assert journal.intercom_id("contact", "u1") == "abc"


def test_parts_keep_their_conversation_and_order(store):
    journal = Journal(store, run_id=None)
    journal.begin([Intent("part", f"m{i}", "conversations", parent_key="t1", seq=i) for i in (2, 0, 1)])
    assert [e.source_key for e in journal.parts_of("t1")] == ["m0", "m1", "m2"]


def test_settled_rows_are_counted_once_per_object_and_outcome(store):
    journal = Journal(store, run_id=None)
    journal.settle("contact", "users:7", "skipped", "deleted at the source", "contacts", object="users")
    journal.settle("contact", "users:7", "skipped", "deleted at the source", "contacts", object="users")
    journal.settle("admin", "agents:1", "done", "", "match", object="agents", intercom_id="991", outcome="matched")
    journal.begin([Intent("contact", "users:8", "contacts", object="users")])
    journal.done("contact", "users:8", "c8", outcome="adopted")
    journal.flush()
    assert journal.counts("contacts") == {"contact": {"skipped": 1, "done": 1}}
    rows = [*journal.entries("contact", ["users:7", "users:8"]).values(), *journal.entries("admin", ["agents:1"]).values()]
    assert sorted((e.object, e.status, e.outcome) for e in rows) == [
        ("agents", "done", "matched"), ("users", "done", "adopted"), ("users", "skipped", None),
    ]
    assert journal.intercom_id("admin", "agents:1") == "991"
    assert journal.created(["contact", "admin"]) == []  # nothing here was created by us


def test_created_lists_done_writes_newest_first_and_rollback_marks_them(store):
    journal = Journal(store, run_id=None)
    journal.begin([Intent("contact", "u1", "contacts"), Intent("contact", "u2", "contacts"), Intent("tag", "vip", "schema")])
    for key, cid in (("u1", "a"), ("u2", "b")):
        journal.done("contact", key, cid)
    journal.done("tag", "vip", "t1")
    journal.flush()
    assert [e.intercom_id for e in journal.created(["contact"])] == ["b", "a"]
    journal.mark_rolled_back("contact", "u2")
    journal.flush()
    assert [e.intercom_id for e in journal.created(["contact"])] == ["a"]
    assert journal.intercom_id("contact", "u2") is None


def test_many_rows_in_one_begin(store):
    journal = Journal(store, run_id=None)
    journal.begin([Intent("contact", str(i), "contacts") for i in range(1200)])
    for i in range(1200):
        journal.done("contact", str(i), f"id{i}")
    journal.flush()
    assert journal.counts() == {"contact": {"done": 1200}}
    assert len(journal.entries("contact", [str(i) for i in range(0, 1200, 3)])) == 400


async def test_writers_in_the_same_turn_share_one_commit_and_none_returns_before_it(store):
    import asyncio

    journal = Journal(store, None)
    seen_committed: list[bool] = []

    async def writer(n: int) -> None:
        await journal.begin_grouped([Intent("contact", f"u{n}", "contacts")])
        entry = Journal(store, None).get("contact", f"u{n}")  # another reader: what is committed
        seen_committed.append(entry is not None and entry.status == "in_flight")

    before = journal.commits
    await asyncio.gather(*(writer(n) for n in range(20)))
    assert seen_committed == [True] * 20
    assert journal.commits - before == 1


def test_a_run_reads_its_own_outcomes_before_they_are_flushed(store):
    """A write refused or failed earlier in this run must not read as in flight, or it
    would be read back and sent again (seen with a split thread's continuation)."""
    journal = Journal(store, run_id=None)
    journal.begin([Intent("conversation", "t1#2", "conversations", parent_key="t1"),
                   Intent("part", "m7", "conversations", parent_key="t1", seq=7),
                   Intent("contact", "u1", "contacts")])
    journal.rejected("conversation", "t1#2", "Intercom refused it", stamp="s1")
    journal.failed("part", "m7", "HTTP 500")
    journal.done("contact", "u1", "66a1")
    assert journal.get("conversation", "t1#2").status == "rejected"
    assert {k: e.status for k, e in journal.children("t1", ["part"]).items()} == {("part", "m7"): "failed"}
    assert [e.status for e in journal.parts_of("t1")] == ["failed"]
    assert journal.counts() == {"conversation": {"rejected": 1}, "part": {"failed": 1}, "contact": {"done": 1}}


def test_reads_of_other_keys_leave_the_outcomes_buffered(store):
    journal = Journal(store, run_id=None)
    journal.begin([Intent("part", "m1", "conversations", parent_key="t1"), Intent("contact", "u1", "contacts")])
    journal.done("part", "m1", "p1")
    journal.done("contact", "u1", "66a1")
    commits = journal.commits
    assert journal.get("contact", "u2") is None
    assert journal.entries("part", ["m2", "m3"]) == {}
    assert journal.children("t2", ["part"]) == {}
    assert (journal.commits, journal.unflushed) == (commits, 2)  # the hot path's batching holds
    assert journal.get("contact", "u1").status == "done"
    assert (journal.commits, journal.unflushed) == (commits + 1, 0)
