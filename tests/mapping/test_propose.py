"""The built-in proposer: accuracy on the corpus, determinism, and its evidence rules."""

from __future__ import annotations

from connectors.base import FieldType, ObjectRole
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence, SourceEvidence
from helpmig_tui.mapping.model import AttributeTarget, NoteTarget, SkipTarget, StandardTarget
from helpmig_tui.mapping.propose import propose_map
from helpmig_tui.mapping.standard import TargetKind as K
from helpmig_tui.mapping.transforms import DateToUnix, HtmlToText, Join, Truncate, ValueMap
from tests.support.mapping_corpus import PLATFORMS, evaluate, load_cases

T = FieldType


def f(name, type_=T.STRING, *samples, **kw):
    return FieldEvidence(name, type_, samples=tuple(samples), **kw)


def source(*objects, platform="smart-export"):
    return SourceEvidence(platform, tuple(objects))


def test_standard_schemas_are_mapped_at_least_95_percent_right():
    results = evaluate(use_defaults=True)
    fields, objects = results["standard"]
    assert fields.total > 350 and objects.total >= 50
    assert fields.accuracy >= 0.95, "\n".join(fields.misses)
    assert objects.accuracy == 1.0, "\n".join(objects.misses)
    for variant in ("renamed", "custom"):
        assert results[variant][0].total >= 25
        assert results[variant][0].accuracy >= 0.9, "\n".join(results[variant][0].misses)


def test_names_and_values_alone_still_map_most_fields():
    """The control: no default maps at all, only names, structure and sampled values."""
    fields, _ = evaluate(use_defaults=False)["standard"]
    assert fields.accuracy >= 0.85, "\n".join(fields.misses)


def test_the_proposal_is_deterministic_and_complete():
    for platform in PLATFORMS:
        case = load_cases(platform)[0]
        first, second = propose_map(case.evidence), propose_map(case.evidence)
        assert first.model_dump() == second.model_dump()
        assert first.hash() == second.hash()
        for om in first.active_objects():
            ev = case.evidence.object(om.object)
            assert [fm.field for fm in first.fields_of(om.object)] == [x.name for x in ev.fields]
        for fm in first.fields:
            assert fm.status == "proposed" and fm.reason and 0 < fm.confidence <= 1
        assert all(o.status == "proposed" and o.reason for o in first.objects)


def test_status_values_become_an_open_closed_value_map_from_the_audits_values():
    tickets = ObjectEvidence("tickets", ObjectRole.CONVERSATION, (
        f("id"), f("requester_email", T.EMAIL, "a@b.com"), f("created_at", T.DATETIME),
        f("status", T.STRING, top_values=(("New", 5), ("Waiting on customer", 3), ("Resolved", 9), ("Frozen", 1)),
          distinct=4, filled=18),
    ), count=18, key="id")
    m = propose_map(source(tickets))
    status = m.field_map("tickets", "status")
    assert isinstance(status.target, StandardTarget) and status.target.field == "state"
    vm = next(t for t in status.transforms if isinstance(t, ValueMap))
    assert vm.mapping == {"New": "open", "Waiting on customer": "open", "Resolved": "closed"}
    assert "Frozen" in status.reason  # what the rules could not read is said


def test_contact_references_prefer_declared_keys_and_say_how_they_match():
    tickets = ObjectEvidence("tickets", ObjectRole.CONVERSATION, (
        f("id"), f("opened", T.DATETIME), f("customer_ref", T.STRING, "12", references="people"),
        f("customer_name", T.STRING, "Ann Lee"), f("customer_email", T.EMAIL, "ann@acme.com"),
    ), count=10, key="id", created_field="opened")
    people = ObjectEvidence("people", ObjectRole.CONTACT, (f("id"), f("mail", T.EMAIL, "ann@acme.com")), count=3)
    m = propose_map(source(tickets, people, platform="memory"))
    contact = m.field_map("tickets", "customer_ref")
    assert contact.target == StandardTarget(field="contact", refers_to="people")
    assert m.field_map("tickets", "opened").target.field == "created_at"
    for dup in ("customer_name", "customer_email"):
        fm = m.field_map("tickets", dup)
        assert isinstance(fm.target, SkipTarget) and "customer_ref" in fm.reason
    assert m.coverage() == {}


def test_custom_fields_are_typed_from_their_values():
    tickets = ObjectEvidence("tickets", ObjectRole.CONVERSATION, (
        f("id"), f("requester", T.EMAIL, "a@b.com"), f("opened", T.DATETIME),
        f("cf_seats", T.STRING, "5", "12", custom=True),
        f("cf_renewal", T.STRING, "31.01.2024", "15.03.2025", custom=True),
        f("cf_tier", T.STRING, "Gold", "Silver", custom=True, distinct=3, filled=90, top_values=(("Gold", 30),)),
        f("cf_story", T.STRING, "x" * 40, custom=True, longest=3000),
        f("cf_code", T.STRING, "A" * 40, custom=True, longest=400),
        f("never", T.STRING, filled=0),
    ), count=100, key="id")
    customers = ObjectEvidence("customers", ObjectRole.CONTACT, (
        f("id"), f("cf_code", T.STRING, "A" * 40, custom=True, longest=400),
    ), count=100)
    m = propose_map(source(tickets, customers, platform="memory"))
    seats = m.field_map("tickets", "cf_seats")
    assert seats.target == AttributeTarget(name="memory_seats", data_type="integer")
    assert "custom field" in seats.reason and seats.confidence >= 0.8
    renewal = m.field_map("tickets", "cf_renewal")
    assert renewal.target.data_type == "date"
    assert renewal.transforms == [DateToUnix(formats=["%d.%m.%Y"])]
    assert m.field_map("tickets", "cf_tier").target.data_type == "options"
    story = m.field_map("tickets", "cf_story")
    assert isinstance(story.target, NoteTarget) and "long text" in story.reason
    never = m.field_map("tickets", "never")
    assert isinstance(never.target, SkipTarget) and never.reason == "empty in all 100 records: nothing to move"
    code = m.field_map("customers", "cf_code")  # a note would do too; here: the cut is flagged
    assert isinstance(code.target, NoteTarget) or any(isinstance(t, Truncate) for t in code.transforms)


def test_long_text_attributes_from_the_default_map_are_truncated_with_a_tag():
    ev = load_cases("itsm365")[0].evidence
    incidents = ev.object("incidents")
    long_category = [x if x.name != "category_name" else FieldEvidence(
        "category_name", T.STRING, samples=("Hardware",), longest=900) for x in incidents.fields]
    changed = source(*(o if o.name != "incidents" else ObjectEvidence(
        o.name, o.role, tuple(long_category), count=o.count, key=o.key, created_field=o.created_field)
        for o in ev.objects), platform="itsm365")
    fm = propose_map(changed).field_map("incidents", "category_name")
    assert fm.target.name == "itsm_category"
    assert fm.transforms == [Truncate(max_length=255, tag="helpmig-truncated")]


def test_first_and_last_names_are_joined_when_there_is_no_full_name():
    people = ObjectEvidence("people", ObjectRole.CONTACT, (
        f("id"), f("FirstName", T.STRING, "Ann"), f("LastName", T.STRING, "Lee"), f("Mail", T.EMAIL, "a@b.com"),
    ), count=4)
    m = propose_map(source(people, platform="memory"))
    first = m.field_map("people", "FirstName")
    assert first.target.field == "name" and first.transforms == [Join(fields=["LastName"])]
    assert isinstance(m.field_map("people", "LastName").target, SkipTarget)


def test_two_default_fields_for_one_standard_field_keep_the_first_and_fall_back(monkeypatch):
    from helpmig_tui.mapping import propose as propose_module
    from helpmig_tui.mapping.defaults import DefaultMap

    defaults = DefaultMap.model_validate({
        "platform": "memory", "label": "Memory", "attribute_prefix": "mem",
        "objects": {"tickets": {"role": "conversation", "target": "conversation", "fields": {
            "status_id": {"standard": "state", "value_map": {"1": "open", "2": "closed"}},
            "status": {"standard": "state", "value_map": "state"},
        }}},
    })
    monkeypatch.setattr(propose_module, "load_default_map", lambda platform: defaults)
    tickets = ObjectEvidence("tickets", ObjectRole.CONVERSATION, (
        f("id", T.INTEGER), f("status_id", T.INTEGER, "1"),
        f("status", T.STRING, "Open", "Closed", distinct=2, filled=20, top_values=(("Open", 10), ("Closed", 10))),
        f("customer_email", T.EMAIL, "a@b.com"), f("opened", T.DATETIME),
    ), count=20, key="id", created_field="opened")
    m = propose_map(source(tickets, platform="memory"))
    assert m.field_map("tickets", "status_id").target.field == "state"
    status = m.field_map("tickets", "status")
    assert not isinstance(status.target, StandardTarget) and "state already comes from another field" in status.reason
    assert m.field_map("tickets", "customer_email").target.field == "contact"


def test_html_bodies_get_html_to_text_but_articles_keep_their_html():
    tickets = ObjectEvidence("tickets", ObjectRole.CONVERSATION, (
        f("id"), f("description", T.STRING, "<p>Hi</p>", "plain"), f("opened", T.DATETIME),
        f("requester", T.EMAIL, "a@b.com"),
    ), count=5, key="id")
    articles = ObjectEvidence("articles", ObjectRole.ARTICLE, (f("id"), f("title"), f("content", T.HTML, "<p>x</p>")),
                              count=5)
    m = propose_map(source(tickets, articles, platform="memory"))
    assert m.field_map("tickets", "description").transforms == [HtmlToText()]
    assert m.field_map("articles", "content").transforms == []


def test_the_operator_can_choose_another_target_for_a_record_object():
    case = load_cases("itsm365")[0]
    m = propose_map(case.evidence, targets={"problems": K.CONVERSATION})
    om = m.object_map("problems")
    assert om.target is K.CONVERSATION and om.confidence == 1.0 and "chosen by the operator" in om.reason
    assert om.options.placeholder_contact == "problems@helpmig.invalid"  # problems have no requester
    assert m.field_map("problems", "title").target.field == "title"
    assert m.field_map("problems", "created").target.field == "created_at"
    assert "problems" not in m.coverage()


def test_progress_is_reported_per_object():
    case = load_cases("infraon")[0]
    steps = []
    propose_map(case.evidence, progress=lambda step, done, total: steps.append((step, done, total)))
    assert steps[0][1:] == (0, len(case.evidence.objects))
    assert steps[-1] == ("proposal ready", len(case.evidence.objects), len(case.evidence.objects))


def test_name_parts_are_names_and_last_login_is_not_one():
    people = ObjectEvidence("people", ObjectRole.CONTACT, (
        f("id"), f("full_name", T.STRING, "Ann Lee"), f("last_name", T.STRING, "Lee"),
        f("last_login_at", T.DATETIME), f("first_response_at", T.DATETIME),
    ), count=4)
    m = propose_map(source(people, platform="memory"))
    assert m.field_map("people", "full_name").target.field == "name"
    last = m.field_map("people", "last_name")
    assert isinstance(last.target, SkipTarget) and last.reason == "the full name comes from full_name"
    assert m.field_map("people", "last_login_at").target.field == "last_seen_at"
    assert "full name" not in m.field_map("people", "first_response_at").reason
