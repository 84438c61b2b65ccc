"""A resume that takes the finished phases' kept reports instead of walking them must leave
Intercom as an uninterrupted load does: the later phases read what the earlier ones set up
(attribute ids and names, admins and teams matched, tags, collections, companies), and a
skipped phase must not leave that out. Two sandboxes, one loaded in one go, the other cut
twice in its conversations phase and resumed; what they hold compared with every id
replaced by what names it."""

from __future__ import annotations

import re
from typing import Any

from helpmig_tui.demo import prepare_demo
from helpmig_tui.settings import resolve_paths
from tests.support.kept_phases import FINISHED, load, resumed_copy


def workspace(demo) -> dict[str, Any]:
    """What the sandbox holds that a later phase took from an earlier one, ids replaced by
    natural keys (an admin's email, a team's, tag's or collection's name, a company's id
    in the source, a contact's external id or email)."""
    store = demo.sandbox.store
    admins = {a["id"]: a["email"] for a in store.all("admins")}
    teams = {t["id"]: t["name"] for t in store.all("teams")}
    tags = {t["id"]: t["name"] for t in store.all("tags")}
    companies = {c["id"]: c["company_id"] for c in store.all("companies")}
    contacts = {c["id"]: c.get("external_id") or c.get("email") for c in store.all("contacts")}
    collections = {c["id"]: c for c in store.all("collections")}

    def path(collection_id: Any) -> tuple[str, ...]:
        trail: list[str] = []
        while collection_id is not None and str(collection_id) in collections:
            c = collections[str(collection_id)]
            trail.insert(0, c["name"])
            collection_id = c.get("parent_id")
        return tuple(trail)

    def conversation(c: dict[str, Any]) -> tuple[Any, ...]:
        body = re.sub(r"conversation \d+", "conversation #", c["source"]["body"])  # a segment names the one before
        return (c["created_at"], body, tuple(sorted(contacts[i] for i in c["contact_ids"])),
                c["state"], sorted(c["custom_attributes"].items()), admins.get(c.get("admin_assignee_id")),
                teams.get(c.get("team_assignee_id")), sorted(tags[t] for t in c["tag_ids"]),
                len(c["parts"]))

    def contact(c: dict[str, Any]) -> tuple[Any, ...]:
        return (contacts[c["id"]], c.get("role"), sorted(c["custom_attributes"].items()),
                sorted(companies[i] for i in c["company_ids"]), sorted(tags[t] for t in c["tag_ids"]))

    attributes = sorted((a.get("model", "conversation"), a["name"], a.get("data_type"),
                         sorted(map(str, a.get("options") or a.get("labels") or [])), bool(a.get("archived")))
                        for kind in ("data_attributes", "conversation_attributes") for a in store.all(kind)
                        if a.get("custom", True))
    return {
        "attributes": attributes,
        "companies": sorted((c["company_id"], c["name"], sorted(c["custom_attributes"].items()))
                            for c in store.all("companies")),
        "contacts": sorted(contact(c) for c in store.all("contacts")),
        "conversations": sorted(conversation(c) for c in store.all("conversations")),
        "articles": sorted((a["title"], a["state"], admins.get(str(a["author_id"])), path(a.get("parent_id")))
                           for a in store.all("articles")),
        "collections": sorted(path(c["id"]) for c in collections.values()),
        "tags": sorted(tags.values()),
    }


async def test_a_resume_past_kept_phases_leaves_intercom_as_a_load_in_one_go(cut_demo, tmp_path):
    whole = prepare_demo(resolve_paths(tmp_path / "whole"), "smartertrack", 30)
    _, status = await load(whole, cut=False)
    assert status == "done"

    cut = resumed_copy(cut_demo, tmp_path)  # cut in its conversations phase, then cut again on its first resume
    first, status = await load(cut, cut=True)
    assert status == "cancelled"
    assert first.kept() == set(FINISHED)  # the second run took the kept reports
    resumed, status = await load(cut, cut=False)
    assert status == "done" and resumed.kept() == set(FINISHED) and resumed.walked() == set()

    expected, found = workspace(whole), workspace(cut)
    # what the comparison rests on is there: custom attributes sent, assignees and companies set
    assert any(c[4] for c in expected["conversations"]) and any(c[5] for c in expected["conversations"])
    assert any(c[6] for c in expected["conversations"]) and any(c[2] and c[3] for c in expected["contacts"])
    assert any(a[3] for a in expected["articles"]) and expected["attributes"]
    for what in expected:
        assert found[what] == expected[what], what


async def test_a_teammate_invited_before_the_resume_takes_the_agent_the_fallback_admin_had(cut_demo, tmp_path):
    """The demo leaves one agent without a teammate (the fallback admin stands in). Invited
    in Intercom between the interruption and the resume, the agent is matched to it: the
    match phase depends on the workspace's teammates, not only on the map and decisions."""
    from helpmig_tui.mapping.apply import apply_map
    from helpmig_tui.mapping.standard import TargetKind
    from helpmig_tui.mapping.versions import latest
    from helpmig_tui.pipeline.prepare import objects_of
    from helpmig_tui.project import open_project
    from sqlalchemy import select

    from helpmig_tui.state.models import JournalEntry

    demo = resumed_copy(cut_demo, tmp_path)
    paths = demo.paths
    with open_project(paths, demo.project) as store:
        mmap = latest(store).map
    agent = objects_of(mmap, TargetKind.ADMIN)[0]
    with demo.source_factory() as source:
        last = [apply_map(mmap, agent, r) for batch in source.iter_records(agent) for r in batch][-1]
    assert last.standard["email"] not in {a["email"] for a in demo.sandbox.store.all("admins")}  # the one unmatched
    invited = demo.sandbox.add_admin(str(last.standard["name"]), str(last.standard["email"]))

    resumed, status = await load(demo, cut=False)
    assert status == "done" and resumed.walked() == set(FINISHED)  # the digest of the teammates changed
    with open_project(paths, demo.project) as store, store.reader() as session:
        matched = set(session.scalars(select(JournalEntry.intercom_id).where(JournalEntry.kind == "admin")))
    assert invited in matched
    assert any(c.get("admin_assignee_id") == invited or invited in c.get("teammate_ids", [])
               for c in demo.sandbox.store.all("conversations"))  # what was loaded after the resume is theirs


async def test_an_attribute_archived_before_the_resume_is_in_use_again(cut_demo, tmp_path):
    """An attribute the load made, archived in Intercom between the interruption and the
    resume: the schema plan says it is to be unarchived, so the schema phase is walked
    again (its kept report would leave the records' values going to an archived attribute)."""
    from connectors.intercom.models import DataAttributeUpdate

    demo = resumed_copy(cut_demo, tmp_path)
    made = next(a for a in demo.sandbox.store.all("data_attributes")
                if a.get("custom", True) and a["model"] == "contact" and a["name"] == "st_language")
    async with demo.sandbox.client() as client:
        await client.data_attributes.update(int(made["id"]), DataAttributeUpdate(archived=True))
    assert demo.sandbox.store.get("data_attributes", str(made["id"]))["archived"]

    resumed, status = await load(demo, cut=False)
    assert status == "done" and resumed.kept() == {"match"} and "schema" in resumed.walked()
    assert not demo.sandbox.store.get("data_attributes", str(made["id"])).get("archived")
