"""The LLM proposer against a local fake endpoint: merging, redaction, and every failure."""

from __future__ import annotations

import json

import httpx
import pytest

from helpmig_tui import redact
from helpmig_tui.mapping.evidence import evidence_from_store
from helpmig_tui.mapping.llm import LlmProposer
from helpmig_tui.mapping.llm_prompt import redact_value
from helpmig_tui.mapping.propose import propose_map
from helpmig_tui.mapping.workflow import propose_for_project
from helpmig_tui.settings import LlmSettings

KEY = "sk-test-5e3c9a7d1f"
SETTINGS = LlmSettings(enabled=True, base_url="http://llm.local/v1", model="tiny", timeout_s=30)


class FakeEndpoint:
    """An OpenAI-compatible chat-completions endpoint; `answer(payload)` decides the reply."""

    def __init__(self, answer):
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = json.loads(request.content)
        payload = json.loads(body["messages"][1]["content"])
        result = self.answer(payload, body)
        if isinstance(result, httpx.Response):
            return result
        content = result if isinstance(result, str) else json.dumps(result)
        return httpx.Response(200, json={"choices": [{"message": {"role": "assistant", "content": content}}]})

    def payloads(self) -> list[dict]:
        return [json.loads(json.loads(r.content)["messages"][1]["content"]) for r in self.requests]


def run(store, answer, key=KEY):
    fake = FakeEndpoint(answer)
    evidence = evidence_from_store(store)
    builtin = propose_map(evidence)
    with LlmProposer(SETTINGS, key, transport=httpx.MockTransport(fake)) as llm:
        refined = llm.refine(evidence, builtin)
    return builtin, refined, fake


def echo(payload, body):
    """Agrees with every current proposal."""
    return {"fields": [{"field": f["field"], "target": f["current_proposal"]["target"], "confidence": 0.9,
                        "reason": "looks right"} for f in payload["fields"]]}


def test_agreement_raises_confidence_and_disagreement_respects_strong_evidence(store):
    def answer(payload, body):
        out = echo(payload, body)
        if payload["object"] == "customers":
            for entry in out["fields"]:
                if entry["field"] == "name":  # built-in 0.90: strong, stays
                    entry.update(target={"type": "attribute", "name": "st_full_name", "data_type": "string"},
                                 reason="a display label")
                if entry["field"] == "cf_notes":  # built-in 0.70 note: the LLM's choice wins, capped
                    entry.update(target={"type": "attribute", "name": "st_notes", "data_type": "string"},
                                 transforms=[{"op": "truncate", "max_length": 255}], confidence=0.99,
                                 reason="short enough")
        return out

    builtin, refined, fake = run(store, answer)
    assert refined.proposer == "llm"
    assert {p["object"] for p in fake.payloads()} == {"orgs", "customers", "tickets", "messages", "notes",
                                                      "articles", "categories"}  # not the inventory
    subject = refined.field_map("tickets", "subject")
    assert subject.reason.startswith("LLM agrees: looks right; built-in: ")
    assert subject.confidence == max(builtin.field_map("tickets", "subject").confidence, 0.9)
    name = refined.field_map("customers", "name")
    assert name.target.field == "name" and "(LLM suggested attribute st_full_name (string): a display label)" in name.reason
    notes = refined.field_map("customers", "cf_notes")
    assert notes.target.name == "st_notes" and notes.confidence == 0.8
    assert notes.transforms[0].max_length == 255
    assert notes.reason == "LLM: short enough (built-in proposed note “Cf notes”)"
    assert all(fm.status == "proposed" for fm in refined.fields)


def test_what_leaves_the_machine_is_redacted_and_the_key_rides_only_in_the_header(store):
    _, _, fake = run(store, echo)
    request = fake.requests[0]
    assert request.url == "http://llm.local/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    bodies = b"".join(r.content for r in fake.requests).decode()
    assert KEY not in bodies
    for personal in ("ann@acme.com", "jo@x.org", "ANN@acme.com", "Ann again", "No Mail", "Álvarez", "Ãlvarez"):
        assert personal not in bodies, personal
    customers = next(p for p in fake.payloads() if p["object"] == "customers")
    fields = {f["field"]: f for f in customers["fields"]}
    assert set(fields["email"]["samples"]) <= {"<email>", "not-an-email"}
    assert fields["name"]["samples"] == ["<name>"] * len(fields["name"]["samples"])
    assert fields["cf_notes"]["samples"] == ["<text, 300 chars>"]
    messages = next(p for p in fake.payloads() if p["object"] == "messages")
    assert all(s.startswith("<text, ") for s in next(f for f in messages["fields"] if f["field"] == "body")["samples"])
    body = json.loads(request.content)
    assert body["model"] == "tiny" and body["temperature"] == 0 and body["response_format"] == {"type": "json_object"}


def test_redaction_of_single_values():
    assert redact_value("call +44 20 7946 0000 or mail jo.smith@corp.example.com", False) == "call <phone> or mail <email>"
    assert redact_value("Printer 2 on floor 3", False) == "Printer 2 on floor 3"
    assert redact_value("ticket from Anna Petrova today", False) == "ticket from <name> today"
    assert redact_value("anything", True) == "<name>"
    assert redact_value("x" * 200, False) == "<text, 200 chars>"


@pytest.mark.parametrize("reply, reason", [
    ("I think the subject is the title!", "LLM failed (the answer is not the JSON asked for)"),
    ("```json\n{\"nothing\": true}\n```", "LLM failed (the answer has no list of fields)"),
    (httpx.Response(500, text="boom"), "LLM failed (the endpoint answered HTTP 500)"),
    (httpx.Response(200, json={"error": "no choices"}), "LLM failed (the answer is not the JSON asked for)"),
])
def test_a_garbage_answer_keeps_the_builtin_proposal_and_says_so(store, reply, reason):
    builtin, refined, _ = run(store, lambda payload, body: reply)
    for fm in refined.fields_of("tickets"):
        before = builtin.field_map("tickets", fm.field)
        assert fm.target == before.target and fm.confidence == before.confidence
        assert fm.reason == f"{reason}; built-in: {before.reason}"


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
    assert reasons["org_id"].startswith("LLM answer does not fit (contact has no standard field 'title'")
    assert reasons["cf_notes"].startswith("LLM answer invalid (target.attribute.name: Value error, attribute name")
    for fm in refined.fields_of("customers"):
        assert fm.target == builtin.field_map("customers", fm.field).target
        assert fm.reason.endswith("; built-in: " + builtin.field_map("customers", fm.field).reason)
    assert refined.field_map("tickets", "subject").reason.startswith("LLM agrees")


def test_a_missing_field_in_the_answer_is_named(store):
    def answer(payload, body):
        out = echo(payload, body)
        out["fields"] = [e for e in out["fields"] if e["field"] != "subject"]
        return out

    _, refined, _ = run(store, answer)
    assert refined.field_map("tickets", "subject").reason.startswith("LLM gave no answer for this field; built-in: ")


def test_timeouts_and_unreachable_endpoints_fall_back(store):
    def slow(payload, body):
        raise httpx.ReadTimeout("timed out")

    _, refined, _ = run(store, slow)
    assert refined.field_map("tickets", "subject").reason.startswith("LLM failed (no answer within 30 s); built-in: ")

    def down(payload, body):
        raise httpx.ConnectError("connection refused")

    _, refined, _ = run(store, down)
    assert refined.field_map("orgs", "name").reason.startswith(
        "LLM failed (cannot reach http://llm.local/v1: ConnectError); built-in: ")


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


def test_the_key_never_reaches_the_store_and_is_masked_in_text(store, paths, audited):
    evidence_key = "sk-live-" + "7" * 24

    def leaky(payload, body):
        return httpx.Response(500, text=f"bad key {evidence_key}")

    fake = FakeEndpoint(leaky)
    with LlmProposer(SETTINGS, evidence_key, transport=httpx.MockTransport(fake)) as llm:
        version = propose_for_project(store, refine=llm.refine)
    assert version.map.proposer == "llm"
    assert evidence_key not in json.dumps(version.map.model_dump())
    assert evidence_key.encode() not in paths.state_file(audited).read_bytes()
    assert redact.redact(f"token {evidence_key}") == "token ****"
