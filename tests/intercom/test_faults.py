"""Faults: every outcome is done, safely retried, or reported in doubt; nothing doubles.

Runs against the in-process sandbox in virtual time. `sandbox.faults.plan()` places one
exact fault; the last test lets seeded random faults hit a small load and reconciles the
in-doubt writes the way the loader will.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from connectors.intercom import (
    IntercomClient,
    IntercomConnectionError,
    RetryPolicy,
    ServerError,
    WriteInDoubt,
)
from connectors.intercom.models import AdminReply, CompanyUpsert, ContactCreate, ConversationCreate
from connectors.intercom.sandbox import SANDBOX_URL, Sandbox
from tests.intercom.fakes import ScriptedTransport, error_list
from tests.support.virtual_time import LoopClock, run_virtual

EPOCH = 1_767_225_600
ADMIN = "991267001"


def conversation_from(contact_id: str, created_at: int, body: str = "It broke") -> ConversationCreate:
    return ConversationCreate.model_validate({"from": {"type": "user", "id": contact_id}, "body": body, "created_at": created_at})


def in_sandbox(test, **options):
    """Run `test(sandbox, client)` in virtual time against a fresh sandbox."""
    clock = LoopClock(EPOCH)
    sandbox = Sandbox(clock=clock, **options)

    async def main():
        client = sandbox.client(clock=clock)
        try:
            return await test(sandbox, client)
        finally:
            await client.aclose()

    return run_virtual(main())


@pytest.mark.parametrize(("kind", "cause"), [("error_after", "HTTP 502"), ("drop_after", "disconnected"), ("hang_after", "timeout")])
def test_a_conversation_applied_then_lost_is_in_doubt_and_sent_once(kind, cause):
    async def test(sandbox, client):
        contact = await client.contacts.create(ContactCreate(external_id="st-1", email="ann@example.com"))
        sandbox.faults.plan(kind, method="POST", path="/conversations")
        payload = conversation_from(contact.id, 1_600_000_000)
        with pytest.raises(WriteInDoubt) as doubt:
            await client.conversations.create(payload)
        assert doubt.value.cause == cause
        assert doubt.value.sent.body == payload.payload() and doubt.value.sent.path == "/conversations"
        assert sandbox.state.counts()["conversations"] == 1  # applied exactly once, never re-sent
        found = await client.conversations.find_by_contact_and_created_at(contact.id, 1_600_000_000)
        assert len(found) == 1
        snapshot = client.metrics()
        assert snapshot.in_doubt == 1 and snapshot.retries == 0

    in_sandbox(test)


def test_an_error_before_applying_is_still_in_doubt_for_a_create_and_reconciles_to_nothing():
    async def test(sandbox, client):
        contact = await client.contacts.create(ContactCreate(external_id="st-1"))
        sandbox.faults.plan("error_before", method="POST", path="/conversations")
        with pytest.raises(WriteInDoubt) as doubt:
            await client.conversations.create(conversation_from(contact.id, 1_600_000_000))
        assert doubt.value.status in (500, 503)
        assert await client.conversations.find_by_contact_and_created_at(contact.id, 1_600_000_000) == []
        await client.conversations.create(conversation_from(contact.id, 1_600_000_000))  # the loader re-sends
        assert sandbox.state.counts()["conversations"] == 1

    in_sandbox(test)


def test_a_reply_applied_then_dropped_is_in_doubt_and_found_in_the_parts():
    async def test(sandbox, client):
        contact = await client.contacts.create(ContactCreate(external_id="st-1"))
        started = await client.conversations.create(conversation_from(contact.id, 1_600_000_000))
        sandbox.faults.plan("drop_after", method="POST", path=f"/conversations/{started.conversation_id}/reply")
        with pytest.raises(WriteInDoubt):
            await client.conversations.reply(started.conversation_id, AdminReply(admin_id=ADMIN, body="On it", created_at=1_600_000_100))
        parts = (await client.conversations.get(started.conversation_id)).parts
        assert [p.created_at for p in parts] == [1_600_000_100]

    in_sandbox(test)


def test_reads_are_retried_through_server_errors_with_backoff():
    async def test(sandbox, client):
        sandbox.faults.plan("error_before", method="GET", path="/me", times=3)
        start = client.session.clock.time()
        assert (await client.me()).id == ADMIN
        waited = client.session.clock.time() - start
        snapshot = client.metrics()
        assert snapshot.retries == 3 and snapshot.in_doubt == 0
        assert sum(count for status, count in snapshot.calls["me"].items() if status in ("500", "503")) == 3
        assert waited >= 0.25 + 0.5 + 1.0  # at least half of each capped exponential step

    in_sandbox(test)


def test_a_keyed_contact_create_is_retried_and_adopts_the_contact_it_made():
    async def test(sandbox, client):
        sandbox.faults.plan("error_after", method="POST", path="/contacts")
        created = await client.contacts.create(ContactCreate(external_id="st-9", email="zed@example.com"))
        assert created.existing and created.earlier_attempt_in_doubt
        assert sandbox.state.counts()["contacts"] == 1
        assert (await client.contacts.find_by_external_id("st-9")).id == created.id

    in_sandbox(test)


def test_a_lead_without_a_key_is_in_doubt_rather_than_duplicated():
    async def test(sandbox, client):
        sandbox.faults.plan("drop_after", method="POST", path="/contacts")
        with pytest.raises(WriteInDoubt):
            await client.contacts.create(ContactCreate(role="lead", email="walk-in@example.com"))
        assert sandbox.state.counts()["contacts"] == 1

    in_sandbox(test)


def test_a_company_upsert_is_retried_after_a_drop_and_stays_single():
    async def test(sandbox, client):
        sandbox.faults.plan("drop_after", method="POST", path="/companies")
        company = await client.companies.upsert(CompanyUpsert(company_id="c-1", name="Acme"))
        assert company.company_id == "c-1"
        assert sandbox.state.counts()["companies"] == 1
        assert client.metrics().retries == 1

    in_sandbox(test)


def test_a_delete_retried_after_apply_then_502_counts_as_done():
    async def test(sandbox, client):
        contact = await client.contacts.create(ContactCreate(external_id="st-1"))
        sandbox.faults.plan("error_after", method="DELETE", path="/contacts/")
        deleted = await client.contacts.delete(contact.id)
        assert deleted.deleted and deleted.already_gone
        assert sandbox.state.counts()["contacts"] == 0

    in_sandbox(test)


def test_a_connection_refused_before_sending_is_retried_even_for_a_create():
    clock = LoopClock(EPOCH)
    sandbox = Sandbox(clock=clock)
    inner = sandbox.transport()
    failures = {"left": 2}

    class Flaky(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            if request.url.path == "/conversations" and failures["left"]:
                failures["left"] -= 1
                raise httpx.ConnectError("connection refused", request=request)
            return await inner.handle_async_request(request)

    async def main():
        async with IntercomClient("t", base_url=SANDBOX_URL, transport=Flaky(), clock=clock) as client:
            contact = await client.contacts.create(ContactCreate(external_id="st-1"))
            await client.conversations.create(conversation_from(contact.id, 1_600_000_000))
            return client.metrics()

    snapshot = run_virtual(main())
    assert sandbox.state.counts()["conversations"] == 1
    assert snapshot.retries == 2 and snapshot.in_doubt == 0
    assert snapshot.calls["conversations.create"] == {"200": 1, "connect_error": 2}


def test_exhausted_retries_end_in_typed_errors():
    clock = LoopClock(EPOCH)
    unavailable = ScriptedTransport(lambda request, attempt: error_list(503, "service_unavailable", "try later"), clock)
    refused = ScriptedTransport(lambda request, attempt: httpx.ConnectError("refused", request=request), clock)

    async def main():
        policy = RetryPolicy(max_attempts=3)
        async with IntercomClient("t", base_url=SANDBOX_URL, transport=unavailable, clock=clock, retry=policy) as client:
            with pytest.raises(ServerError) as server_error:
                await client.me()
        async with IntercomClient("t", base_url=SANDBOX_URL, transport=refused, clock=clock, retry=policy) as client:
            with pytest.raises(IntercomConnectionError):
                await client.contacts.create(ContactCreate(role="lead"))
        return server_error.value

    error = run_virtual(main())
    assert error.status == 503 and error.code == "service_unavailable"
    assert len(unavailable.requests) == 3 and len(refused.requests) == 3


def test_a_429_storm_from_clients_sharing_a_token_ends_with_everything_done():
    async def main(sandbox, clock):
        clients = [sandbox.client("shared-token", clock=clock, max_concurrency=8) for _ in range(4)]
        await asyncio.gather(*(client.me() for client in clients for _ in range(60)))
        for client in clients:
            await client.aclose()
        return clients

    clock = LoopClock(EPOCH)
    sandbox = Sandbox(rate_limit=30, clock=clock)
    clients = run_virtual(main(sandbox, clock))
    assert sum(client.metrics().calls["me"]["200"] for client in clients) == 240
    storms = sum(client.metrics().rate_limited for client in clients)
    assert storms > 0  # four pacers on one token do collide ...
    assert storms < 240  # ... but each 429 waits for the reset instead of hammering


def test_random_faults_on_a_small_load_reconcile_to_exactly_one_of_everything():
    """A load under seeded faults: each write is done, retried, or in doubt and reconciled."""
    outcomes = {"done": 0, "in_doubt": 0}

    async def create_conversation(client, contact_id, created_at):
        try:
            started = await client.conversations.create(conversation_from(contact_id, created_at))
            outcomes["done"] += 1
            return started.conversation_id
        except WriteInDoubt:
            outcomes["in_doubt"] += 1
            found = await client.conversations.find_by_contact_and_created_at(contact_id, created_at)
            if found:
                return found[0].id
            return await create_conversation(client, contact_id, created_at)

    async def reply(client, conversation_id, created_at):
        try:
            await client.conversations.reply(conversation_id, AdminReply(admin_id=ADMIN, body=f"reply at {created_at}", created_at=created_at))
            outcomes["done"] += 1
        except WriteInDoubt:
            outcomes["in_doubt"] += 1
            parts = (await client.conversations.get(conversation_id)).parts
            if not any(p.created_at == created_at for p in parts):
                await reply(client, conversation_id, created_at)

    async def migrate(client, n):
        contact = await client.contacts.create(ContactCreate(external_id=f"st-{n}", email=f"user{n}@example.com"))
        created_at = 1_600_000_000 + n * 1000
        conversation_id = await create_conversation(client, contact.id, created_at)
        for k in (1, 2):
            await reply(client, conversation_id, created_at + k)

    async def test(sandbox, client):
        await asyncio.gather(*(migrate(client, n) for n in range(40)))
        return client.metrics()

    clock = LoopClock(EPOCH)
    sandbox = Sandbox(clock=clock, faults=0.2, fault_kinds=("error_before", "error_after", "drop_after", "hang_after"), fault_seed=7, rate_limit=50)

    async def main():
        client = sandbox.client(clock=clock, retry=RetryPolicy(max_attempts=8))
        try:
            return await test(sandbox, client)
        finally:
            await client.aclose()

    snapshot = run_virtual(main())
    counts = sandbox.state.counts()
    assert counts["contacts"] == 40 and counts["conversations"] == 40 and counts["parts"] == 80
    for conversation in sandbox.store.all("conversations"):
        assert sorted(p["created_at"] for p in conversation["parts"]) == [conversation["created_at"] + 1, conversation["created_at"] + 2]
    assert sum(sandbox.faults.injected.values()) > 20 and set(sandbox.faults.injected) == {"error_before", "error_after", "drop_after", "hang_after"}
    assert outcomes["in_doubt"] > 0 and snapshot.in_doubt == outcomes["in_doubt"]
    assert snapshot.retries > 0
