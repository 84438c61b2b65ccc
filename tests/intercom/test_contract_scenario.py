"""Every operation the client uses, against the sandbox, checked against the description.

One broad scenario runs each client operation (successes and typical errors) through a
transport that validates every request body and every JSON response against the vendored
OpenAPI 2.16 description.
"""

from __future__ import annotations

import httpx
import pytest

from connectors.intercom import BadRequest, IntercomClient, NotFound
from connectors.intercom.models import (
    AdminReply,
    ArticleCreate,
    AttachmentFile,
    CollectionCreate,
    CompanyUpsert,
    ContactCreate,
    ContactReply,
    ContactUpdate,
    ConversationAttributeCreate,
    ConversationAttributeOption,
    ConversationCreate,
    ConversationUpdate,
    CustomObjectUpsert,
    DataAttributeCreate,
    DataAttributeOption,
    TicketContact,
    TicketCreate,
    all_of,
    where,
)
from connectors.intercom.sandbox import SANDBOX_URL, Sandbox
from tests.intercom.contract.recorder import ContractRecorder

ADMIN = "991267001"

EXPECTED_OPERATIONS = {
    "identifyAdmin", "listAdmins", "retrieveAdmin", "listTeams", "retrieveTeam",
    "CreateContact", "ShowContact", "ShowContactByExternalId", "UpdateContact", "DeleteContact", "ArchiveContact",
    "UnarchiveContact", "SearchContacts", "ListContacts", "attachContactToACompany", "detachContactFromACompany",
    "createOrUpdateCompany", "retrieveCompany", "RetrieveACompanyById", "deleteCompany",
    "createTag", "listTags", "findTag", "deleteTag", "attachTagToContact",
    "attachTagToConversation", "detachTagFromConversation",
    "lisDataAttributes", "createDataAttribute", "updateDataAttribute",
    "listConversationAttributes", "createConversationAttribute", "deleteConversationAttribute",
    "createConversation", "replyConversation", "manageConversation", "updateConversation", "retrieveConversation",
    "searchConversations", "listConversations", "deleteConversation",
    "createCollection", "listAllCollections", "retrieveCollection", "deleteCollection",
    "createArticle", "listArticles", "retrieveArticle", "deleteArticle",
    "createCustomObjectInstances", "listCustomObjectInstances", "getCustomObjectInstancesById",
    "deleteCustomObjectInstancesById", "deleteCustomObjectInstancesByExternalId",
    "createTicket", "replyTicket", "getTicket", "searchTickets", "deleteTicket",
}


@pytest.fixture
def recorded(contract):
    sandbox = Sandbox()
    recorder = ContractRecorder(contract, sandbox.transport())
    client = IntercomClient("contract-token", base_url=SANDBOX_URL, transport=recorder)
    return sandbox, recorder, client


async def _identity(client: IntercomClient) -> None:
    me = await client.me()
    assert me.id == ADMIN and me.app and me.app.timezone
    admins = await client.admins.list()
    assert (await client.admins.get(admins[1].id)).name == admins[1].name
    teams = await client.teams.list()
    assert (await client.teams.get(teams[0].id)).admin_ids


async def _schema(client: IntercomClient) -> None:
    await client.data_attributes.create(DataAttributeCreate(name="plan tier", model="contact", data_type="string"))
    await client.data_attributes.create(
        DataAttributeCreate(name="size band", model="company", data_type="options", options=[DataAttributeOption(value="1-10"), DataAttributeOption(value="11-50")])
    )
    seats = await client.data_attributes.create(DataAttributeCreate(name="seats", model="company", data_type="integer"))
    with pytest.raises(BadRequest):
        await client.data_attributes.create(DataAttributeCreate(name="bad.name", model="contact", data_type="string"))
    await client.data_attributes.archive(seats.id)
    assert {a.name for a in await client.data_attributes.list("company")} >= {"size band", "name"}
    await client.conversation_attributes.create(ConversationAttributeCreate(name="source_ticket", data_type="string"))
    priority = await client.conversation_attributes.create(
        ConversationAttributeCreate(name="legacy priority", data_type="list", options=[ConversationAttributeOption(label="P1"), ConversationAttributeOption(label="P2")])
    )
    obsolete = await client.conversation_attributes.create(ConversationAttributeCreate(name="obsolete", data_type="integer"))
    assert (await client.conversation_attributes.archive(obsolete.id)).archived
    assert priority.id in {a.id for a in await client.conversation_attributes.list()}


async def test_every_client_operation_matches_the_description(recorded):
    sandbox, recorder, client = recorded
    await _identity(client)
    await _schema(client)

    vip = await client.tags.create("VIP")
    assert (await client.tags.create("vip")).id == vip.id
    temp = await client.tags.create("temporary")
    assert (await client.tags.get(temp.id)).name == "temporary"
    assert {t.name for t in await client.tags.list()} == {"VIP", "temporary"}

    acme = await client.companies.upsert(CompanyUpsert(company_id="c-1", name="Acme", size=12, custom_attributes={"size band": "11-50"}))
    assert (await client.companies.upsert(CompanyUpsert(company_id="c-1", plan="pro"))).id == acme.id
    assert (await client.companies.find_by_company_id("c-1")).id == acme.id
    assert await client.companies.find_by_company_id("missing") is None
    assert (await client.companies.get(acme.id)).name == "Acme"

    ann = await client.contacts.create(ContactCreate(external_id="st-1", email="ann@example.com", name="Ann", custom_attributes={"plan tier": "gold"}))
    again = await client.contacts.create(ContactCreate(external_id="st-1", email="ann@example.com"))
    assert again.existing and again.id == ann.id
    lead = await client.contacts.create(ContactCreate(role="lead", email="lead@example.com"))
    assert (await client.contacts.get(ann.id)).custom_attributes == {"plan tier": "gold"}
    assert (await client.contacts.find_by_external_id("st-1")).id == ann.id
    assert await client.contacts.find_by_external_id("nobody") is None
    assert (await client.contacts.update(ann.id, ContactUpdate(name="Ann B", signed_up_at=1_500_000_000))).name == "Ann B"
    await client.contacts.attach_company(ann.id, acme.id)
    assert [c.name async for c in client.companies.list()] == ["Acme"]
    await client.tags.tag_contact(ann.id, vip.id)
    assert [c.id async for c in client.contacts.search(where("external_id", "=", "st-1"))] == [ann.id]
    assert len([c async for c in client.contacts.list(per_page=1)]) == 2
    assert (await client.contacts.archive(lead.id)).archived
    assert not (await client.contacts.unarchive(lead.id)).archived

    started = await client.conversations.create(ConversationCreate.model_validate({"from": {"type": "user", "id": ann.id}, "body": "Printer on fire", "created_at": 1_600_000_000}))
    cid = started.conversation_id
    await client.conversations.reply(cid, AdminReply(admin_id=ADMIN, body="On it", created_at=1_600_000_100, attachment_urls=["https://files.example/a.png"]))
    await client.conversations.reply(cid, AdminReply(admin_id=ADMIN, message_type="note", body="internal", created_at=1_600_000_200))
    files = [AttachmentFile.from_bytes("log.txt", "text/plain", b"line 1\n")]
    await client.conversations.reply(cid, ContactReply(intercom_user_id=ann.id, body="Thanks", created_at=1_600_000_300, attachment_files=files))
    await client.conversations.assign(cid, ADMIN, "991267002")
    await client.conversations.assign(cid, ADMIN, "5017002", to_team=True)
    await client.conversations.close(cid, ADMIN)
    await client.conversations.open(cid, ADMIN)
    await client.conversations.update(cid, ConversationUpdate(title="Fire", custom_attributes={"source_ticket": "T-1", "legacy priority": "P1"}))
    await client.tags.tag_conversation(cid, vip.id, ADMIN)
    await client.tags.untag_conversation(cid, vip.id, ADMIN)
    await client.conversations.close(cid, ADMIN, body="Resolved")
    conversation = await client.conversations.get(cid)
    assert conversation.state == "closed" and len(conversation.parts) == 8
    found = await client.conversations.find_by_contact_and_created_at(ann.id, 1_600_000_000)
    assert [c.id for c in found] == [cid]
    assert [c.id async for c in client.conversations.list()] == [cid]
    with pytest.raises(NotFound):
        await client.conversations.reply("999999", AdminReply(admin_id=ADMIN, body="x"))

    docs = await client.collections.create(CollectionCreate(name="Docs", description="How-tos"))
    assert (await client.collections.get(docs.id)).name == "Docs"
    article = await client.articles.create(ArticleCreate(title="Reset a password", author_id=int(ADMIN), body="<p>Click reset</p>", state="published", parent_id=int(docs.id)))
    assert (await client.articles.get(article.id)).parent_ids == [int(docs.id)]
    with pytest.raises(BadRequest):
        await client.articles.create(ArticleCreate(title="Orphan", author_id=1))
    assert [a.id async for a in client.articles.list()] == [article.id]
    assert [c.id async for c in client.collections.list()] == [docs.id]

    order = await client.custom_objects.upsert("Order", CustomObjectUpsert(external_id="o-1", custom_attributes={"number": "A-1"}))
    assert (await client.custom_objects.upsert("Order", CustomObjectUpsert(external_id="o-1", custom_attributes={"number": "A-2"}))).id == order.id
    assert (await client.custom_objects.find_by_external_id("Order", "o-1")).custom_attributes == {"number": "A-2"}
    assert await client.custom_objects.find_by_external_id("Order", "o-x") is None
    assert (await client.custom_objects.get("Order", order.id)).external_id == "o-1"
    await client.custom_objects.upsert("Order", CustomObjectUpsert(external_id="o-2"))
    assert len([i async for i in client.custom_objects.list("Order", per_page=1)]) == 2
    await client.custom_objects.delete_by_external_id("Order", "o-1")
    await client.custom_objects.delete("Order", (await client.custom_objects.find_by_external_id("Order", "o-2")).id)

    ticket = await client.tickets.create(
        TicketCreate(ticket_type_id="1", contacts=[TicketContact(external_id="st-1")], created_at=1_600_000_500, ticket_attributes={"_default_title_": "Broken"})
    )
    reply = await client.tickets.reply(ticket.id, AdminReply(admin_id=ADMIN, body="Looking", created_at=1_600_000_600))
    assert reply.created_at == 1_600_000_600
    assert (await client.tickets.get(ticket.id)).ticket_parts.total_count == 1
    assert [t.id async for t in client.tickets.search(where("contact_ids", "=", ann.id))] == [ticket.id]

    await client.tickets.delete(ticket.id)
    await client.articles.delete(article.id)
    await client.collections.delete(docs.id)
    await client.conversations.delete(cid)
    await client.contacts.detach_company(ann.id, acme.id)
    await client.tags.delete(temp.id)
    await client.companies.delete(acme.id)
    await client.contacts.delete(lead.id)
    await client.contacts.delete(ann.id)
    await client.aclose()

    assert recorder.violations == []
    assert set(recorder.operations()) == EXPECTED_OPERATIONS
    assert recorder.statuses("CreateContact") == {200, 409}
    assert sandbox.state.counts()["contacts"] == 0 and sandbox.state.counts()["conversations"] == 0


async def test_error_bodies_match_the_error_schema(recorded):
    sandbox, recorder, client = recorded
    with pytest.raises(NotFound) as missing:
        await client.contacts.get("6766a1b2ffffffffffffffff")
    assert missing.value.code == "not_found" and missing.value.request_id
    with pytest.raises(BadRequest) as bad:
        await client.data_attributes.create(DataAttributeCreate(name="x", model="contact", data_type="options", options=[DataAttributeOption(value="only")]))
    assert bad.value.code == "parameter_invalid"
    started = all_of(where("created_at", ">", 0), where("contact_ids", "=", "nobody"))
    assert [c async for c in client.conversations.search(started)] == []
    sandbox.faults.plan("error_before", method="GET", path="/me")
    await client.me()  # a 500 or 503, retried
    await client.aclose()
    assert recorder.violations == []
    assert {e.status for e in recorder.exchanges} >= {404, 400, 200} and {e.status for e in recorder.exchanges} & {500, 503}


async def test_refusals_match_the_error_schema(contract):
    sandbox = Sandbox(rate_limit=1, tokens=frozenset({"good"}))
    recorder = ContractRecorder(contract, sandbox.transport())
    async with httpx.AsyncClient(base_url=SANDBOX_URL, transport=recorder) as http:
        statuses = [(await http.get("/me", headers={"Authorization": f"Bearer {token}", "Intercom-Version": "2.16"})).status_code
                    for token in ("good", "good", "bad")]
    assert statuses == [200, 429, 401]
    assert recorder.violations == []
