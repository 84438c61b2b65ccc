"""Contacts: create with Intercom's duplicate rule, read, update, search, archive, delete,
and their links to companies and tags.

Search sees a contact `search_lag` seconds after it is created, as Intercom's index does.
Identity: a contact is created with an email or an external_id (a role alone makes a
contact nobody can find again). Duplicates: a contact with the same external_id (or, without one, a user with the same
email; leads may share emails) answers 409 "A contact matching those details already
exists with id=<id>" ("An archived contact ..." when that one is archived). Deleting a
contact also deletes the conversations it alone takes part in, as Intercom does.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from connectors.intercom.sandbox.errors import ApiError, invalid, not_found
from connectors.intercom.sandbox.routes.attributes import check_custom_attributes
from connectors.intercom.sandbox.routes.companies import render_company
from connectors.intercom.sandbox.routes.tags import add_tag, remove_tag
from connectors.intercom.sandbox.routing import cursor_page, int_param, json_body, route
from connectors.intercom.sandbox.search import compile_query, dotted
from connectors.intercom.sandbox.state import WORKSPACE_ID, SandboxState
from connectors.intercom.sandbox.store import Obj

WRITABLE = ("role", "external_id", "email", "phone", "name", "avatar", "signed_up_at", "last_seen_at", "owner_id", "unsubscribed_from_emails")
SEARCH_FIELDS = frozenset(
    {"id", "role", "name", "email", "email_domain", "phone", "external_id", "created_at", "updated_at",
     "signed_up_at", "last_seen_at", "tag_id", "company_id", "custom_attributes.*"}
)
USER_NOT_FOUND = "User Not Found"


def render_contact(contact: Obj) -> Obj:
    cid = contact["id"]
    email = contact.get("email") or ""
    return {
        "type": "contact",
        "id": cid,
        "workspace_id": WORKSPACE_ID,
        "external_id": contact.get("external_id"),
        "role": contact["role"],
        "email": email,
        "email_domain": email.partition("@")[2],
        "phone": contact.get("phone"),
        "name": contact.get("name"),
        "avatar": {"type": "avatar", "image_url": contact["avatar"]} if contact.get("avatar") else None,
        "owner_id": contact.get("owner_id"),
        "social_profiles": {"type": "list", "data": []},
        "has_hard_bounced": False,
        "marked_email_as_spam": False,
        "unsubscribed_from_emails": bool(contact.get("unsubscribed_from_emails")),
        "created_at": contact["created_at"],
        "updated_at": contact["updated_at"],
        "signed_up_at": contact.get("signed_up_at"),
        "last_seen_at": contact.get("last_seen_at"),
        "last_replied_at": None,
        "last_contacted_at": None,
        "last_email_opened_at": None,
        "last_email_clicked_at": None,
        "language_override": None,
        "browser": None,
        "browser_version": None,
        "browser_language": None,
        "os": None,
        "location": {"type": "location", "country": None, "region": None, "city": None},
        "custom_attributes": contact.get("custom_attributes", {}),
        "tags": _addressable("tag", contact.get("tag_ids", []), f"/contacts/{cid}/tags"),
        "notes": _addressable("note", [], f"/contacts/{cid}/notes"),
        "companies": _addressable("company", contact.get("company_ids", []), f"/contacts/{cid}/companies"),
    }


def _addressable(kind: str, ids: list[str], url: str) -> Obj:
    return {
        "type": "list",
        "data": [{"type": kind, "id": item, "url": f"/{kind}s/{item}"} for item in ids],
        "url": url,
        "total_count": len(ids),
        "has_more": False,
    }


def contact_reference(contact: Obj) -> Obj:
    return {"type": "contact", "id": contact["id"], "external_id": contact.get("external_id")}


def find_duplicate(state: SandboxState, external_id: Any, email: Any, role: str) -> Obj | None:
    if external_id:
        return state.store.lookup("contacts", "external_id", external_id)
    if email and role == "user":
        return state.store.lookup("contacts", "user_email", str(email).casefold())
    return None


def conflict(existing: Obj) -> ApiError:
    prefix = "An archived contact" if existing.get("archived") else "A contact"
    return ApiError(409, "conflict", f"{prefix} matching those details already exists with id={existing['id']}")


def _apply(state: SandboxState, contact: Obj, body: dict[str, Any]) -> None:
    if "email_verified" in body and not body.get("email"):
        raise invalid("email_verified can only be set together with email")
    if "role" in body and body["role"] not in ("user", "lead"):
        raise invalid("role must be either user or lead")
    if body.get("owner_id") is not None and state.admin(body["owner_id"]) is None:
        raise ApiError(404, "admin_not_found", "Owner not found")
    for key in WRITABLE:
        if key in body:
            contact[key] = body[key]
    if "custom_attributes" in body:
        values = check_custom_attributes(state, "contact", body["custom_attributes"])
        contact["custom_attributes"] = {**contact.get("custom_attributes", {}), **values}


def _read(contact: Obj, field: str) -> Any:
    if field == "email_domain":
        return (contact.get("email") or "").partition("@")[2] or None
    if field == "tag_id":
        return contact.get("tag_ids", [])
    if field == "company_id":
        return contact.get("company_ids", [])
    return dotted(contact, field)


def routes(state: SandboxState) -> list[Route]:
    store = state.store

    def require_contact(contact_id: str) -> Obj:
        return state.require("contacts", contact_id, USER_NOT_FOUND)

    async def create(request: Request) -> Obj:
        body = await json_body(request)
        if not (body.get("email") or body.get("external_id")):
            raise invalid("A contact needs an email or an external_id to be identified", code="parameter_not_found",
                          rule="contact.identifier")
        role = body.get("role") or "user"
        existing = find_duplicate(state, body.get("external_id"), body.get("email"), role)
        if existing is not None:
            raise conflict(existing)
        now = state.now()
        contact: Obj = {"id": state.hex_id("contacts"), "role": role, "created_at": now, "updated_at": now,
                        "custom_attributes": {}, "tag_ids": [], "company_ids": [], "archived": False,
                        "indexed_at": now + state.search_lag}
        _apply(state, contact, {**body, "role": role})
        return render_contact(store.put("contacts", contact))

    async def get(request: Request) -> Obj:
        return render_contact(require_contact(request.path_params["contact_id"]))

    async def find_by_external_id(request: Request) -> Obj:
        contact = store.lookup("contacts", "external_id", request.path_params["external_id"])
        if contact is None or contact["role"] != "user":
            raise not_found(USER_NOT_FOUND)
        return render_contact(contact)

    async def update(request: Request) -> Obj:
        contact = require_contact(request.path_params["contact_id"])
        body = await json_body(request)
        new_external_id = body.get("external_id")
        if new_external_id and new_external_id != contact.get("external_id"):
            other = store.lookup("contacts", "external_id", new_external_id)
            if other is not None and other["id"] != contact["id"]:
                raise conflict(other)
        _apply(state, contact, body)
        contact["updated_at"] = state.now()
        return render_contact(store.put("contacts", contact))

    async def delete(request: Request) -> Obj:
        contact = require_contact(request.path_params["contact_id"])
        for conversation in store.all("conversations"):
            if conversation["contact_ids"] == [contact["id"]]:
                store.remove("conversations", conversation["id"])
        for company_id in contact.get("company_ids", []):
            _adjust_user_count(state, company_id, -1)
        store.remove("contacts", contact["id"])
        return {"type": "contact", "id": contact["id"], "external_id": contact.get("external_id"), "deleted": True}

    async def archive(request: Request) -> Obj:
        return _set_archived(request.path_params["contact_id"], True)

    async def unarchive(request: Request) -> Obj:
        return _set_archived(request.path_params["contact_id"], False)

    def _set_archived(contact_id: str, archived: bool) -> Obj:
        contact = require_contact(contact_id)
        contact["archived"] = archived
        contact["updated_at"] = state.now()
        store.put("contacts", contact)
        return {"type": "contact", "id": contact["id"], "external_id": contact.get("external_id"), "archived": archived}

    async def search(request: Request) -> Obj:
        body = await json_body(request)
        if "query" not in body:
            raise invalid("query is required", code="parameter_not_found")
        matches = compile_query(body["query"], _read, SEARCH_FIELDS)
        now = state.now()
        found = [c for c in store.all("contacts") if c.get("indexed_at", 0) <= now and matches(c)]
        sort = body.get("sort")
        if isinstance(sort, dict) and sort.get("field"):
            if sort.get("order", "descending") not in ("ascending", "descending"):
                raise invalid("sort order must be ascending or descending", code="invalid_sort_order")
            key = sort["field"]
            found.sort(key=lambda c: (_read(c, key) is None, _read(c, key) or 0), reverse=sort.get("order", "descending") == "descending")
        pagination = body.get("pagination") or {}
        per_page = min(int(pagination.get("per_page") or 50), 150)
        page, pages = cursor_page(found, per_page, pagination.get("starting_after"), state.cursors)
        return {"type": "list", "data": [render_contact(c) for c in page], "total_count": len(found), "pages": pages}

    async def list_contacts(request: Request) -> Obj:
        everyone = list(store.all("contacts"))
        page, pages = cursor_page(everyone, int_param(request, "per_page", 50, maximum=150), request.query_params.get("starting_after"), state.cursors)
        return {"type": "list", "data": [render_contact(c) for c in page], "total_count": len(everyone), "pages": pages}

    async def attach_company(request: Request) -> Obj:
        contact = require_contact(request.path_params["contact_id"])
        body = await json_body(request)
        if not body.get("id"):
            raise ApiError(400, "parameter_not_found", "company not specified")
        company = store.get("companies", str(body["id"]))
        if company is None or company.get("archived"):
            raise ApiError(404, "company_not_found", "Company Not Found")
        if company["id"] not in contact["company_ids"]:
            if len(contact["company_ids"]) >= 1000:
                raise ApiError(400, "contact_company_limit_exceeded", "Contact has reached the maximum of 1000 company associations")
            contact["company_ids"].append(company["id"])
            store.put("contacts", contact)
            company = _adjust_user_count(state, company["id"], +1)
        return render_company(company)

    async def detach_company(request: Request) -> Obj:
        contact = require_contact(request.path_params["contact_id"])
        company = state.require("companies", request.path_params["company_id"], "Company Not Found", "company_not_found")
        if company["id"] in contact["company_ids"]:
            contact["company_ids"].remove(company["id"])
            store.put("contacts", contact)
            company = _adjust_user_count(state, company["id"], -1)
        return render_company(company)

    async def tag(request: Request) -> Obj:
        contact = require_contact(request.path_params["contact_id"])
        return add_tag(state, "contacts", contact, (await json_body(request)).get("id"))

    async def untag(request: Request) -> Obj:
        contact = require_contact(request.path_params["contact_id"])
        return remove_tag(state, "contacts", contact, request.path_params["tag_id"])

    return [
        route("/contacts", "POST", create),
        route("/contacts", "GET", list_contacts),
        route("/contacts/search", "POST", search),
        route("/contacts/find_by_external_id/{external_id:path}", "GET", find_by_external_id),
        route("/contacts/{contact_id}", "GET", get),
        route("/contacts/{contact_id}", "PUT", update),
        route("/contacts/{contact_id}", "DELETE", delete),
        route("/contacts/{contact_id}/archive", "POST", archive),
        route("/contacts/{contact_id}/unarchive", "POST", unarchive),
        route("/contacts/{contact_id}/companies", "POST", attach_company),
        route("/contacts/{contact_id}/companies/{company_id}", "DELETE", detach_company),
        route("/contacts/{contact_id}/tags", "POST", tag),
        route("/contacts/{contact_id}/tags/{tag_id}", "DELETE", untag),
    ]


def _adjust_user_count(state: SandboxState, company_id: str, delta: int) -> Obj:
    company = state.require("companies", company_id, "Company Not Found", "company_not_found")
    company["user_count"] = max(0, company.get("user_count", 0) + delta)
    return state.store.put("companies", company)
