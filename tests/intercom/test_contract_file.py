"""The vendored OpenAPI description is the official, unmodified 2.16 file."""

import httpx

from tests.intercom.contract.openapi import SPEC_PATH, SPEC_SHA256, file_sha256
from tests.intercom.contract.recorder import ContractRecorder


def test_vendored_description_is_unmodified():
    assert SPEC_PATH.exists(), "the contract file must be committed with the tests"
    assert file_sha256() == SPEC_SHA256


def test_description_is_openapi_3_0_for_api_2_16(contract):
    assert contract.spec["openapi"] == "3.0.1"
    assert contract.spec["info"]["version"] == "2.16"
    assert {"CreateContact", "createConversation", "replyConversation", "createConversationAttribute"} <= contract.operation_ids


def test_validator_rejects_what_the_description_forbids(contract):
    create_contact = contract.match("POST", "/contacts")
    assert contract.check_request(create_contact, {"external_id": "x"}) == []
    assert contract.check_request(create_contact, {"name": "no identity"})  # anyOf email|external_id|role
    create_conversation = contract.match("POST", "/conversations")
    assert contract.check_response(create_conversation, 200, {"type": "user_message", "id": "1", "created_at": 1, "body": "b", "message_type": "inapp"})
    get_conversation = contract.match("GET", "/conversations/123")
    assert contract.check_response(get_conversation, 200, {"type": "conversation", "id": "1", "company": None, "title": None}) == []
    assert contract.check_response(get_conversation, 200, {"type": "conversation", "id": 1})


def test_literal_segments_win_over_parameters(contract):
    assert contract.match("POST", "/contacts/search").operation_id == "SearchContacts"
    assert contract.match("GET", "/conversations/attributes").operation_id == "listConversationAttributes"
    assert contract.match("GET", "/conversations/42").operation_id == "retrieveConversation"


async def test_the_recorder_reports_what_breaks_the_contract(contract):
    class Wrong(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            return httpx.Response(200, json={"type": "contact", "id": 7, "created_at": "yesterday"})

    recorder = ContractRecorder(contract, Wrong())
    async with httpx.AsyncClient(base_url="http://sandbox", transport=recorder) as http:
        await http.post("/contacts", json={"name": "no identity"})
        await http.get("/no/such/operation")
    found = {(v.where, v.path) for v in recorder.violations}
    assert ("request", "$") in found and ("response 200", "$.id") in found and ("response 200", "$.created_at") in found
    assert any("no operation" in v.message for v in recorder.violations)


def test_the_sandbox_holds_requests_to_a_faithful_copy_of_the_description():
    import json

    from connectors.intercom.sandbox.contract import SPEC_JSON
    from tests.intercom.contract.openapi import load_spec

    assert json.loads(SPEC_JSON.read_bytes()) == load_spec()
