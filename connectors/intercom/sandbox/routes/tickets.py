"""Tickets of the seeded "Support request" type: create, reply, read, search, delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from connectors.intercom.sandbox.errors import ApiError, invalid, not_found
from connectors.intercom.sandbox.routes.contacts import USER_NOT_FOUND, contact_reference
from connectors.intercom.sandbox.routes.conversations import attachments_from, author_of_admin, author_of_contact
from connectors.intercom.sandbox.routing import cursor_page, json_body, require, route
from connectors.intercom.sandbox.search import compile_query, dotted
from connectors.intercom.sandbox.state import TICKET_STATES, WORKSPACE_ID, SandboxState
from connectors.intercom.sandbox.store import Obj

SEARCH_FIELDS = frozenset({"id", "created_at", "updated_at", "contact_ids", "ticket_type_id", "open", "state", "ticket_attribute.*"})


def _render_type(ticket_type: Obj) -> Obj:
    return {
        "type": "ticket_type",
        "id": ticket_type["id"],
        "category": ticket_type["category"],
        "name": ticket_type["name"],
        "description": "",
        "icon": "🎟️",
        "workspace_id": WORKSPACE_ID,
        "archived": False,
        "ticket_states": {"type": "list", "data": list(TICKET_STATES)},
    }


def _render_part(part: Obj) -> Obj:
    return {
        "type": "ticket_part",
        "id": part["id"],
        "part_type": part["part_type"],
        "body": part.get("body"),
        "created_at": part["created_at"],
        "updated_at": part["created_at"],
        "author": part["author"],
        "attachments": part.get("attachments", []),
        "redacted": False,
    }


def render_ticket(state: SandboxState, ticket: Obj) -> Obj:
    out = {
        "type": "ticket",
        "id": ticket["id"],
        "ticket_id": ticket["ticket_id"],
        "category": "Customer",
        "ticket_attributes": ticket["ticket_attributes"],
        "ticket_state": TICKET_STATES[ticket["state_index"]],
        "ticket_type": _render_type(state.require("ticket_types", ticket["ticket_type_id"])),
        "contacts": {"type": "contact.list", "contacts": ticket["contact_refs"]},
        "created_at": ticket["created_at"],
        "updated_at": ticket["updated_at"],
        "open": ticket["state_index"] != 3,
        "linked_objects": {"type": "list", "total_count": 0, "has_more": False, "data": []},
        "ticket_parts": {"type": "ticket_part.list", "ticket_parts": [_render_part(p) for p in ticket["parts"]], "total_count": len(ticket["parts"])},
        "is_shared": False,
    }
    for key in ("admin_assignee_id", "team_assignee_id"):
        if ticket.get(key):
            out[key] = int(ticket[key])
    return out


def _read(ticket: Obj, field: str) -> Any:
    if field.startswith("ticket_attribute."):
        return ticket["ticket_attributes"].get(field.partition(".")[2])
    if field == "open":
        return ticket["state_index"] != 3
    if field == "state":
        return TICKET_STATES[ticket["state_index"]]["category"]
    return dotted(ticket, field)


def routes(state: SandboxState) -> list[Route]:
    store = state.store

    def resolve_contact(entry: Any) -> Obj:
        if not isinstance(entry, dict):
            raise invalid("contacts entries are objects")
        if entry.get("id"):
            contact = store.get("contacts", str(entry["id"]))
        elif entry.get("external_id"):
            contact = store.lookup("contacts", "external_id", entry["external_id"])
        elif entry.get("email"):
            contact = store.lookup("contacts", "user_email", str(entry["email"]).casefold())
            if contact is None:  # "If a contact with this email does not exist, one will be created"
                now = state.now()
                contact = store.put("contacts", {"id": state.hex_id("contacts"), "role": "user", "email": entry["email"], "created_at": now,
                                                 "updated_at": now, "custom_attributes": {}, "tag_ids": [], "company_ids": [], "archived": False})
        else:
            raise invalid("a ticket contact needs id, external_id or email")
        if contact is None:
            raise not_found(USER_NOT_FOUND)
        return contact

    async def create(request: Request) -> Obj:
        body = await json_body(request)
        ticket_type = state.require("ticket_types", require(body, "ticket_type_id"), "Ticket type not found", "ticket_type_not_found")
        contacts = body.get("contacts")
        if not isinstance(contacts, list) or len(contacts) != 1:
            raise invalid("contacts must hold exactly one contact")
        contact = resolve_contact(contacts[0])
        attributes = body.get("ticket_attributes") or {}
        unknown = set(attributes) - set(ticket_type["attributes"])
        if unknown:
            raise invalid(f"Ticket attribute '{sorted(unknown)[0]}' does not exist for this ticket type")
        created_at = int(body["created_at"]) if body.get("created_at") is not None else state.now()
        assignment = body.get("assignment") or {}
        ticket = {
            "id": state.number_id("tickets", 600),
            "ticket_id": str(store.next_id("ticket_numbers")),
            "ticket_type_id": ticket_type["id"],
            "ticket_attributes": dict(attributes),
            "state_index": 0,
            "contact_ids": [contact["id"]],
            "contact_refs": [contact_reference(contact)],
            "admin_assignee_id": assignment.get("admin_assignee_id"),
            "team_assignee_id": assignment.get("team_assignee_id"),
            "created_at": created_at,
            "updated_at": created_at,
            "parts": [],
        }
        return render_ticket(state, store.put("tickets", ticket))

    async def reply(request: Request) -> Obj:
        ticket = state.require("tickets", request.path_params["ticket_id"], "Ticket not found", "ticket_not_found")
        body = await json_body(request)
        if body.get("type") == "admin":
            author = author_of_admin(state.require_admin(body.get("admin_id")))
            part_type = body.get("message_type")
            if part_type not in ("comment", "note", "quick_reply"):
                raise invalid("message_type must be comment, note or quick_reply")
        elif body.get("type") == "user":
            keys = [k for k in ("intercom_user_id", "user_id", "email") if body.get(k)]
            if len(keys) != 1:
                raise invalid("a contact reply needs exactly one of intercom_user_id, user_id, email")
            entry = {"intercom_user_id": "id", "user_id": "external_id", "email": "email"}[keys[0]]
            author = author_of_contact(resolve_contact({entry: body[keys[0]]}))
            part_type = "comment"
        else:
            raise ApiError(400, "parameter_invalid", "type must be admin or user")
        created_at = int(body["created_at"]) if body.get("created_at") is not None else state.now()
        part = {"id": state.number_id("ticket_parts", 200_000_000), "part_type": part_type, "body": body.get("body"),
                "created_at": created_at, "author": author, "attachments": attachments_from(body)}
        ticket["parts"].append(part)
        ticket["updated_at"] = max(ticket["updated_at"], created_at)
        store.put("tickets", ticket)
        return _render_part(part)

    async def get(request: Request) -> Obj:
        return render_ticket(state, state.require("tickets", request.path_params["ticket_id"], "Ticket not found", "ticket_not_found"))

    async def search(request: Request) -> Obj:
        body = await json_body(request)
        if "query" not in body:
            raise invalid("query is required", code="parameter_not_found")
        matches = compile_query(body["query"], _read, SEARCH_FIELDS | {"ticket_attribute.*"})
        found = [t for t in store.all("tickets") if matches(t)]
        pagination = body.get("pagination") or {}
        page, pages = cursor_page(found, min(int(pagination.get("per_page") or 20), 150), pagination.get("starting_after"), state.cursors)
        return {"type": "ticket.list", "tickets": [render_ticket(state, t) for t in page], "total_count": len(found), "pages": pages}

    async def delete(request: Request) -> Obj:
        ticket = state.require("tickets", request.path_params["ticket_id"], "Ticket not found", "ticket_not_found")
        store.remove("tickets", ticket["id"])
        return {"id": ticket["id"], "object": "ticket", "deleted": True}

    return [
        route("/tickets", "POST", create),
        route("/tickets/search", "POST", search),
        route("/tickets/{ticket_id}", "GET", get),
        route("/tickets/{ticket_id}", "DELETE", delete),
        route("/tickets/{ticket_id}/reply", "POST", reply),
    ]
