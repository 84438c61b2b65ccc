"""Conversations: contact-initiated create, replies and notes, state parts, attributes,
tags, search and delete.

Create answers a `message` whose `conversation_id` names the conversation and honours
`created_at`, as do replies and notes; close, open, snooze and assignment parts are
stamped now (Intercom offers no `created_at` for them). Search sees a conversation
`search_lag` seconds after it is created, as Intercom's index does. A reply dated before the
conversation's last part is refused (parts stay in time order), and so is a part beyond
the 500th; reads return the 500 most recent, as Intercom does. A contact's reply to a
closed or snoozed conversation reopens it, as it does in Intercom (its statistics count
these reopens): whoever keeps a conversation closed must close it again.
"""

from __future__ import annotations

import base64
import binascii
from collections import OrderedDict
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from connectors.intercom.models.conversations import MAX_ATTACHMENTS, MAX_PARTS, MAX_PARTS_RETURNED
from connectors.intercom.sandbox.errors import ApiError, invalid, not_found
from connectors.intercom.sandbox.routes.attributes import check_conversation_attributes
from connectors.intercom.sandbox.routes.companies import render_company
from connectors.intercom.sandbox.routes.contacts import USER_NOT_FOUND, contact_reference
from connectors.intercom.sandbox.routes.tags import add_tag, remove_tag, render_tag
from connectors.intercom.sandbox.routing import (
    JsonResponse, cursor_page, encode_json, int_param, json_body, numbered_page, require, route,
)
from connectors.intercom.sandbox.search import compile_query, dotted
from connectors.intercom.sandbox.state import SandboxState
from connectors.intercom.sandbox.store import Obj, Store

SEARCH_FIELDS = frozenset(
    {"id", "created_at", "updated_at", "contact_ids", "state", "open", "read", "admin_assignee_id", "team_assignee_id",
     "tag_ids", "title", "source.id", "source.type", "source.subject", "source.body", "source.author.id",
     "source.author.type", "source.author.email", "custom_attributes.*"}
)


def author_of_contact(contact: Obj) -> Obj:
    return {"type": contact["role"], "id": contact["id"], "name": contact.get("name"), "email": contact.get("email") or ""}


def author_of_admin(admin: Obj) -> Obj:
    return {"type": "admin", "id": admin["id"], "name": admin["name"], "email": admin["email"]}


def attachments_from(body: dict[str, Any]) -> list[Obj]:
    """Attachment records for URLs and base64 files, after Intercom's limits (10 of each)."""
    urls, files = body.get("attachment_urls") or [], body.get("attachment_files") or []
    if not isinstance(urls, list) or not isinstance(files, list):
        raise invalid("attachment_urls and attachment_files must be lists")
    if len(urls) > MAX_ATTACHMENTS or len(files) > MAX_ATTACHMENTS:
        raise invalid(f"A message can have at most {MAX_ATTACHMENTS} attachments", rule="part.attachment_limit")
    out = []
    for url in urls:
        name = str(url).rstrip("/").rsplit("/", 1)[-1] or "attachment"
        out.append({"type": "upload", "name": name, "url": str(url), "content_type": "application/octet-stream", "filesize": 0})
    for index, item in enumerate(files):
        if not isinstance(item, dict) or not item.get("data") or not item.get("name"):
            raise invalid(f"attachment_files[{index}] needs name, content_type and data")
        try:
            size = len(base64.b64decode(item["data"], validate=True))
        except (binascii.Error, ValueError):
            raise invalid(f"attachment_files[{index}].data is not valid base64") from None
        out.append({
            "type": "upload",
            "name": item["name"],
            "url": f"https://sandbox.invalid/uploads/{item['name']}",
            "content_type": item.get("content_type") or "application/octet-stream",
            "filesize": size,
        })
    return out


def _render_part(part: Obj) -> Obj:
    return {
        "type": "conversation_part",
        "id": part["id"],
        "part_type": part["part_type"],
        "body": part.get("body"),
        "created_at": part["created_at"],
        "updated_at": part["created_at"],
        "notified_at": part["created_at"],
        "assigned_to": part.get("assigned_to"),
        "author": part["author"],
        "attachments": part.get("attachments", []),
        "external_id": None,
        "redacted": False,
        "state": part["state"],
        "tags": [],
    }


ANSWERS_KEPT = 64  # conversations whose parts' JSON is kept (the loader writes a few at once)


class PartsJson:
    """Each conversation part's JSON, encoded once: a reply answers the whole conversation,
    so a long thread's parts were encoded again for every reply (time that grew with the
    square of its length). The text is kept while the store says only parts were appended
    since (its `revision`), for the conversations answered last only."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._kept: OrderedDict[str, tuple[int, list[str]]] = OrderedDict()

    def listing(self, conversation: Obj) -> str:
        parts, key = conversation["parts"], str(conversation["id"])
        revision = self.store.revision("conversations", key)
        kept, encoded = self._kept.pop(key, (revision, []))
        if kept != revision or len(encoded) > len(parts):
            encoded = []
        encoded += [encode_json(_render_part(p)) for p in parts[len(encoded):]]
        self._kept[key] = (revision, encoded)
        if len(self._kept) > ANSWERS_KEPT:
            self._kept.popitem(last=False)
        shown = encoded[-MAX_PARTS_RETURNED:] if parts else []
        empty = encode_json({"type": "conversation_part.list", "conversation_parts": [], "total_count": len(parts)})
        return empty.replace('"conversation_parts":[]', '"conversation_parts":[' + ",".join(shown) + "]", 1)

    def answer(self, state: SandboxState, conversation: Obj) -> JsonResponse:
        """The conversation with its (500 most recent) parts, as JSON."""
        head = encode_json(render_conversation(state, conversation))
        return JsonResponse(f'{head[:-1]},"conversation_parts":{self.listing(conversation)}}}'.encode())


def render_conversation(state: SandboxState, conversation: Obj) -> Obj:
    """A conversation as Intercom answers it, without its parts (listings and searches
    carry none; `PartsJson.answer` adds them)."""
    tags = []
    for tag_id in conversation.get("tag_ids", []):
        tag = state.store.get("tags", tag_id)
        if tag is not None:
            applied = conversation.get("tag_applied", {}).get(tag_id, {})
            tags.append({**render_tag(tag), "applied_at": applied.get("at"), "applied_by": {"type": "admin", "id": applied.get("by")}})
    company = state.store.get("companies", conversation["company_id"]) if conversation.get("company_id") else None
    out: Obj = {
        "type": "conversation",
        "id": conversation["id"],
        "title": conversation.get("title"),
        "created_at": conversation["created_at"],
        "updated_at": conversation["updated_at"],
        "waiting_since": None,
        "snoozed_until": conversation.get("snoozed_until"),
        "open": conversation["state"] != "closed",
        "state": conversation["state"],
        "read": conversation.get("read", False),
        "priority": "none",
        "company": render_company(company) if company else None,
        "tags": {"type": "tag.list", "tags": tags},
        "conversation_rating": None,
        "source": conversation["source"],
        "contacts": {"type": "contact.list", "contacts": conversation["contact_refs"]},
        "teammates": {"type": "admin.list", "teammates": [{"type": "admin", "id": a} for a in conversation.get("teammate_ids", [])]},
        "custom_attributes": conversation.get("custom_attributes", {}),
        "first_contact_reply": None,
        "sla_applied": None,
        "statistics": None,
        "linked_objects": {"type": "list", "total_count": 0, "has_more": False, "data": []},
        "ai_agent_participated": False,
    }
    for key in ("admin_assignee_id", "team_assignee_id"):
        if conversation.get(key) is not None:
            out[key] = int(conversation[key])
    return out


def _read(conversation: Obj, field: str) -> Any:
    if field == "open":
        return conversation["state"] != "closed"
    return dotted(conversation, field)


def routes(state: SandboxState) -> list[Route]:
    store = state.store
    parts_json = PartsJson(store)

    def require_conversation(conversation_id: str) -> Obj:
        return state.require("conversations", conversation_id)

    def add_part(conversation: Obj, part: Obj) -> Obj:
        if len(conversation["parts"]) + 1 >= MAX_PARTS:  # the opening message is part one
            raise invalid(f"A conversation can have at most {MAX_PARTS} parts", rule="conversation.part_limit")
        part["id"] = state.number_id("parts", 100_000_000)
        part.setdefault("state", conversation["state"])
        conversation["parts"].append(part)
        conversation["updated_at"] = max(conversation["updated_at"], part["created_at"])
        return store.append("conversations", conversation)

    async def create(request: Request) -> Obj:
        body = await json_body(request)
        sender = body.get("from")
        if not isinstance(sender, dict) or not sender.get("id") or sender.get("type") not in ("user", "lead", "contact"):
            raise invalid("from must be {type: user|lead|contact, id}", code="parameter_not_found")
        contact = store.get("contacts", str(sender["id"]))
        if contact is None:
            raise not_found(USER_NOT_FOUND)
        text = require(body, "body", "Body is required")
        attachments = attachments_from({"attachment_urls": body.get("attachment_urls")})
        created_at = int(body["created_at"]) if body.get("created_at") is not None else state.now()
        message_id = state.number_id("messages", 403_918_000)
        conversation = {
            "id": state.number_id("conversations", 500),
            "created_at": created_at,
            "updated_at": created_at,
            "state": "open",
            "read": False,
            "title": None,
            "contact_ids": [contact["id"]],
            "contact_refs": [contact_reference(contact)],
            "source": {
                "type": "conversation",
                "id": message_id,
                "delivered_as": "customer_initiated",
                "subject": body.get("subject") or "",
                "body": text,
                "author": author_of_contact(contact),
                "attachments": attachments,
                "url": None,
                "redacted": False,
            },
            "parts": [],
            "tag_ids": [],
            "custom_attributes": {},
            "indexed_at": state.now() + state.search_lag,
        }
        store.put("conversations", conversation)
        return {"type": "user_message", "id": message_id, "created_at": created_at, "body": text, "message_type": "inapp",
                "conversation_id": conversation["id"]}

    async def reply(request: Request) -> Obj:
        conversation = require_conversation(request.path_params["conversation_id"])
        body = await json_body(request)
        created_at = int(body["created_at"]) if body.get("created_at") is not None else state.now()
        latest = max([conversation["created_at"], *(p["created_at"] for p in conversation["parts"])])
        if created_at < latest:
            raise invalid(f"created_at {created_at} is before the conversation's last part ({latest}): parts are "
                          "kept in time order", rule="part.created_at_order")
        attachments = attachments_from(body)
        if body.get("type") == "admin":
            admin = state.require_admin(body.get("admin_id"))
            message_type = body.get("message_type")
            if message_type not in ("comment", "note", "quick_reply"):
                raise invalid("message_type must be comment, note or quick_reply")
            if message_type != "quick_reply":
                require(body, "body", "Body is required")
            author = author_of_admin(admin)
            if admin["id"] not in conversation.setdefault("teammate_ids", []):
                conversation["teammate_ids"].append(admin["id"])
        elif body.get("type") == "user":
            if body.get("message_type") != "comment":
                raise invalid("message_type must be comment for a contact reply")
            require(body, "body", "Body is required")
            contact = _replying_contact(body)
            author = author_of_contact(contact)
            message_type = "comment"
            if conversation["state"] != "open":  # the customer wrote again: the conversation is open again
                conversation["state"] = "open"
                conversation.pop("snoozed_until", None)
        else:
            raise invalid("type must be admin or user")
        part = {"part_type": message_type, "body": body.get("body"), "created_at": created_at, "author": author, "attachments": attachments}
        return parts_json.answer(state, add_part(conversation, part))

    def _replying_contact(body: dict[str, Any]) -> Obj:
        keys = [key for key in ("intercom_user_id", "user_id", "email") if body.get(key)]
        if len(keys) != 1:
            raise invalid("a contact reply needs exactly one of intercom_user_id, user_id, email")
        key = keys[0]
        if key == "intercom_user_id":
            contact = store.get("contacts", str(body[key]))
        elif key == "user_id":
            contact = store.lookup("contacts", "external_id", body[key])
        else:
            contact = store.lookup("contacts", "user_email", str(body[key]).casefold())
        if contact is None:
            raise not_found(USER_NOT_FOUND)
        return contact

    async def manage(request: Request) -> Obj:
        conversation = require_conversation(request.path_params["conversation_id"])
        body = await json_body(request)
        admin = state.require_admin(body.get("admin_id"))
        kind = body.get("message_type")
        part: Obj = {"created_at": state.now(), "author": author_of_admin(admin), "body": body.get("body")}
        if kind == "close":
            conversation["state"], part["part_type"] = "closed", "close"
            conversation.pop("snoozed_until", None)
        elif kind == "open":
            conversation["state"], part["part_type"] = "open", "open"
            conversation.pop("snoozed_until", None)
        elif kind == "snoozed":
            until = body.get("snoozed_until")
            if not isinstance(until, int):
                raise invalid("snoozed_until is required", code="parameter_not_found")
            conversation["state"], conversation["snoozed_until"], part["part_type"] = "snoozed", until, "snoozed"
        elif kind == "assignment":
            assignee = str(require(body, "assignee_id"))
            to_team = body.get("type") == "team"
            if assignee != "0" and store.get("teams" if to_team else "admins", assignee) is None:
                raise ApiError(404, "assignee_not_found", "Assignee not found")
            key = "team_assignee_id" if to_team else "admin_assignee_id"
            conversation[key] = None if assignee == "0" else assignee
            part["part_type"] = "assignment"
            part["assigned_to"] = None if assignee == "0" else {"type": "team" if to_team else "admin", "id": assignee}
        else:
            raise invalid("message_type must be close, open, snoozed or assignment")
        part["state"] = conversation["state"]
        return parts_json.answer(state, add_part(conversation, part))

    async def update(request: Request) -> Obj:
        conversation = require_conversation(request.path_params["conversation_id"])
        body = await json_body(request)
        if "custom_attributes" in body:
            values = check_conversation_attributes(state, body["custom_attributes"])
            conversation["custom_attributes"] = {**conversation.get("custom_attributes", {}), **values}
        if "title" in body:
            conversation["title"] = body["title"]
        if "read" in body:
            conversation["read"] = bool(body["read"])
        if "company_id" in body:
            conversation["company_id"] = state.require("companies", body["company_id"], "Company Not Found", "company_not_found")["id"]
        conversation["updated_at"] = max(conversation["updated_at"], state.now())
        return parts_json.answer(state, store.put("conversations", conversation))

    async def get(request: Request) -> Obj:
        return parts_json.answer(state, require_conversation(request.path_params["conversation_id"]))

    async def delete(request: Request) -> Obj:
        conversation = require_conversation(request.path_params["conversation_id"])
        store.remove("conversations", conversation["id"])
        store.put("deleted_conversations", {"id": conversation["id"], "deleted_at": state.now()})
        return {"id": conversation["id"], "object": "conversation", "deleted": True}

    async def search(request: Request) -> Obj:
        body = await json_body(request)
        if "query" not in body:
            raise invalid("query is required", code="parameter_not_found")
        matches = compile_query(body["query"], _read, SEARCH_FIELDS)
        now = state.now()
        found = [c for c in store.all("conversations") if c.get("indexed_at", 0) <= now and matches(c)]
        pagination = body.get("pagination") or {}
        per_page = min(int(pagination.get("per_page") or 20), 150)
        page, pages = cursor_page(found, per_page, pagination.get("starting_after"), state.cursors)
        items = [render_conversation(state, c) for c in page]
        return {"type": "conversation.list", "conversations": items, "total_count": len(found), "pages": pages}

    async def list_conversations(request: Request) -> Obj:
        everything = list(store.all("conversations"))
        page, pages = cursor_page(everything, int_param(request, "per_page", 20, maximum=150), request.query_params.get("starting_after"), state.cursors)
        items = [render_conversation(state, c) for c in page]
        return {"type": "conversation.list", "conversations": items, "total_count": len(everything), "pages": pages}

    async def list_deleted(request: Request) -> Obj:
        deleted = list(store.all("deleted_conversations"))
        page, pages = numbered_page(deleted, int_param(request, "page", 1), int_param(request, "per_page", 20, maximum=60))
        return {
            "type": "conversation.list",
            "conversations": [{"type": "conversation", "id": d["id"], "deleted_at": d["deleted_at"]} for d in page],
            "total_count": len(deleted),
            "pages": pages,
        }

    async def tag(request: Request) -> Obj:
        conversation = require_conversation(request.path_params["conversation_id"])
        body = await json_body(request)
        admin = state.require_admin(body.get("admin_id"))
        return add_tag(state, "conversations", conversation, body.get("id"), {"at": state.now(), "by": admin["id"]})

    async def untag(request: Request) -> Obj:
        conversation = require_conversation(request.path_params["conversation_id"])
        body = await json_body(request)
        state.require_admin(body.get("admin_id"))
        return remove_tag(state, "conversations", conversation, request.path_params["tag_id"])

    return [
        route("/conversations", "POST", create),
        route("/conversations", "GET", list_conversations),
        route("/conversations/search", "POST", search),
        route("/conversations/deleted", "GET", list_deleted),
        route("/conversations/{conversation_id}", "GET", get),
        route("/conversations/{conversation_id}", "PUT", update),
        route("/conversations/{conversation_id}", "DELETE", delete),
        route("/conversations/{conversation_id}/reply", "POST", reply),
        route("/conversations/{conversation_id}/parts", "POST", manage),
        route("/conversations/{conversation_id}/tags", "POST", tag),
        route("/conversations/{conversation_id}/tags/{tag_id}", "DELETE", untag),
    ]
