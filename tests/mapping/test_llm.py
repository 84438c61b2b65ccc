"""The LLM proposer against a local stub endpoint (an in-process httpx transport, never the
network): good, malformed, slow, failing and absurd answers; the deadline and the circuit
breaker; its diff; and the request bodies checked for personal data."""

from __future__ import annotations

import json
import sqlite3

import httpx
import pytest

from connectors.base import FieldType, ObjectRole
from helpmig_tui import redact
from helpmig_tui.audit import run_audit
from helpmig_tui.mapping.evidence import FieldEvidence, ObjectEvidence, SourceEvidence, evidence_from_schema, evidence_from_store
from helpmig_tui.mapping.llm import LLM_CAP, LlmProposer
from helpmig_tui.mapping.llm_prompt import redact_value
from helpmig_tui.mapping.model import StandardTarget
from helpmig_tui.mapping.propose import propose_map
from helpmig_tui.mapping.summary import advice_lines
from helpmig_tui.mapping.workflow import propose_for_project
from helpmig_tui.settings import LlmSettings

KEY = "sk-test-5e3c9a7d1f"
SETTINGS = LlmSettings(enabled=True, base_url="http://llm.local/v1", model="tiny", timeout_s=30)


class VirtualClock:
    """Seconds that pass only when the stub endpoint says a request took them."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeEndpoint:
    """An OpenAI-compatible chat-completions endpoint; `answer(payload, body)` decides the
    reply; `seconds` is how long each request takes on the virtual clock."""

    def __init__(self, answer, clock: VirtualClock | None = None, seconds: float = 0.0):
        self.answer = answer
        self.clock = clock
        self.seconds = seconds
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.clock is not None:
            self.clock.now += self.seconds
        body = json.loads(request.content)
        payload = json.loads(body["messages"][1]["content"])
        result = self.answer(payload, body)
        if isinstance(result, httpx.Response):
            return result
        content = result if isinstance(result, str) else json.dumps(result)
        return httpx.Response(200, json={"choices": [{"message": {"role": "assistant", "content": content}}]})

    def payloads(self) -> list[dict]:
        return [json.loads(json.loads(r.content)["messages"][1]["content"]) for r in self.requests]

    def bodies(self) -> str:
        return b"".join(r.content for r in self.requests).decode()


def refine(evidence, answer, *, key=KEY, clock=None, seconds=0.0, deadline_s=60.0):
    fake = FakeEndpoint(answer, clock, seconds)
    builtin = propose_map(evidence)
    extra = {"clock": clock} if clock is not None else {}
    with LlmProposer(SETTINGS, key, transport=httpx.MockTransport(fake), deadline_s=deadline_s, **extra) as llm:
        refined = llm.refine(evidence, builtin)
    return builtin, refined, fake


def run(store, answer, **kw):
    return refine(evidence_from_store(store), answer, **kw)


def echo(payload, body):
    """Agrees with every current proposal, very sure of itself."""
    return {"fields": [{"field": f["field"], "target": f["current_proposal"]["target"], "confidence": 0.99,
                        "reason": "looks right"} for f in payload["fields"]]}


def test_agreement_never_raises_confidence_and_strong_rows_keep_their_target(store):
    def answer(payload, body):
        out = echo(payload, body)
        if payload["object"] == "customers":
            for entry in out["fields"]:
                if entry["field"] == "name":  # built-in 0.95 with values behind it: stays
                    entry.update(target={"type": "attribute", "name": "st_full_name", "data_type": "string"},
                                 reason="a display label")
                if entry["field"] == "cf_notes":  # built-in 0.75 note: the LLM's choice applies, below the bulk band
                    entry.update(target={"type": "attribute", "name": "st_notes", "data_type": "string"},
                                 transforms=[{"op": "truncate", "max_length": 255}], confidence=0.99,
                                 reason="short enough")
        return out

    builtin, refined, fake = run(store, answer)
    assert refined.proposer == "llm"
    assert {p["object"] for p in fake.payloads()} == {"orgs", "customers", "tickets", "messages", "notes",
                                                      "articles", "categories"}  # not the inventory
    for fm in refined.fields:
        before = builtin.field_map(fm.object, fm.field)
        assert fm.confidence <= before.confidence or fm.target != before.target, fm.key  # agreement adds nothing
    subject = refined.field_map("tickets", "subject")
    assert subject.reason.startswith("LLM agrees: looks right; built-in: ")
    assert subject.confidence == builtin.field_map("tickets", "subject").confidence
    name = refined.field_map("customers", "name")
    assert name.target.field == "name" and "LLM suggested attribute st_full_name (string), declined" in name.reason
    notes = refined.field_map("customers", "cf_notes")
    assert notes.target.name == "st_notes" and notes.confidence == LLM_CAP
    assert notes.transforms[0].max_length == 255
    assert notes.reason == "LLM: short enough (built-in proposed note “Cf notes”)"
    assert all(fm.status == "proposed" for fm in refined.fields)
    # the diff: what it changed and what it was refused, with its reasons
    applied = [a for a in refined.advice if a.applied]
    declined = [a for a in refined.advice if not a.applied]
    assert [(a.object, a.field) for a in applied] == [("customers", "cf_notes")]
    assert applied[0].before == "note “Cf notes”" and applied[0].after == "attribute st_notes (string) [truncate 255]"
    assert [(a.object, a.field, a.reason) for a in declined] == [("customers", "name", "a display label")]
    assert "evidence" in declined[0].why
    lines = advice_lines(refined)
    assert lines[0] == "The LLM changed 1 row; 1 change it asked for were declined"
    assert any("customers.cf_notes: note “Cf notes” → attribute st_notes (string) [truncate 255] (applied" in line
               for line in lines)


def test_absurd_answers_are_held_to_the_one_source_and_type_checks():
    tickets = ObjectEvidence("tickets", ObjectRole.CONVERSATION, (
        FieldEvidence("id", FieldType.INTEGER, samples=("1", "2"), filled=40),
        FieldEvidence("opened", FieldType.DATETIME, samples=("2024-01-01 10:00:00+00:00",), filled=40),
        FieldEvidence("requester_email", FieldType.EMAIL, samples=("a@b.example",), filled=40),
        FieldEvidence("headline", FieldType.STRING, samples=("Printer jams", "Mail is down"), filled=40),
        FieldEvidence("summary_text", FieldType.STRING, samples=("The printer on floor 2 jams on every job",),
                      filled=40, longest=60),
        FieldEvidence("site", FieldType.STRING, samples=("Leeds", "York"), filled=40, distinct=2,
                      top_values=(("Leeds", 20), ("York", 20))),
        FieldEvidence("caller_phone", FieldType.STRING, samples=("+44 20 7946 0000", "+44 113 496 0000"), filled=30),
        FieldEvidence("old_subject", FieldType.STRING, filled=0),
        FieldEvidence("mood", FieldType.STRING, samples=("grumpy", "fine"), filled=40, distinct=2,
                      top_values=(("grumpy", 20), ("fine", 20))),
    ), count=40, key="id", created_field="opened")
    evidence = SourceEvidence("memory", (tickets,))

    def answer(payload, body):
        out = {"fields": [{"field": f["field"], "target": f["current_proposal"]["target"], "confidence": 0.5,
                           "reason": "ok"} for f in payload["fields"]]}
        absurd = {
            "summary_text": {"type": "standard", "field": "title"},
            "site": {"type": "standard", "field": "title"},
            "old_subject": {"type": "standard", "field": "title"},
            "caller_phone": {"type": "standard", "field": "body"},
            "mood": {"type": "attribute", "name": "mood_score", "data_type": "integer"},
        }
        for entry in out["fields"]:
            if entry["field"] in absurd:
                entry.update(target=absurd[entry["field"]], confidence=0.95, reason="trust me")
        out["fields"].append({"field": "mood", "target": {"type": "standard", "field": "state"}, "confidence": 1,
                              "reason": "duplicate entry, ignored"})
        return out

    builtin, refined, _ = refine(evidence, answer)
    title_sources = [fm.field for fm in refined.fields_of("tickets")
                     if isinstance(fm.target, StandardTarget) and fm.target.field == "title"]
    assert len(title_sources) == 1  # never two sources for the title
    assert refined.doubled() == {}
    declined = {a.field: a.why for a in refined.advice if not a.applied}
    assert declined["old_subject"] == "old_subject is empty in every record"
    assert "values" in declined["caller_phone"]  # phone numbers are no message body
    assert declined["mood"] == "values look options, not integer"
    assert "already comes from" in declined[next(f for f in ("summary_text", "site") if f not in title_sources)]
    for fm in refined.fields:
        assert fm.confidence < 0.9 or fm.target == builtin.field_map(fm.object, fm.field).target


def test_a_phone_mapped_to_the_contact_email_is_declined():
    people = ObjectEvidence("people", ObjectRole.CONTACT, (
        FieldEvidence("id", FieldType.INTEGER, samples=("1",), filled=10),
        FieldEvidence("mobile", FieldType.STRING, samples=("+49 30 1234567", "0171 2345678"), filled=10),
    ), count=10, key="id")

    def answer(payload, body):
        return {"fields": [{"field": "mobile", "target": {"type": "standard", "field": "email"}, "confidence": 0.9,
                            "reason": "contact detail"}]}

    _, refined, _ = refine(SourceEvidence("memory", (people,)), answer)
    mobile = refined.field_map("people", "mobile")
    assert mobile.target == StandardTarget(field="phone")
    assert [(a.field, a.applied, a.why) for a in refined.advice] == [("mobile", False, "values are not email addresses")]


@pytest.mark.parametrize("reply, reason", [
    ("I think the subject is the title!", "the answer is not the JSON asked for"),
    ("```json\n{\"nothing\": true}\n```", "the answer has no list of fields"),
    (httpx.Response(500, text="boom"), "the endpoint answered HTTP 500"),
    (httpx.Response(200, json={"error": "no choices"}), "the answer is not the JSON asked for"),
])
def test_a_failure_stops_the_llm_after_one_request_and_keeps_the_builtin_proposal(store, reply, reason):
    builtin, refined, fake = run(store, lambda payload, body: reply)
    assert len(fake.requests) == 1  # the circuit breaker: nothing more is asked after the first failure
    first = fake.payloads()[0]["object"]
    for fm in refined.fields:
        before = builtin.field_map(fm.object, fm.field)
        assert fm.target == before.target and fm.confidence == before.confidence
        if fm.object == first:
            assert fm.reason == f"LLM failed ({reason}); built-in: {before.reason}"
        elif fm.object in {om.object for om in refined.active_objects()} and fm.object != "slas":
            assert fm.reason == f"LLM not asked (it failed on {first}: {reason}); built-in: {before.reason}"
    assert refined.advice == []


def test_a_slow_endpoint_is_cut_off_by_one_overall_deadline(store):
    clock = VirtualClock()
    builtin, refined, fake = run(store, echo, clock=clock, seconds=25.0, deadline_s=60.0)
    # 25 s, 50 s, then 10 s left for a request that takes 25: it counts as failed, nothing more is asked
    assert len(fake.requests) == 3 and clock.now == 75.0
    asked = [p["object"] for p in fake.payloads()]
    reasons = {fm.object: fm.reason for fm in refined.fields}
    assert reasons[asked[0]].startswith("LLM agrees") and reasons[asked[1]].startswith("LLM agrees")
    assert reasons[asked[2]].startswith("LLM failed (no answer within 10 s); built-in: ")
    left = {om.object for om in refined.active_objects()} - set(asked) - {"slas"}
    assert left and all(reasons[o].startswith(f"LLM not asked (it failed on {asked[2]}: no answer within 10 s)")
                        for o in left)


def test_the_deadline_alone_stops_the_requests(store):
    clock = VirtualClock()
    _, refined, fake = run(store, echo, clock=clock, seconds=20.0, deadline_s=40.0)
    assert len(fake.requests) == 2 and clock.now == 40.0
    assert any(fm.reason.startswith("LLM not asked (the 40 s allowed for the LLM had passed)") for fm in refined.fields)


def test_a_hanging_endpoint_times_out_once(store):
    def hang(payload, body):
        raise httpx.ReadTimeout("timed out")

    _, refined, fake = run(store, hang)
    assert len(fake.requests) == 1
    assert sum(fm.reason.startswith("LLM failed (no answer within 30 s)") for fm in refined.fields) >= 1

    def down(payload, body):
        raise httpx.ConnectError("connection refused")

    _, refined, fake = run(store, down)
    assert len(fake.requests) == 1
    assert any(fm.reason.startswith("LLM failed (cannot reach http://llm.local/v1: ConnectError)") for fm in refined.fields)
    said = advice_lines(refined)  # the operator is told, not left to find it in each row's reason
    unheard = sum(fm.reason.startswith(("LLM failed", "LLM not asked")) for fm in refined.fields)
    assert unheard and said[0] == (f"The LLM gave nothing for {unheard} of {len(refined.fields)} rows, which keep "
                                   "the built-in proposal: LLM failed (cannot reach http://llm.local/v1: ConnectError)")


def test_partial_and_wrongly_typed_answers_fall_back_field_by_field(store):
    def answer(payload, body):
        if payload["object"] != "customers":
            return echo(payload, body)
        return {"fields": [
            {"field": "email", "target": {"type": "standard", "field": "email"}, "confidence": "high"},
            {"field": "name", "target": {"type": "telepathy"}, "confidence": 0.5},
            {"field": "org_id", "target": {"type": "standard", "field": "title"}, "confidence": 0.7},
            {"field": "cf_notes", "target": {"type": "attribute", "name": "notes.v2!", "data_type": "string"},
             "confidence": 0.6},
            {"field": "no_such_field", "target": {"type": "skip"}, "confidence": 1},
            "not even an object",
        ]}

    builtin, refined, _ = run(store, answer)
    reasons = {fm.field: fm.reason for fm in refined.fields_of("customers")}
    assert reasons["email"].startswith("LLM answer invalid (confidence: Input should be a valid number")
    assert reasons["name"].startswith("LLM answer invalid (target: Input tag 'telepathy' found")
    assert "declined: contact has no standard field 'title'" in reasons["org_id"]
    assert reasons["cf_notes"].startswith("LLM answer invalid (target.attribute.name: Value error, attribute name")
    for fm in refined.fields_of("customers"):
        assert fm.target == builtin.field_map("customers", fm.field).target
    assert refined.field_map("tickets", "subject").reason.startswith("LLM agrees")


def test_a_missing_field_in_the_answer_is_named(store):
    def answer(payload, body):
        out = echo(payload, body)
        out["fields"] = [e for e in out["fields"] if e["field"] != "subject"]
        return out

    _, refined, _ = run(store, answer)
    assert refined.field_map("tickets", "subject").reason.startswith("LLM gave no answer for this field; built-in: ")


def test_a_server_that_refuses_response_format_is_asked_again_without_it(store):
    def picky(payload, body):
        if "response_format" in body:
            return httpx.Response(400, json={"error": "response_format not supported"})
        return echo(payload, body)

    _, refined, fake = run(store, picky)
    assert refined.field_map("tickets", "subject").reason.startswith("LLM agrees")
    objects = {p["object"] for p in fake.payloads()}
    assert len(fake.requests) == 2 * len(objects) == 14  # every object asked twice
    assert "response_format" not in json.loads(fake.requests[1].content)


def test_redaction_of_single_values():
    known = frozenset({"bob tech", "jo.smith@corp.example"})
    assert redact_value("call +44 20 7946 0000 or mail jo.smith@corp.example.com", False) == "call <phone> or mail <email>"
    assert redact_value("write to bad.address(at)corp.example or jo@x", False) == "write to <email> or <email>"
    assert redact_value("Printer 2 on floor 3", False) == "Printer 2 on floor 3"
    assert redact_value("ticket from Anna Petrova today", False) == "ticket from <name> today"
    assert redact_value("BOB TECH", False, known) == "<name>" and redact_value("bob tech", False, known) == "<name>"
    assert redact_value("JO.SMITH@CORP.EXAMPLE", False, known) == "<email>"
    assert redact_value("Waiting On Customer", False, known, category=True) == "Waiting On Customer"
    assert redact_value("anything", True) == "<name>"
    assert redact_value("x" * 200, False) == "<text, 200 chars>"


def test_the_request_bodies_of_a_real_desk_carry_no_personal_data_but_its_categories(tmp_path):
    from connectors.samples import generate_trackit
    from connectors.trackit import TrackItSource

    manifest = generate_trackit(tmp_path / "ti", tickets=60, seed=9, large_body=2000, attachment_files=False)
    with sqlite3.connect(manifest.database) as db:
        people = {v for (v,) in db.execute("SELECT FirstName || ' ' || LastName FROM Requestors")}
        people |= {v for (v,) in db.execute("SELECT Email FROM Requestors WHERE Email <> ''")}
        people |= {v for (v,) in db.execute("SELECT DISTINCT RESPONS FROM tasks WHERE RESPONS <> ''")}
        people |= {v for (v,) in db.execute("SELECT DISTINCT REQUEST FROM tasks WHERE REQUEST <> ''")}
        people |= {v for row in db.execute("SELECT FullName, Email, LoginId FROM HDUsers") for v in row if v}
        people |= {v for (v,) in db.execute("SELECT DISTINCT CreatedBy FROM TaskNote WHERE CreatedBy <> 'HELPDESK'")}
        categories = {v for (v,) in db.execute("SELECT Name FROM WorkOrderStatus")}
        categories |= {v for (v,) in db.execute("SELECT DISTINCT PRIORITY FROM tasks WHERE PRIORITY <> ''")}
        categories |= {v for (v,) in db.execute("SELECT GroupName FROM HDGroups")}
    with TrackItSource.from_options(manifest.options, lambda _n: None) as source:
        audit = run_audit(source)
        evidence = evidence_from_schema(source.describe(), {o.spec.name: o.profile for o in audit.objects})
    _, _, fake = refine(evidence, echo)
    sent = fake.bodies().casefold()
    leaked = sorted(p for p in people if p.casefold() in sent)
    assert leaked == [], leaked  # names in any case, emails valid or not, logins
    assert all(c.casefold() in sent for c in categories), categories  # statuses, priorities, groups go as they are
    assert "@" not in json.dumps([p["fields"] for p in fake.payloads()])


def test_the_key_rides_only_in_the_header_and_never_reaches_the_store(store, paths, audited):
    _, _, fake = run(store, echo)
    request = fake.requests[0]
    assert request.url == "http://llm.local/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in fake.bodies()
    body = json.loads(request.content)
    assert body["model"] == "tiny" and body["temperature"] == 0 and body["response_format"] == {"type": "json_object"}

    evidence_key = "sk-live-" + "7" * 24

    def leaky(payload, body):
        return httpx.Response(500, text=f"bad key {evidence_key}")

    endpoint = FakeEndpoint(leaky)
    with LlmProposer(SETTINGS, evidence_key, transport=httpx.MockTransport(endpoint)) as llm:
        version = propose_for_project(store, refine=llm.refine)
    assert version.map.proposer == "llm"
    assert evidence_key not in json.dumps(version.map.model_dump())
    assert evidence_key.encode() not in paths.state_file(audited).read_bytes()
    assert redact.redact(f"token {evidence_key}") == "token ****"
