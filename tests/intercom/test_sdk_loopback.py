"""The official SDK (python-intercom 5, models of API 2.14) against the sandbox over loopback.

A second, independent client proves the sandbox speaks Intercom: a real uvicorn server on
127.0.0.1 (free port, in a thread), the SDK's own request building and response parsing.
The SDK sends no Intercom-Version header; the sandbox records what it saw.
"""

from __future__ import annotations

import pytest
from intercom import (
    AdminReplyConversationRequest,
    ContactReplyIntercomUserIdRequest,
    CreateContactRequestWithExternalId,
    CreateOrUpdateTagRequest,
    Intercom,
)
from intercom.conversations import CreateConversationRequestFrom
from intercom.core.api_error import ApiError

from connectors.intercom.sandbox import Sandbox, running_server

TOKEN = "sdk-token"


@pytest.fixture(scope="module")
def served():
    sandbox = Sandbox(tokens=frozenset({TOKEN}))
    with running_server(sandbox) as url:
        yield sandbox, Intercom(token=TOKEN, base_url=url, timeout=10)


def test_sdk_reads_admins_and_teams(served):
    sandbox, sdk = served
    admins = sdk.admins.list()
    assert [a.name for a in admins.admins][:1] == ["Ada Sandbox"]
    assert {t.name for t in sdk.teams.list().teams} == {"Support", "Billing"}
    assert sdk.admins.identify().app.timezone == "UTC"


def test_sdk_creates_and_finds_a_contact_and_meets_the_409(served):
    sandbox, sdk = served
    created = sdk.contacts.create(request=CreateContactRequestWithExternalId(external_id="sdk-1", email="sdk@example.com", name="Sam"))
    assert created.id and created.external_id == "sdk-1"
    assert sdk.contacts.find(created.id).name == "Sam"
    assert sdk.contacts.show_contact_by_external_id("sdk-1").id == created.id
    with pytest.raises(ApiError) as duplicate:
        sdk.contacts.create(request=CreateContactRequestWithExternalId(external_id="sdk-1"))
    assert duplicate.value.status_code == 409
    assert f"already exists with id={created.id}" in str(duplicate.value.body)
    with pytest.raises(ApiError) as missing:  # the SDK maps only 401 to its own class here
        sdk.contacts.find("6766a1b2ffffffffffffffff")
    assert missing.value.status_code == 404 and missing.value.body["errors"][0]["code"] == "not_found"


def test_sdk_company_tag_and_conversation_round_trip(served):
    sandbox, sdk = served
    contact = sdk.contacts.create(request=CreateContactRequestWithExternalId(external_id="sdk-2", email="two@example.com"))
    company = sdk.companies.create_or_update(request={"company_id": "sdk-co", "name": "SDK Co"})
    assert sdk.companies.create_or_update(request={"company_id": "sdk-co", "name": "SDK Co renamed"}).id == company.id
    sdk.companies.attach_contact(contact_id=contact.id, company_id=company.id)
    tag = sdk.tags.create(request=CreateOrUpdateTagRequest(name="from-sdk"))
    assert sdk.tags.create(request=CreateOrUpdateTagRequest(name="FROM-SDK")).id == tag.id
    sdk.tags.tag_contact(contact_id=contact.id, tag_id=tag.id)

    message = sdk.conversations.create(from_=CreateConversationRequestFrom(type="user", id=contact.id), body="Hello", created_at=1_600_000_000)
    conversation_id = message.conversation_id
    sdk.conversations.reply(conversation_id, request=AdminReplyConversationRequest(message_type="comment", admin_id="991267001", body="Hi", created_at=1_600_000_060))
    sdk.conversations.reply(conversation_id, request=ContactReplyIntercomUserIdRequest(intercom_user_id=contact.id, body="Thanks", created_at=1_600_000_120))
    conversation = sdk.conversations.find(conversation_id)
    assert conversation.created_at == 1_600_000_000
    assert [p.created_at for p in conversation.conversation_parts.conversation_parts] == [1_600_000_060, 1_600_000_120]
    assert sandbox.state.counts()["parts"] >= 2


def test_sdk_sends_no_version_header_and_a_wrong_token_is_refused(served):
    sandbox, sdk = served
    sdk.tags.create(request=CreateOrUpdateTagRequest(name="version-check"))  # this test's own request (xdist)
    assert sandbox.middleware.versions.get("(none)", 0) > 0
    with running_server(Sandbox(tokens=frozenset({TOKEN}))) as url:
        with pytest.raises(ApiError) as refused:
            Intercom(token="wrong", base_url=url).admins.list()
    assert refused.value.status_code == 401
