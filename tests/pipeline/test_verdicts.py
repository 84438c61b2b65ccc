"""Verdicts that cannot say "done" when data is missing: the gate, the load's result and
validation, against a sandbox that refuses what a workspace may refuse, and after someone
changed migrated data in Intercom."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpmig_tui.demo import prepare_demo
from helpmig_tui.mapping.apply import SOURCE_ID_ATTRIBUTE
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.pipeline.session import LoadRefused
from helpmig_tui.project import open_project
from helpmig_tui.settings import resolve_paths
from helpmig_tui.state.models import JournalEntry, Project


def _demo(tmp_path, tickets=20, share=0.02):
    """A demo project held to an operator's default share of rejections (2%)."""
    demo = prepare_demo(resolve_paths(tmp_path / "home"), "smartertrack", tickets)
    with open_project(demo.paths, demo.project) as store, store.session() as session:
        row = session.get(Project, 1)
        row.settings = {**(row.settings or {}), "max_rejected": share}
    return demo


def _journal(demo, kind):
    with open_project(demo.paths, demo.project) as store, store.reader() as session:
        return list(session.scalars(select(JournalEntry).where(JournalEntry.kind == kind)))


async def test_all_contacts_refused_stop_the_gate_and_fail_validation(tmp_path):
    demo = _demo(tmp_path)
    demo.sandbox.faults.refuse("POST", "/contacts", message="Contacts cannot be created in this workspace",
                               exact=True)
    async with demo.session() as session:
        gated = await session.load(LoadOptions())
    assert gated.status == "gated" and not gated.clean
    assert any("contacts" in p for p in gated.problems())
    async with demo.session() as session:
        forced = await session.load(LoadOptions(accept_gates=True))
        result = await session.validate(sample=100)
    assert forced.status == "done" and not forced.clean  # --yes goes past the gate, never to "clean"
    assert demo.sandbox.store.count("contacts") == 0
    assert not result.passed
    problem = next(p for p in result.count_problems if p.startswith("customers:"))
    rejected = [e for e in _journal(demo, "contact") if e.status == "rejected"]
    assert f"{len(rejected)} of {len(rejected)} records are not in Intercom" in problem
    assert "intercom.refused" in problem
    assert "nothing to check" not in result.summary()


async def test_a_few_refused_conversations_fail_validation_by_name(tmp_path):
    demo = _demo(tmp_path, tickets=40)
    demo.sandbox.faults.refuse("POST", "/conversations", share=0.05, exact=True)
    async with demo.session() as session:
        loaded = await session.load(LoadOptions(accept_gates=True))
        result = await session.validate(sample=100)
    refused = demo.sandbox.faults.injected["refuse"]
    assert refused > 0 and not loaded.clean
    assert not result.passed
    counts = [c for c in result.counts if c.not_in_intercom.get("rejected: intercom.refused")]
    assert sum(c.not_in_intercom["rejected: intercom.refused"] for c in counts) == refused  # chats and tickets
    for count in counts:
        problem = next(p for p in count.problems if "not in Intercom" in p)
        numbers = {e.label for e in _journal(demo, "conversation") if e.code == "intercom.refused"
                   and e.object == count.object}
        assert any(n in problem for n in numbers)  # named by the numbers people know


async def test_validation_names_a_changed_title_author_and_attribute(tmp_path):
    demo = prepare_demo(resolve_paths(tmp_path / "home"), "smartertrack", 20)
    async with demo.session() as session:
        await session.load(LoadOptions(accept_gates=True))
        before = await session.validate(sample=100)
    assert before.passed, before.summary()

    store = demo.sandbox.store
    admins = [a["id"] for a in store.all("admins")]
    target = None
    for c in store.all("conversations"):
        by_admin = [p for p in c["parts"] if p.get("part_type") == "comment" and p["author"]["type"] == "admin"]
        attrs = [k for k, v in c.get("custom_attributes", {}).items()
                 if isinstance(v, str) and v and not k.startswith(SOURCE_ID_ATTRIBUTE)]
        if by_admin and attrs and c.get("title"):
            target = c, by_admin[0], attrs[0]
            break
    assert target is not None
    conversation, part, attr = target
    other = next(a for a in admins if str(a) != str(part["author"]["id"]))
    conversation["title"] = "Someone renamed this"
    part["author"] = {**part["author"], "id": other}
    conversation["custom_attributes"][attr] = conversation["custom_attributes"][attr] + " (changed)"
    store.put("conversations", conversation)

    async with demo.session() as session:
        after = await session.validate(sample=100)
    key = next(e.source_key.split(":", 1)[1] for e in _journal(demo, "conversation")
               if e.intercom_id == str(conversation["id"]))
    named = {m.field for m in after.mismatches if m.key == key}
    assert not after.passed
    assert "title" in named and f"custom:{attr}" in named
    assert any(f.endswith("written by") for f in named)


async def test_status_follows_a_rollback(tmp_path):
    demo = prepare_demo(resolve_paths(tmp_path / "home"), "smartertrack", 10)
    async with demo.session() as session:
        await session.load(LoadOptions(accept_gates=True))
    with open_project(demo.paths, demo.project) as store:
        assert store.project().stage in ("loaded", "partially_loaded")
    async with demo.session() as session:
        await session.rollback(sample_only=False).run()
    with open_project(demo.paths, demo.project) as store:
        assert store.project().stage == "rolled_back"


async def test_a_sample_of_one_phase_waits_for_the_phases_before_it(tmp_path):
    """The session refuses it (the wizard's runs go through it too), naming the command
    that loads every phase."""
    demo = prepare_demo(resolve_paths(tmp_path / "home"), "smartertrack", 10)
    async with demo.session() as session:
        with pytest.raises(LoadRefused, match=rf"match, schema, companies, contacts loaded first .*`helpmig load "
                                              rf"{demo.project} --sample 2`"):
            await session.load(LoadOptions(sample=2, phases=("conversations",)))
    assert demo.sandbox.store.count("conversations") == 0


async def test_a_resumed_sample_keeps_sending_to_its_test_contact(tmp_path):
    """A sample stopped half-way and resumed without naming the test contact again goes on
    to the contact it started with, never to the customers' own."""
    from helpmig_tui.demo import prepare_demo
    from helpmig_tui.pipeline.context import LoadOptions
    from helpmig_tui.pipeline.control import RunControl
    from helpmig_tui.settings import resolve_paths
    from tests.support.stops import stopped_after

    demo = prepare_demo(resolve_paths(tmp_path), "smartertrack", 10)
    control = RunControl()
    with stopped_after(1, control):
        async with demo.session(control=control) as session:
            first = await session.load(LoadOptions(sample=3, test_contact="qa@acme.example", accept_gates=True,
                                                   concurrency=1))
    assert first.status == "cancelled"
    written = len(list(demo.sandbox.store.all("conversations")))
    async with demo.session() as session:
        assert (await session.load(LoadOptions(sample=3, accept_gates=True))).status == "done"
    conversations = list(demo.sandbox.store.all("conversations"))
    assert len(conversations) > written
    assert {c["source"]["author"]["email"] for c in conversations} == {"qa@acme.example"}
