"""The three pagination styles walk every item exactly once."""

from __future__ import annotations

import json

import httpx

from connectors.intercom import IntercomClient
from connectors.intercom.models import CollectionCreate, CompanyUpsert, ContactCreate, ConversationCreate, CustomObjectUpsert, where
from connectors.intercom.sandbox import SANDBOX_URL, Sandbox


class Spy(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[tuple[str, dict, dict]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.requests.append((request.url.path, dict(request.url.params), json.loads(body) if body else {}))
        return await self.inner.handle_async_request(request)


async def _seeded(n: int):
    sandbox = Sandbox()
    spy = Spy(sandbox.transport())
    client = IntercomClient("t", base_url=SANDBOX_URL, transport=spy)
    contacts = [await client.contacts.create(ContactCreate(external_id=f"st-{i}", email=f"u{i}@example.com")) for i in range(n)]
    return sandbox, spy, client, contacts


async def test_cursor_in_the_query_string():
    sandbox, spy, client, contacts = await _seeded(23)
    listed = [c.id async for c in client.contacts.list(per_page=5)]
    assert listed == [c.id for c in contacts]
    pages = [params for path, params, _ in spy.requests if path == "/contacts" and params]
    assert len(pages) == 5 and "starting_after" not in pages[0] and all("starting_after" in p for p in pages[1:])
    await client.aclose()


async def test_cursor_in_the_search_body():
    sandbox, spy, client, contacts = await _seeded(23)
    found = [c.id async for c in client.contacts.search(where("email", "$", "@example.com"), per_page=4)]
    assert sorted(found) == sorted(c.id for c in contacts) and len(found) == 23
    searches = [(params, body) for path, params, body in spy.requests if path == "/contacts/search"]
    assert len(searches) == 6
    assert all("starting_after" not in params for params, _ in searches)  # in the query string it would restart at page 1
    assert [("starting_after" in body["pagination"]) for _, body in searches] == [False] + [True] * 5
    await client.aclose()


async def test_page_numbers():
    sandbox, spy, client, contacts = await _seeded(12)
    for i, contact in enumerate(contacts):
        company = await client.companies.upsert(CompanyUpsert(company_id=f"c-{i}", name=f"Company {i}"))
        await client.contacts.attach_company(contact.id, company.id)
        await client.collections.create(CollectionCreate(name=f"Collection {i}"))
        await client.custom_objects.upsert("Order", CustomObjectUpsert(external_id=f"o-{i}"))
    assert len({c.id async for c in client.companies.list(per_page=5)}) == 12
    assert len({c.id async for c in client.collections.list(per_page=5)}) == 12
    assert len({i.id async for i in client.custom_objects.list("Order", per_page=5)}) == 12
    company_pages = [params["page"] for path, params, _ in spy.requests if path == "/companies" and "page" in params]
    assert company_pages == ["1", "2", "3"]
    await client.aclose()


async def test_conversation_list_cursor():
    sandbox, spy, client, contacts = await _seeded(3)
    for i in range(7):
        await client.conversations.create(ConversationCreate.model_validate({"from": {"type": "user", "id": contacts[i % 3].id}, "body": f"c{i}"}))
    assert len({c.id async for c in client.conversations.list(per_page=2)}) == 7
    await client.aclose()
