"""Small pieces of the client: URLs, backoff, error parsing, request models."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from connectors.intercom import BASE_URLS, Region, RetryPolicy, base_url_for
from connectors.intercom.errors import BadRequest, Conflict, ServerError, api_error
from connectors.intercom.models import (
    AdminReply,
    ArticleCreate,
    AttachmentFile,
    ContactCreate,
    ContactReply,
    ConversationCreate,
    TicketContact,
    attribute_name_problem,
    where,
)
from connectors.intercom.resources.contacts import existing_contact_id


def test_regions_and_custom_urls():
    assert base_url_for("eu") == "https://api.eu.intercom.io"
    assert base_url_for(Region.AU) == BASE_URLS[Region.AU] == "https://api.au.intercom.io"
    assert base_url_for("US") == "https://api.intercom.io"
    assert base_url_for("eu", "http://127.0.0.1:8765/") == "http://127.0.0.1:8765"
    with pytest.raises(ValueError, match="unknown Intercom region"):
        base_url_for("mars")


def test_backoff_is_exponential_capped_and_jittered():
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=4.0)
    rng = random.Random(1)
    delays = [[policy.backoff(attempt, rng) for attempt in range(1, 7)] for _ in range(50)]
    for attempt, ceiling in enumerate([0.5, 1, 2, 4, 4, 4]):
        column = [row[attempt] for row in delays]
        assert all(ceiling / 2 <= d <= ceiling for d in column)
        assert len(set(column)) > 1  # jittered


def test_error_lists_become_typed_errors():
    body = b'{"type":"error.list","request_id":"r-1","errors":[{"code":"conflict","message":"A contact matching those details already exists with id=6762f0dd1bb69f9f2193bb83"}]}'
    error = api_error(409, body, operation="contacts.create", method="POST", path="/contacts")
    assert isinstance(error, Conflict) and error.code == "conflict" and error.request_id == "r-1" and error.status == 409
    assert existing_contact_id(error.error_message) == "6762f0dd1bb69f9f2193bb83"
    assert existing_contact_id("Multiple existing users match this email address") is None
    gateway = api_error(502, b"<html>Bad Gateway</html>", operation="x", method="GET", path="/me")
    assert isinstance(gateway, ServerError) and gateway.code == "unknown" and "Bad Gateway" in gateway.error_message
    legacy = api_error(400, b'{"type":"error","message":"nope"}', operation="x", method="GET", path="/me")
    assert isinstance(legacy, BadRequest) and legacy.error_message == "nope"


def test_request_models_enforce_intercom_limits():
    with pytest.raises(ValidationError, match="email, an external_id or a role"):
        ContactCreate(name="anonymous")
    assert ContactCreate(external_id="x").is_keyed and ContactCreate(email="a@b.c").is_keyed
    assert not ContactCreate(role="lead", email="a@b.c").is_keyed
    with pytest.raises(ValidationError):
        AdminReply(admin_id="1", body="x", attachment_urls=[f"https://f/{n}" for n in range(11)])
    with pytest.raises(ValidationError, match="exactly one"):
        ContactReply(body="x", intercom_user_id="1", email="a@b.c")
    with pytest.raises(ValidationError, match="body or body_markdown"):
        ArticleCreate(title="t", author_id=1, body="<p/>", body_markdown="x")
    with pytest.raises(ValidationError, match="exactly one"):
        TicketContact()
    with pytest.raises(ValidationError):
        ConversationCreate.model_validate({"from": {"type": "user", "id": "1"}, "body": "x", "unknown": 1})
    assert ConversationCreate.model_validate({"from": {"type": "user", "id": "1"}, "body": "x"}).payload() == {"from": {"type": "user", "id": "1"}, "body": "x"}
    assert AttachmentFile.from_bytes("a.txt", "text/plain", b"hi").data == "aGk="
    with pytest.raises(ValueError):
        where("name", "LIKE", "x")


def test_attribute_name_rules():
    assert attribute_name_problem("Mithril Shirt") is None
    assert attribute_name_problem("cost in £") is None
    assert attribute_name_problem("has.dot") is not None
    assert attribute_name_problem("   ") is not None
