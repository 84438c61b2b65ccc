"""Contacts: create (409 means "adopt this id"), find, search, update, archive, delete."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from connectors.intercom import pagination
from connectors.intercom.errors import Conflict
from connectors.intercom.models import (
    Company,
    Contact,
    ContactArchived,
    ContactCreate,
    ContactCreated,
    ContactDeleted,
    ContactUpdate,
    Query,
)
from connectors.intercom.resources.common import delete, fetch, fetch_or_none, segment
from connectors.intercom.session import Call, IntercomSession

_EXISTING_ID = re.compile(r"already exists with id=([A-Za-z0-9_-]+)")


def existing_contact_id(message: str) -> str | None:
    """The id in "A contact matching those details already exists with id=<id>"."""
    found = _EXISTING_ID.search(message or "")
    return found.group(1) if found else None


class Contacts:
    def __init__(self, session: IntercomSession) -> None:
        self._session = session

    async def create(self, contact: ContactCreate) -> ContactCreated:
        """Create a contact; a duplicate comes back as `existing=True` with its id.

        Re-sent after a failure only when keyed (external_id, or a user's email): a
        duplicate then answers 409 instead of creating a second contact. A lead without
        one is reported `WriteInDoubt` instead.
        """
        call = Call("contacts.create", "POST", "/contacts", idempotent=contact.is_keyed, body=contact.payload())
        try:
            response = await self._session.send(call)
        except Conflict as exc:
            existing = existing_contact_id(exc.error_message)
            if existing is None:
                raise
            return ContactCreated(id=existing, existing=True, earlier_attempt_in_doubt=exc.after_uncertain_attempt)
        created = Contact.model_validate_json(response.content)
        return ContactCreated(id=created.id, contact=created)

    async def get(self, contact_id: str) -> Contact:
        return await fetch(self._session, Call("contacts.get", "GET", f"/contacts/{segment(contact_id)}", idempotent=True), Contact)

    async def find_by_external_id(self, external_id: str) -> Contact | None:
        """A user by external_id (Intercom finds users only, not leads); None when absent."""
        call = Call("contacts.find_by_external_id", "GET", f"/contacts/find_by_external_id/{segment(external_id)}", idempotent=True)
        return await fetch_or_none(self._session, call, Contact)

    async def update(self, contact_id: str, changes: ContactUpdate) -> Contact:
        call = Call("contacts.update", "PUT", f"/contacts/{segment(contact_id)}", idempotent=True, body=changes.payload())
        return await fetch(self._session, call, Contact)

    async def delete(self, contact_id: str) -> ContactDeleted:
        """Hard delete; it also removes the contact's conversations."""
        call = Call("contacts.delete", "DELETE", f"/contacts/{segment(contact_id)}", idempotent=True)
        return await delete(self._session, call, ContactDeleted, contact_id)

    async def archive(self, contact_id: str) -> ContactArchived:
        call = Call("contacts.archive", "POST", f"/contacts/{segment(contact_id)}/archive", idempotent=True)
        return await fetch(self._session, call, ContactArchived)

    async def unarchive(self, contact_id: str) -> ContactArchived:
        call = Call("contacts.unarchive", "POST", f"/contacts/{segment(contact_id)}/unarchive", idempotent=True)
        return await fetch(self._session, call, ContactArchived)

    def search(self, query: Query, *, per_page: int = 50, sort: dict[str, str] | None = None) -> AsyncIterator[Contact]:
        """Contacts matching a query (see models.search). New contacts appear after minutes."""
        extra: dict[str, Any] | None = {"sort": sort} if sort else None
        return pagination.body_cursor(self._session, "contacts.search", "/contacts/search", query, "data", Contact, per_page, extra)

    async def count(self, query: Query) -> int:
        """How many contacts match a query (search's `total_count`; new contacts count after minutes)."""
        body = {"query": query, "pagination": {"per_page": 1}}
        data = (await self._session.send(Call("contacts.search", "POST", "/contacts/search", idempotent=True,
                                              body=body))).json()
        return int(data.get("total_count") or 0)

    def list(self, *, per_page: int = 50) -> AsyncIterator[Contact]:
        return pagination.query_cursor(self._session, "contacts.list", "/contacts", per_page, "data", Contact)

    async def attach_company(self, contact_id: str, company_id: str) -> Company:
        """Link a contact to a company by the company's Intercom id (not your company_id)."""
        call = Call("contacts.attach_company", "POST", f"/contacts/{segment(contact_id)}/companies", idempotent=True, body={"id": company_id})
        return await fetch(self._session, call, Company)

    async def detach_company(self, contact_id: str, company_id: str) -> Company:
        path = f"/contacts/{segment(contact_id)}/companies/{segment(company_id)}"
        return await fetch(self._session, Call("contacts.detach_company", "DELETE", path, idempotent=True), Company)
