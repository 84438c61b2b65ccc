"""The built-in proposer: accuracy on the corpus, determinism, and its evidence rules."""

from __future__ import annotations

import pytest

from connectors.base import FieldType, ObjectRole
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence, SourceEvidence
from helpmig_tui.mapping.model import AttributeTarget, NoteTarget, SkipTarget, StandardTarget
from helpmig_tui.mapping.propose import propose_map
from helpmig_tui.mapping.standard import TargetKind as K
from helpmig_tui.mapping.transforms import DateToUnix, HtmlToText, Join, Truncate, ValueMap
from helpmig_tui.mapping.value_maps import priority_map
from helpmig_tui.mapping.vocabulary import name_matches, segment, tokens
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


def test_a_field_empty_in_every_record_is_never_a_source():
    tickets = ObjectEvidence("tickets", ObjectRole.CONVERSATION, (
        f("id", T.INTEGER, "1", filled=50), f("subject", T.STRING, filled=0), f("description", T.TEXT, filled=0),
        f("opened", T.DATETIME, "2024-01-01 10:00:00+00:00", filled=50),
        f("requester_email", T.EMAIL, "a@b.example", filled=50),
    ), count=50, key="id", created_field="opened")
    m = propose_map(source(tickets, platform="memory"))
    for name in ("subject", "description"):
        fm = m.field_map("tickets", name)
        assert isinstance(fm.target, SkipTarget) and fm.reason.startswith("empty in all 50 records")


def test_a_prefix_is_a_word_not_a_verdict():
    tickets = ObjectEvidence("tickets", ObjectRole.CONVERSATION, (
        f("id", T.INTEGER, "1", filled=40), f("opened", T.DATETIME, "2024-01-01 10:00:00+00:00", filled=40),
        f("customer_id", T.INTEGER, "7", "9", references="customers", filled=40),
        f("customer_name", T.STRING, "Ann Lee", "Bo Chen", filled=40),
        f("Customer Phone", T.STRING, "+44 20 7946 0000", "+44 113 496 0001", filled=30, custom=True),
        f("agent_id", T.INTEGER, "3", references="agents", filled=40),
        f("Agent Remarks", T.STRING, "Called back twice, the customer will send the log files tomorrow morning",
          filled=20, longest=180, custom=True),
    ), count=40, key="id", created_field="opened")
    customers = ObjectEvidence("customers", ObjectRole.CONTACT, (f("id", T.INTEGER, "7", filled=5),), count=5)
    agents = ObjectEvidence("agents", ObjectRole.AGENT, (f("id", T.INTEGER, "3", filled=2),), count=2)
    m = propose_map(source(tickets, customers, agents, platform="memory"))
    assert isinstance(m.field_map("tickets", "customer_name").target, SkipTarget)  # only names the customer again
    phone = m.field_map("tickets", "Customer Phone")
    assert phone.target == AttributeTarget(name="memory_customer_phone", data_type="string")
    assert isinstance(m.field_map("tickets", "Agent Remarks").target, NoteTarget)


@pytest.mark.parametrize("name, kind, target", [
    ("Betreff", K.CONVERSATION, "title"), ("Sujet", K.CONVERSATION, "title"), ("Asunto", K.CONVERSATION, "title"),
    ("Oggetto", K.CONVERSATION, "title"), ("Assunto", K.CONVERSATION, "title"), ("Onderwerp", K.CONVERSATION, "title"),
    ("tkt_subj", K.CONVERSATION, "title"), ("Beschreibung", K.CONVERSATION, "body"), ("desc", K.CONVERSATION, "body"),
    ("Descripción", K.CONVERSATION, "body"), ("omschrijving", K.CONVERSATION, "body"),
    ("Telefono", K.CONTACT, "phone"), ("Téléphone", K.CONTACT, "phone"), ("telefoon", K.CONTACT, "phone"),
    ("cust_tel", K.CONTACT, "phone"), ("Handy", K.CONTACT, "phone"), ("Teléfono móvil", K.CONTACT, "phone"),
    ("Erstellt am", K.CONVERSATION, "created_at"), ("fecha_creacion", K.CONVERSATION, "created_at"),
    ("DataCriacao", K.CONVERSATION, "created_at"), ("aangemaakt_op", K.CONVERSATION, "created_at"),
    ("Priorität", K.CONVERSATION, "priority"), ("prio", K.CONVERSATION, "priority"),
    ("Estado", K.CONVERSATION, "state"), ("Statut", K.CONVERSATION, "state"),
    ("Anforderer", K.CONVERSATION, "contact"), ("solicitante", K.CONVERSATION, "contact"),
    ("Bearbeiter", K.CONVERSATION, "assignee"), ("assigned_tech", K.CONVERSATION, "assignee"),
    ("Gruppe", K.CONVERSATION, "team"), ("dept", K.CONVERSATION, "team"), ("org", K.CONVERSATION, "company"),
    ("Nombre", K.CONTACT, "name"), ("Naam", K.CONTACT, "name"), ("Correo", K.CONTACT, "email"),
])
def test_names_in_seven_languages_and_their_abbreviations_read_as_the_standard_field(name, kind, target):
    best = name_matches(kind, name)[0]
    assert best.field == target and best.score >= 0.8, (name, best)


def test_names_are_split_into_words_however_they_are_written():
    assert tokens("DateOpenedUtc") == ["date", "opened", "utc"]
    assert tokens("requestorid") == ["requestor", "id"]
    assert tokens("lastsyncutc") == ["last", "sync", "utc"]
    assert tokens("TKT_SUBJ") == ["ticket", "subject"]
    assert tokens("Fälligkeitsdatum") == ["due", "date"]
    assert segment("unbekanntwort") == ("unbekanntwort",)  # not coverable: left whole


def test_values_decide_over_a_declared_text_type():
    tickets = ObjectEvidence("tickets", ObjectRole.CONVERSATION, (
        f("id", T.INTEGER, "1", filled=60), f("opened", T.DATETIME, "2024-01-01 10:00:00+00:00", filled=60),
        f("location", T.TEXT, "Leeds", "York", filled=60, distinct=3, longest=6, custom=True,
          top_values=(("Leeds", 30), ("York", 20), ("Hull", 10))),
        f("callback", T.TEXT, "31.01.2024", "15.03.2025", filled=30, custom=True),
        f("constant", T.TEXT, "N", filled=60, distinct=1, top_values=(("N", 60),), custom=True),
        f("phone", T.TEXT, "+49 30 1234567", "0171 2345678", filled=40, custom=True),
        f("notes", T.TEXT, "The customer called again and asked for the invoice copy to be sent by mail",
          filled=20, custom=True, longest=90),
    ), count=60, key="id", created_field="opened")
    m = propose_map(source(tickets, platform="memory"))
    assert m.field_map("tickets", "location").target.data_type == "options"
    callback = m.field_map("tickets", "callback")
    assert callback.target.data_type == "date" and callback.transforms == [DateToUnix(formats=["%d.%m.%Y"])]
    assert isinstance(m.field_map("tickets", "constant").target, SkipTarget)
    assert m.field_map("tickets", "phone").target.data_type == "string"
    assert isinstance(m.field_map("tickets", "notes").target, NoteTarget)


def test_priorities_are_case_folded_and_intercoms_priority_is_a_target():
    values = (("URGENT", 5), ("Urgent", 9), (" urgent ", 1), ("1-Critical", 4), ("High", 10), ("Normal", 20),
              ("low", 7))
    tickets = ObjectEvidence("tickets", ObjectRole.CONVERSATION, (
        f("id", T.INTEGER, "1", filled=56), f("opened", T.DATETIME, "2024-01-01 10:00:00+00:00", filled=56),
        f("Prioridad", T.STRING, "Urgent", "High", filled=56, distinct=7, top_values=values),
    ), count=56, key="id", created_field="opened")
    m = propose_map(source(tickets, platform="memory"))
    fm = m.field_map("tickets", "Prioridad")
    assert fm.target == StandardTarget(field="priority")
    vm = next(t for t in fm.transforms if isinstance(t, ValueMap))
    assert vm.mapping == {"URGENT": "urgent", "Urgent": "urgent", " urgent ": "urgent", "1-Critical": "urgent",
                          "High": "high", "Normal": "medium", "low": "low"}
    # as an attribute (the seeds' choice for a platform's own priority) the spellings become one
    assert priority_map([v for v, _ in values]).mapping["URGENT"] == "Urgent"


def test_a_stand_in_takes_the_default_fields_target():
    ev = load_cases("trackit")[0].evidence
    tickets = ev.object("tickets")
    fields = [x if x.name != "priority" else FieldEvidence("priority", T.OPTIONS, filled=0) for x in tickets.fields]
    fields.append(FieldEvidence("PRIO", T.STRING, samples=("High", "Routine"), filled=90, distinct=4,
                                top_values=(("High", 30), ("Routine", 30), ("Urgent", 20), ("Critical", 10))))
    changed = source(*(o if o.name != "tickets" else ObjectEvidence(
        o.name, o.role, tuple(fields), count=100, key=o.key, created_field=o.created_field) for o in ev.objects),
        platform="trackit")
    fm = propose_map(changed).field_map("tickets", "PRIO")
    assert fm.target == AttributeTarget(name="ti_priority", data_type="options")
    assert fm.reason.startswith("stands in for priority (priority is empty in all 100 records)")
    assert fm.confidence < 0.9
