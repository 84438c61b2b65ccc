"""The access token never shows in an exception, a repr, a log line or the metrics."""

from __future__ import annotations

import logging

import httpx
import pytest

from connectors.intercom import IntercomClient, IntercomError, RetryPolicy, WriteInDoubt
from connectors.intercom.models import ContactCreate, ConversationCreate
from connectors.intercom.sandbox import Sandbox, running_server
from tests.intercom.fakes import ScriptedTransport
from tests.support.virtual_time import LoopClock, run_virtual

TOKEN = "tok_SECRET_5f3a9c0d7e"


def _texts_of(error: BaseException) -> list[str]:
    """str, repr and args of an exception and of everything chained to it."""
    texts, seen, current = [], set(), error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), *map(repr, current.args), repr(vars(current))]
        current = current.__cause__ or current.__context__
    return texts


async def test_no_token_in_errors_logs_or_metrics_over_a_real_server(caplog):
    caplog.set_level(logging.DEBUG)  # every logger (the wire client itself logs nothing)
    sandbox = Sandbox(tokens=frozenset({TOKEN}))
    errors: list[BaseException] = []
    with running_server(sandbox) as url:
        async with IntercomClient(TOKEN, base_url=url, timeout=httpx.Timeout(0.5, connect=5)) as client:
            contact = await client.contacts.create(ContactCreate(external_id="st-1"))
            for kind in ("error_after", "drop_after"):
                sandbox.faults.plan(kind, method="POST", path="/conversations")
                with pytest.raises(WriteInDoubt) as doubt:
                    await client.conversations.create(ConversationCreate.model_validate({"from": {"type": "user", "id": contact.id}, "body": "x"}))
                errors.append(doubt.value)
            with pytest.raises(IntercomError) as missing:
                await client.contacts.get("6766a1b2ffffffffffffffff")
            errors.append(missing.value)
            texts = [repr(client), str(client.session), repr(client.metrics())]
        async with IntercomClient("not-the-token", base_url=url) as stranger:
            with pytest.raises(IntercomError) as unauthorized:
                await stranger.me()
            errors.append(unauthorized.value)
    for error in errors:
        texts += _texts_of(error)
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.args) for record in caplog.records]
    assert sum("in doubt" in record.getMessage() for record in caplog.records) == 2  # the logs were read
    assert not [text for text in texts if TOKEN in text]


def test_no_token_when_connections_fail():
    clock = LoopClock()
    transport = ScriptedTransport(lambda request, attempt: httpx.ConnectError(f"refused {request.url}", request=request), clock)

    async def main():
        async with IntercomClient(TOKEN, base_url="http://127.0.0.1:9", transport=transport, clock=clock, retry=RetryPolicy(max_attempts=2)) as client:
            with pytest.raises(IntercomError) as failed:
                await client.me()
            return failed.value

    error = run_virtual(main())
    assert error.__cause__ is None  # the httpx error (which holds the request and its headers) is not chained
    assert not [text for text in _texts_of(error) if TOKEN in text]
    assert transport.requests[0].headers["authorization"] == f"Bearer {TOKEN}"  # it was sent, just never shown


def test_an_empty_token_is_refused_before_any_request():
    with pytest.raises(ValueError, match="empty"):
        IntercomClient("", base_url="http://sandbox")
