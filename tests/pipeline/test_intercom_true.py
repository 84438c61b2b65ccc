"""Only requests Intercom accepts: the loader against the strict sandbox.

Each test provokes a situation where a careless loader sends what Intercom refuses (a name
another model holds, a value outside an attribute's options, a reply dated before the
thread's last part, a refused write sent again on resume, a write in doubt) and checks
that the loader does not: the suite's fixture fails any test whose sandbox recorded a
violation, and the tests count the calls themselves where the issue is waste.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import select

from connectors.intercom.models import (
    ConversationAttributeCreate,
    ConversationAttributeOption,
    DataAttributeCreate,
    DataAttributeOption,
)
from helpmig_tui.demo import prepare_demo
from helpmig_tui.mapping.apply import SOURCE_ID_ATTRIBUTE
from helpmig_tui.mapping.model import AttributeTarget, FieldMap, MigrationMap, ObjectMap, ObjectOptions
from helpmig_tui.mapping.schema_plan import plan_schema
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.mapping.transforms import ValueMap
from helpmig_tui.mapping.versions import confirm, latest, skip_field
from helpmig_tui.pipeline.attributes import AttributeBook, existing_attributes_of
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.project import open_project
from helpmig_tui.settings import resolve_paths
from helpmig_tui.state.models import JournalEntry
from tests.support.exactly_once import assert_exactly_once


def _demo(tmp_path, platform="smartertrack", tickets=20, **sandbox):
    return prepare_demo(resolve_paths(tmp_path / "home"), platform, tickets, **sandbox)


def _journal(demo, kind):
    with open_project(demo.paths, demo.project) as store, store.reader() as session:
        return list(session.scalars(select(JournalEntry).where(JournalEntry.kind == kind)))


async def test_a_name_another_model_holds_is_settled_before_the_load(tmp_path):
    demo = _demo(tmp_path)
    async with demo.sandbox.client() as intercom:  # the customer's workspace has a company attribute of that name
        await intercom.data_attributes.create(DataAttributeCreate(name=SOURCE_ID_ATTRIBUTE, model="company",
                                                                  data_type="string"))
    async with demo.session() as session:
        assert (await session.load(LoadOptions(accept_gates=True))).status == "done"
    contacts = list(demo.sandbox.store.all("contacts"))
    assert contacts and all(f"{SOURCE_ID_ATTRIBUTE}_contact" in c["custom_attributes"] for c in contacts
                            if ":email:" not in c["external_id"])  # walk-ins (known by an email only) carry none
    companies = list(demo.sandbox.store.all("companies"))
    assert companies and all(SOURCE_ID_ATTRIBUTE in c["custom_attributes"] for c in companies)
    with open_project(demo.paths, demo.project) as store:
        names = store.project().settings["attribute_names"]
    assert names[f"contact:{SOURCE_ID_ATTRIBUTE}"] == f"{SOURCE_ID_ATTRIBUTE}_contact"
    assert demo.sandbox.report()["violations"] == 0


async def test_values_outside_an_attributes_options_get_the_option_first(tmp_path):
    demo = _demo(tmp_path, tickets=1)
    async with demo.sandbox.client() as intercom:
        data = await intercom.data_attributes.create(DataAttributeCreate(
            name="tier", model="contact", data_type="options",
            options=[DataAttributeOption(value="gold"), DataAttributeOption(value="silver")]))
        listed = await intercom.conversation_attributes.create(ConversationAttributeCreate(
            name="urgency", data_type="list", options=[ConversationAttributeOption(label="High")]))
        existing = await existing_attributes_of(intercom)
        mmap = MigrationMap(platform="memory", objects=[
            ObjectMap(object="people", target=TargetKind.CONTACT), ObjectMap(object="tickets", target=TargetKind.CONVERSATION)],
            fields=[FieldMap(object="people", field="t", target=AttributeTarget(name="tier", data_type="options"),
                             transforms=[ValueMap(mapping={"g": "gold", "s": "silver"}, default="bronze")]),
                    FieldMap(object="tickets", field="u", target=AttributeTarget(name="urgency", data_type="options"),
                             transforms=[ValueMap(mapping={"h": "High", "l": "Low"})])])
        book = AttributeBook(plan_schema(mmap, existing), intercom)
        assert book.slot("contact", "tier").id == str(data.id) and book.slot("conversation", "urgency").id == str(listed.id)
        values, dropped = await book.values("contact", {"tier": "bronze"})
        assert values == {"tier": "bronze"} and not dropped
        values, dropped = await book.values("conversation", {"urgency": "Low"})
        assert values == {"urgency": "Low"} and not dropped
        tier = next(a for a in await intercom.data_attributes.list("contact") if a.name == "tier")
        assert set(tier.options) == {"gold", "silver", "bronze"}
        assert (await intercom.conversation_attributes.list())[-1].labels == ["High", "Low"]
        # a custom object instance takes strings only, whatever the map's type
        calls = MigrationMap(platform="memory", objects=[
            ObjectMap(object="calls", target=TargetKind.CUSTOM_OBJECT, options=ObjectOptions(custom_object_type="Call"))],
            fields=[FieldMap(object="calls", field="n", target=AttributeTarget(name="minutes", data_type="integer")),
                    FieldMap(object="calls", field="d", target=AttributeTarget(name="done", data_type="boolean"))])
        values, dropped = AttributeBook(plan_schema(calls, existing)).coerce(
            "custom_object:Call", {"minutes": 12, "done": True})
        assert values == {"minutes": "12", "done": "true"} and not dropped


async def test_a_refused_write_is_not_sent_again_on_resume(tmp_path):
    demo = _demo(tmp_path)
    demo.sandbox.faults.refuse("POST", "/contacts", message="Contacts cannot be created in this workspace")
    async with demo.session() as session:
        first = await session.load(LoadOptions(accept_gates=True))
    assert first.status == "done"
    refused = demo.sandbox.report()["operations"]["CreateContact"]
    rejected = [e for kind in ("contact", "walkin_contact") for e in _journal(demo, kind)
                if e.status == "rejected" and e.code == "intercom.refused"]  # not those with no valid email
    assert refused > 0 and len(rejected) == refused  # each contact asked once, even when many tickets need it
    assert all("Contacts cannot be created" in e.last_error for e in rejected)
    async with demo.session() as session:
        await session.load(LoadOptions(accept_gates=True))
    assert demo.sandbox.report()["operations"]["CreateContact"] == refused  # none sent again
    # a contact whose record changed in the source is tried again, the others are not
    database = demo.source_factory().settings.sqlite  # type: ignore[attr-defined]
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE st_Users SET DisplayName = 'Changed' WHERE UserId = "
                     "(SELECT MIN(UserIdCustomer) FROM st_Tickets WHERE UserIdCustomer IS NOT NULL)")
    conn.close()
    async with demo.session() as session:
        await session.load(LoadOptions(accept_gates=True))
    assert demo.sandbox.report()["operations"]["CreateContact"] == refused + 1


async def test_a_write_in_doubt_is_settled_in_the_same_run(tmp_path):
    """Applied then failed, behind a lagging search index: found on read-back, not sent twice.
    Failed before it applied: found absent once the lag has passed, and sent again."""
    demo = _demo(tmp_path, tickets=12, search_lag=2)
    for kind in ("error_after", "drop_after", "error_before"):
        demo.sandbox.faults.plan(kind, method="POST", path="/conversations", exact=True)
    async with demo.session() as session:
        result = await session.load(LoadOptions(search_lag=5))
    assert result.status == "done", result.message
    assert demo.sandbox.faults.injected["error_after"] == demo.sandbox.faults.injected["error_before"] == 1
    conversations = next(r for r in result.reports if r.phase == "conversations")
    assert sum(o.in_doubt + o.failed for o in conversations.objects) == 0
    assert not [e for e in _journal(demo, "conversation") if e.status == "in_flight"]
    assert_exactly_once(demo.paths, demo)


async def test_what_stays_in_doubt_waits_with_its_messages(tmp_path):
    """A conversation that could not be settled keeps its messages waiting (failed, with
    the reason), never rejected as orphans; the run is not clean; a resume completes it."""
    demo = _demo(tmp_path, tickets=6)
    demo.sandbox.faults.plan("error_before", method="POST", path="/conversations", times=3, exact=True)
    async with demo.session() as session:
        gated = await session.load(LoadOptions(search_lag=0.5, concurrency=1))  # three faults on one conversation
    assert gated.status == "gated"
    conversations = next(r for r in gated.reports if r.phase == "conversations")
    assert sum(o.in_doubt for o in conversations.objects) == 1
    waiting = [e for e in _journal(demo, "part") if e.status == "failed"]
    assert waiting and all("waiting for its conversation" in e.last_error for e in waiting)
    assert not [e for e in _journal(demo, "part") if e.status == "rejected" and "not in the source" in (e.last_error or "")
                and e.parent_key is None and e.source_key.split(":")[1] in {w.parent_key for w in waiting}]
    async with demo.session() as session:
        assert (await session.load(LoadOptions(search_lag=0.5))).status == "done"
    assert_exactly_once(demo.paths, demo)


async def test_rollback_archives_the_attributes_the_project_created_and_only_those(tmp_path):
    demo = _demo(tmp_path, tickets=10)
    async with demo.sandbox.client() as intercom:  # the customer's own attribute, which the map happens to use
        await intercom.conversation_attributes.create(ConversationAttributeCreate(name=SOURCE_ID_ATTRIBUTE,
                                                                                  data_type="string"))
    async with demo.session() as session:
        await session.load(LoadOptions(sample=3, accept_gates=True))
        await session.rollback(sample_only=True).run()  # keeps the schema for the full load
        await session.load(LoadOptions(accept_gates=True))
        report = await session.rollback(sample_only=False).run()
    assert report.clean, report.failed
    live = [a for kind in ("data_attributes", "conversation_attributes") for a in demo.sandbox.store.all(kind)
            if not a.get("archived")]
    assert [a["name"] for a in live] == [SOURCE_ID_ATTRIBUTE]  # the one that was there before
    assert report.archived.get("data_attribute", 0) >= 2 and report.archived.get("conversation_attribute", 0) >= 1


async def test_a_refused_write_is_sent_again_after_the_map_changes(tmp_path):
    demo = _demo(tmp_path, tickets=6)
    demo.sandbox.faults.refuse("POST", "/contacts", message="Contacts cannot be created in this workspace")
    async with demo.session() as session:
        await session.load(LoadOptions(accept_gates=True))
    refused = demo.sandbox.report()["operations"]["CreateContact"]
    assert refused > 0
    with open_project(demo.paths, demo.project) as store:  # the operator changes the confirmed map
        before = latest(store)
        ticket_field = next(f for f in before.map.fields if f.object == "tickets" and f.status != "skipped"
                            and isinstance(f.target, AttributeTarget))
        skip_field(store, ticket_field.object, ticket_field.field)
        after = confirm(store)
        assert after.sealed and after.version.hash != before.hash
    async with demo.session() as session:
        await session.load(LoadOptions(accept_gates=True))
    assert demo.sandbox.report()["operations"]["CreateContact"] == 2 * refused  # each asked once more


async def test_a_refused_attribute_creation_leaves_its_values_out_of_later_records(tmp_path):
    """Never a record refused for a custom attribute that does not exist: the values of an
    attribute Intercom would not create are left out (and said), the records still land."""
    demo = _demo(tmp_path, tickets=8)
    demo.sandbox.faults.refuse("POST", "/data_attributes", message="Data attributes cannot be created here")
    async with demo.session() as session:
        result = await session.load(LoadOptions(accept_gates=True))
    assert result.status == "done", result.message
    assert demo.sandbox.report()["operations"]["createDataAttribute"] > 0  # asked, and refused
    assert not list(demo.sandbox.store.all("data_attributes"))
    written = [*demo.sandbox.store.all("contacts"), *demo.sandbox.store.all("companies")]
    assert written and all(not (c.get("custom_attributes") or {}) for c in written)
    refusals = [e for kind in ("company", "contact", "walkin_contact", "conversation")
                for e in _journal(demo, kind) if e.status == "rejected"]
    assert not [e for e in refusals if "does not exist" in (e.last_error or "")]
    assert not [e for e in _journal(demo, "contact") if e.status == "rejected" and e.code == "intercom.refused"]


async def test_rollback_reports_an_attribute_it_could_not_archive_and_why(tmp_path):
    demo = _demo(tmp_path, tickets=4)
    async with demo.session() as session:
        await session.load(LoadOptions(accept_gates=True))
        demo.sandbox.faults.refuse("PUT", "/data_attributes", message="Attributes are locked by an admin")
        report = await session.rollback(sample_only=False).run()
    assert not report.clean
    failed = [(kind, why) for kind, _, why in report.failed]
    assert failed and all(kind == "data_attribute" and "Attributes are locked by an admin" in why
                          for kind, why in failed)
    live = [a for a in demo.sandbox.store.all("data_attributes") if not a.get("archived")]
    assert len(live) == len(failed)  # what it says it could not archive is what is still active
    assert f"{len(failed)} failed" in report.summary()
