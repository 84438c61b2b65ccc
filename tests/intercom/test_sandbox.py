"""The sandbox behaves like Intercom where the loader depends on it."""

from __future__ import annotations

import base64

import httpx
import pytest

from connectors.intercom import BadRequest, Conflict, NotFound
from connectors.intercom.models import (
    AdminReply,
    ArticleCreate,
    CompanyUpsert,
    ContactCreate,
    ConversationAttributeCreate,
    ConversationCreate,
    ConversationUpdate,
    CustomObjectUpsert,
    DataAttributeCreate,
    DataAttributeOption,
    TicketContact,
    TicketCreate,
    all_of,
    any_of,
    where,
)
from connectors.intercom.sandbox import SANDBOX_URL, Sandbox
from connectors.intercom.sandbox.faults import FaultInjector
from connectors.intercom.session import Call

ADMIN = "991267001"


@pytest.fixture
def sandbox():
    return Sandbox()


@pytest.fixture
async def client(sandbox):
    async with sandbox.client() as intercom:
        yield intercom


@pytest.fixture
async def raw(sandbox):
    """Plain httpx on the sandbox, for what the typed client never sends."""
    headers = {"Authorization": "Bearer raw", "Intercom-Version": "2.16"}
    async with httpx.AsyncClient(base_url=SANDBOX_URL, transport=sandbox.transport(), headers=headers) as http:
        yield http


def conversation(contact_id: str, created_at: int | None = None, **extra) -> ConversationCreate:
    return ConversationCreate.model_validate({"from": {"type": "user", "id": contact_id}, "body": "help", "created_at": created_at, **extra})


async def test_tokens_are_checked_and_refusals_carry_no_rate_headers():
    sandbox = Sandbox(tokens=frozenset({"good"}), rate_limit=50)
    async with httpx.AsyncClient(base_url=SANDBOX_URL, transport=sandbox.transport()) as http:
        refused = await http.get("/me", headers={"Authorization": "Bearer bad"})
        missing = await http.get("/me")
        accepted = await http.get("/me", headers={"Authorization": "Bearer good", "Intercom-Version": "2.16"})
        wrong_version = await http.get("/me", headers={"Authorization": "Bearer good", "Intercom-Version": "9.9"})
    assert refused.status_code == missing.status_code == 401
    assert refused.json()["type"] == "error.list" and refused.json()["errors"][0] == {"code": "unauthorized", "message": "Access Token Invalid"}
    assert "x-ratelimit-limit" not in refused.headers
    assert accepted.status_code == 200 and accepted.headers["x-ratelimit-limit"] == "50"
    assert int(accepted.headers["x-ratelimit-remaining"]) == 49 and int(accepted.headers["x-ratelimit-reset"]) % 10 == 0
    assert wrong_version.status_code == 400 and wrong_version.json()["errors"][0]["code"] == "intercom_version_invalid"
    assert sandbox.violations.take() == {"spec.header": 1}  # refused and counted


async def test_the_window_refuses_with_429_and_counts_per_token():
    sandbox = Sandbox(rate_limit=2)
    async with httpx.AsyncClient(base_url=SANDBOX_URL, transport=sandbox.transport(), headers={"Intercom-Version": "2.16"}) as http:
        statuses = [(await http.get("/me", headers={"Authorization": "Bearer a"})).status_code for _ in range(3)]
        limited = await http.get("/me", headers={"Authorization": "Bearer a"})
        other_app = await http.get("/me", headers={"Authorization": "Bearer b"})
    assert statuses == [200, 200, 429]
    assert limited.json()["errors"][0] == {"code": "rate_limit_exceeded", "message": "Exceeded rate limit of 2 in 10_seconds"}
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert other_app.status_code == 200


async def test_duplicate_contacts_answer_409_with_the_existing_id(client):
    ann = await client.contacts.create(ContactCreate(external_id="st-1", email="ann@example.com"))
    by_external_id = await client.contacts.create(ContactCreate(external_id="st-1", email="other@example.com"))
    assert by_external_id.existing and by_external_id.id == ann.id
    bob = await client.contacts.create(ContactCreate(email="bob@example.com"))
    assert (await client.contacts.create(ContactCreate(email="BOB@example.com"))).id == bob.id  # users without external_id: by email
    twin = await client.contacts.create(ContactCreate(external_id="st-2", email="ann@example.com"))  # another user id, same email: allowed
    assert not twin.existing
    lead_a = await client.contacts.create(ContactCreate(role="lead", email="walk-in@example.com"))
    lead_b = await client.contacts.create(ContactCreate(role="lead", email="walk-in@example.com"))  # leads may share an email
    assert lead_a.id != lead_b.id
    assert await client.contacts.find_by_external_id("st-1") is not None
    await client.contacts.archive(ann.id)
    with pytest.raises(Conflict) as archived:
        await client.session.send(_create_call({"external_id": "st-1"}))
    assert archived.value.error_message == f"An archived contact matching those details already exists with id={ann.id}"


def _create_call(body):
    return Call("contacts.create", "POST", "/contacts", idempotent=False, body=body)


async def test_find_by_external_id_finds_users_not_leads(client):
    await client.contacts.create(ContactCreate(role="lead", external_id="lead-1"))
    assert await client.contacts.find_by_external_id("lead-1") is None
    assert await client.contacts.find_by_external_id("weird/id with spaces") is None
    user = await client.contacts.create(ContactCreate(external_id="weird/id with spaces"))
    assert (await client.contacts.find_by_external_id("weird/id with spaces")).id == user.id


async def test_contact_fields_are_validated(client, raw, sandbox):
    with pytest.raises(BadRequest, match="email_verified"):
        await client.session.send(_create_call({"external_id": "x", "email_verified": True}))
    with pytest.raises(BadRequest, match="does not exist"):
        await client.contacts.create(ContactCreate(external_id="y", custom_attributes={"unknown": 1}))
    await client.data_attributes.create(DataAttributeCreate(name="seats", model="contact", data_type="integer"))
    with pytest.raises(BadRequest, match="expects a integer"):
        await client.contacts.create(ContactCreate(external_id="z", custom_attributes={"seats": "many"}))
    created = await client.contacts.create(ContactCreate(external_id="z", custom_attributes={"seats": 3}))
    assert created.contact.custom_attributes == {"seats": 3}
    assert (await raw.post("/contacts", json={"name": "nobody"})).status_code == 400
    assert (await raw.post("/contacts", json={"role": "lead"})).status_code == 400  # nobody could find it again
    assert sandbox.violations.take("attribute.unknown", "attribute.type", "spec.body", "contact.identifier") == {
        "attribute.unknown": 1, "attribute.type": 1, "spec.body": 1, "contact.identifier": 1}


async def test_companies_upsert_on_company_id_and_delete_archives(client, sandbox):
    first = await client.companies.upsert(CompanyUpsert(company_id="c-1", name="Acme", monthly_spend=100))
    second = await client.companies.upsert(CompanyUpsert(company_id="c-1", plan="pro"))
    assert first.id == second.id and second.name == "Acme" and second.model_extra["plan"]["name"] == "pro"
    assert [c async for c in client.companies.list()] == []  # no contacts yet: Intercom lists none
    contact = await client.contacts.create(ContactCreate(external_id="st-1"))
    await client.contacts.attach_company(contact.id, first.id)
    assert [c.id async for c in client.companies.list()] == [first.id]
    await client.companies.delete(first.id)
    with pytest.raises(NotFound):
        await client.companies.get(first.id)
    assert (await client.contacts.get(contact.id)).companies.data == []
    assert await client.companies.find_by_company_id("c-1") is None
    restored = await client.companies.upsert(CompanyUpsert(company_id="c-1", name="Acme again"))
    assert restored.id == first.id and sandbox.state.counts()["companies"] == 1
    with pytest.raises(NotFound) as unknown:
        await client.contacts.attach_company(contact.id, "6766a1b2ffffffffffffffff")
    assert unknown.value.code == "company_not_found"


async def test_tags_are_found_by_name_case_insensitively(client, sandbox):
    tag = await client.tags.create("Billing")
    assert (await client.tags.create("  billing ")).id == tag.id
    assert (await client.tags.find_by_name("BILLING")).id == tag.id
    assert sandbox.state.counts()["tags"] == 1


@pytest.mark.parametrize("name", ["Mithril Shirt", "paid_subscriber", "price-€", "Größe", "$ spend"])
async def test_data_attribute_names_intercom_accepts(client, name):
    created = await client.data_attributes.create(DataAttributeCreate(name=name, model="contact", data_type="string"))
    assert created.name == name and created.full_name == f"custom_attributes.{name}"


@pytest.mark.parametrize("name", ["dotted.name", "at@sign", "!nv@l!d n@me", "", "slash/name"])
async def test_data_attribute_names_intercom_refuses(client, name):
    with pytest.raises(BadRequest) as refused:
        await client.session.send(_attribute_call({"name": name, "model": "contact", "data_type": "string"}))
    assert refused.value.code == "parameter_invalid"


def _attribute_call(body):
    return Call("data_attributes.create", "POST", "/data_attributes", idempotent=False, body=body)


async def test_data_attribute_types_duplicates_and_the_250_limit(client, sandbox):
    when = await client.data_attributes.create(DataAttributeCreate(name="renewal", model="company", data_type="datetime"))
    assert when.data_type == "date"  # how Intercom reports datetime attributes
    band = await client.data_attributes.create(DataAttributeCreate(name="band", model="company", data_type="options", options=[DataAttributeOption(value="a"), DataAttributeOption(value="b")]))
    assert band.options == ["a", "b"]
    with pytest.raises(BadRequest, match="already have 'Band' in your company data"):
        await client.data_attributes.create(DataAttributeCreate(name="Band", model="company", data_type="string"))
    with pytest.raises(BadRequest, match="already have 'email'"):
        await client.data_attributes.create(DataAttributeCreate(name="email", model="contact", data_type="string"))
    with pytest.raises(BadRequest, match="already have 'band' in your company data. To save this as new people data"):
        await client.data_attributes.create(DataAttributeCreate(name="band", model="contact", data_type="string"))
    with pytest.raises(BadRequest, match="already have 'PLAN' in your company data"):  # a standard company attribute
        await client.data_attributes.create(DataAttributeCreate(name="PLAN", model="contact", data_type="string"))
    with pytest.raises(BadRequest, match="money"):
        await client.session.send(_attribute_call({"name": "n", "model": "contact", "data_type": "money"}))
    for index in range(248):
        await client.data_attributes.create(DataAttributeCreate(name=f"field {index}", model="contact", data_type="string"))
    with pytest.raises(BadRequest, match="limit of 250"):
        await client.data_attributes.create(DataAttributeCreate(name="one too many", model="contact", data_type="string"))
    await client.data_attributes.archive(band.id)
    await client.data_attributes.create(DataAttributeCreate(name="one too many", model="contact", data_type="string"))
    names = {a.name for a in await client.data_attributes.list("company", include_archived=True)}
    assert "band" in names and "band" not in {a.name for a in await client.data_attributes.list("company")}
    with pytest.raises(BadRequest, match="already have 'band'"):  # an archived name stays taken
        await client.data_attributes.create(DataAttributeCreate(name="band", model="company", data_type="string"))
    with pytest.raises(BadRequest, match="is archived"):
        await client.companies.upsert(CompanyUpsert(company_id="c-1", custom_attributes={"band": "a"}))
    assert sandbox.violations.take() == {"attribute.name_taken": 5, "spec.body": 1, "attribute.limit": 1,
                                         "attribute.archived": 1}


async def test_conversations_honour_created_at_and_need_known_attributes(client, sandbox):
    contact = await client.contacts.create(ContactCreate(external_id="st-1", name="Ann"))
    started = await client.conversations.create(conversation(contact.id, 1_500_000_000, subject="s"))
    assert started.created_at == 1_500_000_000 and started.id != started.conversation_id
    await client.conversations.reply(started.conversation_id, AdminReply(admin_id=ADMIN, body="a", created_at=1_500_000_100))
    got = await client.conversations.get(started.conversation_id)
    assert got.created_at == 1_500_000_000 and got.parts[0].created_at == 1_500_000_100 and got.parts[0].author.type == "admin"
    with pytest.raises(BadRequest, match="Conversation attribute 'ticket' does not exist"):
        await client.conversations.update(started.conversation_id, ConversationUpdate(custom_attributes={"ticket": "T-1"}))
    attribute = await client.conversation_attributes.create(ConversationAttributeCreate(name="ticket", data_type="string"))
    await client.conversations.update(started.conversation_id, ConversationUpdate(custom_attributes={"ticket": "T-1"}))
    await client.conversation_attributes.create(ConversationAttributeCreate(name="ticket", data_type="string"))
    with pytest.raises(BadRequest) as ambiguous:
        await client.conversations.update(started.conversation_id, ConversationUpdate(custom_attributes={"ticket": "T-2"}))
    assert ambiguous.value.code == "INVALID_PARAMETER"
    await client.conversation_attributes.archive(attribute.id)
    await client.conversations.update(started.conversation_id, ConversationUpdate(custom_attributes={"ticket": "T-3"}))
    with pytest.raises(NotFound, match="User Not Found"):
        await client.conversations.create(conversation("6766a1b2ffffffffffffffff"))
    with pytest.raises(BadRequest, match="before the conversation's last part"):
        await client.conversations.reply(started.conversation_id, AdminReply(admin_id=ADMIN, body="b", created_at=1_500_000_050))
    assert sandbox.violations.take() == {"attribute.unknown": 1, "part.created_at_order": 1}


async def test_attachments_are_limited_and_files_must_be_base64(client, raw, sandbox):
    contact = await client.contacts.create(ContactCreate(external_id="st-1"))
    started = await client.conversations.create(conversation(contact.id))
    path = f"/conversations/{started.conversation_id}/reply"
    eleven = [f"https://files.example/{n}.png" for n in range(11)]
    too_many = await raw.post(path, json={"type": "admin", "admin_id": ADMIN, "message_type": "comment", "body": "x", "attachment_urls": eleven})
    assert too_many.status_code == 400
    bad_file = {"name": "a.txt", "content_type": "text/plain", "data": "not base64!"}
    broken = await raw.post(path, json={"type": "admin", "admin_id": ADMIN, "message_type": "note", "body": "x", "attachment_files": [bad_file]})
    assert broken.status_code == 400
    good_file = {"name": "a.txt", "content_type": "text/plain", "data": base64.b64encode(b"hello").decode()}
    ok = await raw.post(path, json={"type": "admin", "admin_id": ADMIN, "message_type": "note", "body": "x", "attachment_files": [good_file]})
    assert ok.json()["conversation_parts"]["conversation_parts"][0]["attachments"][0]["filesize"] == 5
    assert sandbox.violations.take() == {"spec.body": 1}  # eleven URLs break the description's maxItems


async def test_reads_return_the_500_most_recent_parts(client, sandbox):
    contact = await client.contacts.create(ContactCreate(external_id="st-1"))
    started = await client.conversations.create(conversation(contact.id, 1_500_000_000))
    stored = sandbox.store.get("conversations", started.conversation_id)
    stored["parts"] = [
        {"id": str(n), "part_type": "comment", "body": f"p{n}", "created_at": 1_500_000_000 + n, "author": {"type": "admin", "id": ADMIN}, "state": "open"}
        for n in range(1, 505)
    ]
    sandbox.store.put("conversations", stored)  # more than the API lets a client write, as the inbox can
    latest = await client.conversations.get(started.conversation_id)
    assert len(latest.parts) == 500 and latest.conversation_parts.total_count == 504
    assert latest.parts[0].body == "p5" and latest.parts[-1].body == "p504"
    with pytest.raises(BadRequest, match="at most 500 parts"):
        await client.conversations.reply(started.conversation_id, AdminReply(admin_id=ADMIN, body="last", created_at=1_500_001_000))
    assert sandbox.state.counts()["parts"] == 504
    assert sandbox.violations.take() == {"conversation.part_limit": 1}


async def test_state_parts_assignment_and_close(client):
    contact = await client.contacts.create(ContactCreate(external_id="st-1"))
    started = await client.conversations.create(conversation(contact.id))
    assigned = await client.conversations.assign(started.conversation_id, ADMIN, "991267002")
    assert assigned.admin_assignee_id == 991267002 and assigned.parts[-1].part_type == "assignment"
    assert (await client.conversations.assign(started.conversation_id, ADMIN, "0")).admin_assignee_id is None
    with pytest.raises(NotFound) as unknown:
        await client.conversations.assign(started.conversation_id, ADMIN, "123")
    assert unknown.value.code == "assignee_not_found"
    with pytest.raises(NotFound) as not_admin:
        await client.conversations.close(started.conversation_id, "42")
    assert not_admin.value.code == "admin_not_found"
    closed = await client.conversations.close(started.conversation_id, ADMIN)
    assert closed.state == "closed" and closed.open is False and closed.parts[-1].part_type == "close"


async def test_conversation_search_by_contact_and_created_at(client):
    ann = await client.contacts.create(ContactCreate(external_id="ann"))
    bob = await client.contacts.create(ContactCreate(external_id="bob"))
    for contact, created_at in ((ann, 100), (ann, 200), (bob, 200), (ann, 300)):
        await client.conversations.create(conversation(contact.id, 1_500_000_000 + created_at))

    async def count(query):
        return len([c async for c in client.conversations.search(query, per_page=1)])

    assert await count(where("contact_ids", "=", ann.id)) == 3
    assert await count(all_of(where("contact_ids", "=", ann.id), where("created_at", "=", 1_500_000_200))) == 1
    assert await count(all_of(where("contact_ids", "=", ann.id), where("created_at", ">", 1_500_000_100))) == 2
    assert await count(any_of(where("contact_ids", "=", bob.id), where("created_at", "<", 1_500_000_150))) == 2
    deep = all_of(any_of(all_of(where("id", "=", "1"))))
    with pytest.raises(BadRequest, match="max 2 nested"):
        await count(deep)
    with pytest.raises(BadRequest, match="max 15 filters"):
        await count({"operator": "OR", "value": [where("id", "=", str(n)) for n in range(16)]})


async def test_deleting_a_contact_deletes_its_conversations(client, sandbox):
    contact = await client.contacts.create(ContactCreate(external_id="st-1"))
    started = await client.conversations.create(conversation(contact.id))
    await client.contacts.delete(contact.id)
    with pytest.raises(NotFound):
        await client.conversations.get(started.conversation_id)
    assert sandbox.state.counts()["conversations"] == 0


async def test_articles_need_an_admin_author_and_one_kind_of_body(client, raw, sandbox):
    with pytest.raises(BadRequest) as stranger:
        await client.articles.create(ArticleCreate(title="t", author_id=12345))
    assert "teammate" in stranger.value.error_message
    missing_author = await raw.post("/articles", json={"title": "t"})
    assert missing_author.json()["errors"][0]["code"] == "parameter_not_found"
    both = await raw.post("/articles", json={"title": "t", "author_id": int(ADMIN), "body": "<p>x</p>", "body_markdown": "x"})
    assert both.status_code == 400
    draft = await client.articles.create(ArticleCreate(title="t", author_id=int(ADMIN), body_markdown="# hi"))
    assert draft.state == "draft" and draft.url is None
    assert sandbox.violations.take("spec.body")["spec.body"] >= 1


async def test_custom_object_types_must_exist(client):
    with pytest.raises(NotFound, match="Custom object type `Invoice` not found"):
        await client.custom_objects.upsert("Invoice", CustomObjectUpsert(external_id="i-1"))


async def test_tickets_need_a_known_type_and_one_contact(client, sandbox, raw):
    with pytest.raises(NotFound):
        await client.tickets.create(TicketCreate(ticket_type_id="99", contacts=[TicketContact(external_id="x")]))
    two = await raw.post("/tickets", json={"ticket_type_id": "1", "contacts": [{"email": "a@example.com"}, {"email": "b@example.com"}]})
    assert two.status_code == 400
    ticket = await client.tickets.create(TicketCreate(ticket_type_id="1", contacts=[TicketContact(email="new@example.com")]))
    assert ticket.ticket_state.category == "submitted" and sandbox.state.counts()["contacts"] == 1  # created from the email
    sandbox.violations.take("spec.body")


async def test_unknown_routes_and_methods_answer_404_error_lists(raw, sandbox):
    for response in (await raw.get("/no/such/thing"), await raw.patch("/contacts")):
        assert response.status_code == 404 and response.json()["errors"][0]["code"] == "not_found"
    assert sandbox.violations.take() == {"spec.operation": 2}


async def test_inspection_endpoint_reports_counts(client, sandbox):
    await client.contacts.create(ContactCreate(external_id="st-1"))
    async with httpx.AsyncClient(base_url=SANDBOX_URL, transport=sandbox.transport()) as anonymous:
        state = (await anonymous.get("/__sandbox/state")).json()
    assert state["contacts"] == 1 and state["conversations"] == 0


def test_faults_are_deterministic_by_seed():
    def decisions(seed):
        injector = FaultInjector(0.3, ("error_before", "error_after", "drop_after"), seed)
        return [injector.decide("POST", "/contacts") for _ in range(200)]

    assert decisions(5) == decisions(5)
    assert decisions(5) != decisions(6)
    assert 30 < sum(1 for d in decisions(5) if d) < 90


async def test_state_survives_a_restart_in_a_sqlite_file(tmp_path):
    path = str(tmp_path / "sandbox.sqlite")
    first = Sandbox(state_path=path)
    async with first.client() as client:
        ann = await client.contacts.create(ContactCreate(external_id="st-1"))
        started = await client.conversations.create(conversation(ann.id, 1_500_000_000))
        await client.conversations.reply(started.conversation_id, AdminReply(admin_id=ADMIN, body="a"))
    first.close()
    second = Sandbox(state_path=path)
    async with second.client() as client:
        assert (await client.contacts.create(ContactCreate(external_id="st-1"))).existing
        bob = await client.contacts.create(ContactCreate(external_id="st-2"))
        assert bob.id != ann.id
        assert (await client.conversations.get(started.conversation_id)).parts[0].body == "a"
    assert second.state.counts() == {**second.state.counts(), "contacts": 2, "conversations": 1, "parts": 1}
    assert len(list(second.store.all("admins"))) == 3  # seeded once, not again
    second.close()


async def test_a_conversation_answers_the_same_json_whether_its_parts_were_encoded_before_or_not(sandbox, client):
    """Replies answer the whole conversation; its parts' JSON is kept between answers: the
    answer is byte for byte the conversation encoded whole, as a fresh sandbox encodes it."""
    from connectors.intercom.sandbox.routes.conversations import PartsJson, _render_part, render_conversation
    from connectors.intercom.sandbox.routing import encode_json

    ann = await client.contacts.create(ContactCreate(external_id="st-1"))
    started = await client.conversations.create(conversation(ann.id, 1_500_000_000))
    for n in range(3):
        await client.conversations.reply(started.conversation_id, AdminReply(admin_id=ADMIN, body=f"part {n}"))
    async with httpx.AsyncClient(base_url=SANDBOX_URL, transport=sandbox.transport(),
                                 headers={"Authorization": "Bearer raw", "Intercom-Version": "2.16"}) as raw:
        answered = (await raw.get(f"/conversations/{started.conversation_id}")).content
    stored = sandbox.store.get("conversations", started.conversation_id)
    whole = {**render_conversation(sandbox.state, stored), "conversation_parts": {
        "type": "conversation_part.list", "conversation_parts": [_render_part(p) for p in stored["parts"]],
        "total_count": 3}}
    assert answered == encode_json(whole).encode()
    assert PartsJson(sandbox.store).answer(sandbox.state, stored).body == answered  # encoded afresh
    stored["parts"][0]["body"] = "changed in place"  # then put, as the store asks: kept text is dropped
    sandbox.store.put("conversations", stored)
    async with httpx.AsyncClient(base_url=SANDBOX_URL, transport=sandbox.transport(),
                                 headers={"Authorization": "Bearer raw", "Intercom-Version": "2.16"}) as raw:
        again = (await raw.get(f"/conversations/{started.conversation_id}")).json()
    assert again["conversation_parts"]["conversation_parts"][0]["body"] == "changed in place"


def test_a_list_kept_apart_is_written_an_item_at_a_time_and_read_back_whole(tmp_path):
    """A conversation's parts in rows of their own: each append writes only the parts it
    added, a put after a change in place writes them all again, a reopened store has them all
    in order, a removed object leaves none behind, and a state file written with the parts
    inside the conversation (before) still reads."""
    import json
    import sqlite3

    from connectors.intercom.sandbox.store import Store

    path = str(tmp_path / "state.sqlite")
    store = Store(path)
    store.keep_apart("conversations", "parts")
    thread = {"id": "7", "state": "open", "parts": []}
    store.put("conversations", thread)
    written = []
    store._db.set_trace_callback(lambda sql: written.append(sql) if sql.startswith("INSERT INTO items") else None)
    for n in range(3):
        thread["parts"].append({"id": n, "body": f"part {n}"})
        store.append("conversations", thread)
    assert len(written) == 3  # one part each time, not 1 + 2 + 3
    revision = store.revision("conversations", "7")
    thread["parts"][1]["body"] = "changed"
    store.put("conversations", thread)
    assert store.revision("conversations", "7") == revision + 1
    store.put("conversations", {"id": "8", "parts": [{"id": 9}]})
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM items WHERE id = '7'").fetchone() == (3,)
        assert json.loads(db.execute("SELECT body FROM objects WHERE id = '7'").fetchone()[0])["parts"] == []
    again = Store(path)
    again.keep_apart("conversations", "parts")
    assert again.get("conversations", "7") == thread
    assert again.get("conversations", "8")["parts"] == [{"id": 9}]
    thread["parts"].append({"id": 3, "body": "part 3"})
    again.append("conversations", thread)
    again.remove("conversations", "8")
    again.close()
    third = Store(path)
    assert third.get("conversations", "7") == thread and third.get("conversations", "8") is None
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM items").fetchone() == (4,)
    third.close()

    legacy = str(tmp_path / "legacy.sqlite")
    with sqlite3.connect(legacy) as db:
        db.execute("CREATE TABLE objects (kind TEXT, id TEXT, body TEXT, seq INTEGER, PRIMARY KEY (kind, id))")
        db.execute("INSERT INTO objects VALUES ('conversations', '7', ?, 1)", (json.dumps(thread),))
    old = Store(legacy)
    old.keep_apart("conversations", "parts")
    assert old.get("conversations", "7") == thread
    thread["parts"].append({"id": 4})
    old.append("conversations", thread)
    old.close()
    assert Store(legacy).get("conversations", "7") == thread


def test_an_id_is_written_in_the_commit_of_the_object_that_holds_it(tmp_path):
    """A reply draws a part id and a sequence number and writes the thread: one commit, not
    one per counter; a store that stops without closing (killed) reopens with its counters
    past every id it stored, and a closed one with every id it drew."""
    from connectors.intercom.sandbox.store import Store

    path = str(tmp_path / "state.sqlite")
    store = Store(path)
    store.keep_apart("conversations", "parts")
    thread = {"id": str(store.next_id("conversations")), "parts": []}
    store.put("conversations", thread)
    commits, open_ = [], [False]

    def trace(sql: str) -> None:
        if sql == "BEGIN":
            open_[0] = True
        elif sql in ("COMMIT", "ROLLBACK"):
            open_[0] = False
            commits.append(sql)
        elif not open_[0]:
            commits.append(sql)  # a statement outside a transaction commits on its own

    store._db.set_trace_callback(trace)
    for n in range(3):
        thread["parts"].append({"id": store.next_id("parts"), "body": f"part {n}"})
        store.append("conversations", thread)
    assert commits == ["COMMIT"] * 3
    store.put("contacts", {"id": str(store.next_id("contacts"))})
    store.remove("contacts", "1")
    assert commits == ["COMMIT"] * 5
    store.next_id("parts")  # drawn for nothing that was stored
    killed = Store(path)  # what a restart after a kill finds (the first never closed)
    killed.keep_apart("conversations", "parts")
    assert killed.get("conversations", "1") == thread
    assert killed.next_id("parts") == 4 and killed.next_id("conversations") == 2 and killed.next_id("contacts") == 2
    killed.close()
    store.close()
    closed = Store(path)
    assert closed.next_id("parts") == 5
    closed.close()


def test_a_sandbox_collected_before_the_test_ends_still_answers_for_its_violations():
    """The suite's fixture keeps every violation log alive until teardown (a weak set lost them)."""
    import gc

    from connectors.intercom.sandbox.violations import watching

    with watching() as logs:
        gone = Sandbox()
        gone.violations.record("contact.identifier", "POST", "/contacts", "no identifier")
        del gone
        gc.collect()
        assert [log.total for log in logs] == [1]
        logs[0].take()  # taken on purpose: the suite's own watcher holds the same log


async def test_a_request_whose_caller_hung_up_is_dropped_unread(sandbox):
    """The server hands over `http.disconnect` instead of the body: nothing is created and no
    violation is invented for a body the sandbox never read."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/contacts", "raw_path": b"/contacts", "query_string": b"",
             "headers": [(b"authorization", b"Bearer t"), (b"intercom-version", b"2.16"),
                         (b"content-type", b"application/json")]}
    await sandbox.app(scope, receive, send)
    assert sent == [] and sandbox.violations.total == 0 and sandbox.state.counts().get("contacts", 0) == 0
    assert sandbox.middleware.stats["dropped by the caller"] == 1


async def test_a_value_outside_an_attributes_options_is_refused(client, sandbox):
    await client.data_attributes.create(DataAttributeCreate(
        name="tier", model="contact", data_type="options",
        options=[DataAttributeOption(value="gold"), DataAttributeOption(value="silver")]))
    await client.contacts.create(ContactCreate(external_id="st-1", custom_attributes={"tier": "gold"}))
    with pytest.raises(BadRequest, match="'bronze' is not one of its options"):
        await client.contacts.create(ContactCreate(external_id="st-2", custom_attributes={"tier": "bronze"}))
    assert sandbox.violations.take() == {"attribute.option": 1}


@pytest.mark.parametrize("strict, rule", [(True, "spec.body"), (False, "part.attachment_limit")])
async def test_eleven_attachment_files_on_a_part(strict, rule):
    """Strict, the description's maxItems refuses them before the route runs; with the
    description off (benchmarks) Intercom's own limit of 10 per part still does."""
    sandbox = Sandbox(strict=strict)
    async with sandbox.client() as client:
        contact = await client.contacts.create(ContactCreate(external_id="st-1"))
        started = await client.conversations.create(conversation(contact.id))
    headers = {"Authorization": "Bearer raw", "Intercom-Version": "2.16"}
    files = [{"name": f"{n}.txt", "content_type": "text/plain", "data": base64.b64encode(b"x").decode()} for n in range(11)]
    async with httpx.AsyncClient(base_url=SANDBOX_URL, transport=sandbox.transport(), headers=headers) as http:
        answer = await http.post(f"/conversations/{started.conversation_id}/reply", json={
            "type": "admin", "admin_id": ADMIN, "message_type": "note", "body": "x", "attachment_files": files})
        assert answer.status_code == 400
        ten = await http.post(f"/conversations/{started.conversation_id}/reply", json={
            "type": "admin", "admin_id": ADMIN, "message_type": "note", "body": "x", "attachment_files": files[:10]})
        assert ten.status_code == 200
    assert sandbox.violations.take() == {rule: 1}


async def test_a_query_parameter_the_description_lacks_or_mistypes_is_refused(raw, sandbox):
    unknown = await raw.get("/contacts", params={"sort_by": "name"})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["code"] == "parameter_invalid"
    mistyped = await raw.get("/contacts", params={"per_page": "many"})
    assert mistyped.status_code == 400
    assert (await raw.get("/contacts", params={"per_page": "5"})).status_code == 200
    assert sandbox.violations.take() == {"spec.query": 2}


async def test_a_parameter_of_the_right_type_outside_its_schema_is_refused(raw, sandbox):
    """A parameter's quick check lets a fitting value through; jsonschema still says why one does not fit."""
    for _ in range(2):  # the second time through the compiled check
        over = await raw.get("/macros", params={"per_page": "500"})
        assert over.status_code == 400 and "per_page" in over.json()["errors"][0]["message"]
    assert sandbox.violations.take() == {"spec.query": 2}


async def test_a_search_page_asked_for_twice_is_noted_not_refused(client, raw, sandbox):
    for n in range(3):
        await client.contacts.create(ContactCreate(external_id=f"st-{n}"))
    query = {"query": {"field": "role", "operator": "=", "value": "user"}, "pagination": {"per_page": 1}}
    first = (await raw.post("/contacts/search", json=query)).json()
    cursor = first["pages"]["next"]["starting_after"]
    paged = {**query, "pagination": {"per_page": 1, "starting_after": cursor}}
    once = await raw.post("/contacts/search", json=paged)
    assert sandbox.violations.total == 0
    twice = await raw.post("/contacts/search", json=paged)
    assert once.status_code == twice.status_code == 200 and once.json()["data"] == twice.json()["data"]
    assert sandbox.violations.take() == {"search.repeated_cursor": 1}


async def test_an_unknown_intercom_version_is_refused_and_counted(sandbox):
    async with httpx.AsyncClient(base_url=SANDBOX_URL, transport=sandbox.transport(),
                                 headers={"Authorization": "Bearer raw", "Intercom-Version": "9.9"}) as http:
        answer = await http.get("/contacts")
    assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "intercom_version_invalid"
    assert sandbox.violations.take() == {"spec.header": 1}
    async with httpx.AsyncClient(base_url=SANDBOX_URL, transport=sandbox.transport(),
                                 headers={"Authorization": "Bearer raw"}) as http:
        assert (await http.get("/contacts")).status_code == 200  # no header: the app's default version, noted
    assert sandbox.violations.take() == {"spec.header": 1}


def test_rate_limit_zero_turns_the_limits_off(monkeypatch, capsys):
    """`python -m connectors.intercom.sandbox --rate-limit 0`: no window, no X-RateLimit headers."""
    import asyncio

    from connectors.intercom.sandbox import __main__ as cli
    from connectors.intercom.sandbox import server

    answers: list[httpx.Response] = []

    class Served:  # stands in for uvicorn's server: asks the app it was given, in process
        def __init__(self, config):
            self.app = config.app

        def run(self, sockets=None):
            async def ask():
                transport = httpx.ASGITransport(app=self.app)
                headers = {"Authorization": "Bearer t", "Intercom-Version": "2.16"}
                async with httpx.AsyncClient(base_url=SANDBOX_URL, transport=transport, headers=headers) as http:
                    for _ in range(5):
                        answers.append(await http.get("/contacts"))
            asyncio.run(ask())

    monkeypatch.setattr(server.uvicorn, "Server", Served)
    cli.main(["--rate-limit", "0"])
    assert [a.status_code for a in answers] == [200] * 5
    assert not [a for a in answers if any(h.lower().startswith("x-ratelimit") for h in a.headers)]
    answers.clear()
    cli.main([])  # the default: Intercom's per-app limit, said on every answer
    assert answers and all(a.headers["x-ratelimit-limit"] == "1667" for a in answers)
