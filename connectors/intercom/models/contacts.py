"""Contacts (users and leads) and what create/update send."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from connectors.intercom.models.base import IntercomModel, RequestModel


class ContactUpdate(RequestModel):
    """What a contact update sends; a create sends the same fields."""

    role: Literal["user", "lead"] | None = None
    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    avatar: str | None = None
    signed_up_at: int | None = None
    last_seen_at: int | None = None
    owner_id: str | None = None
    unsubscribed_from_emails: bool | None = None
    custom_attributes: dict[str, Any] | None = None


class ContactCreate(ContactUpdate):
    """`created_at` cannot be set on contacts; `signed_up_at` and `last_seen_at` can."""

    @model_validator(mode="after")
    def _identified(self) -> ContactCreate:
        if not (self.email or self.external_id or self.role):
            raise ValueError("a contact needs an email, an external_id or a role")
        return self

    @property
    def is_keyed(self) -> bool:
        """Intercom answers a duplicate with 409 + the existing id, so a re-send is safe.

        True with an external_id, or an email on a user (leads may share an email).
        """
        return bool(self.external_id) or (bool(self.email) and self.role != "lead")


class AddressableRef(IntercomModel):
    type: str | None = None
    id: str
    url: str | None = None


class AddressableList(IntercomModel):
    data: list[AddressableRef] = []
    total_count: int | None = None
    has_more: bool | None = None


class Contact(IntercomModel):
    type: str = "contact"
    id: str
    external_id: str | None = None
    workspace_id: str | None = None
    role: str | None = None
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    owner_id: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    signed_up_at: int | None = None
    last_seen_at: int | None = None
    unsubscribed_from_emails: bool | None = None
    custom_attributes: dict[str, Any] = {}
    tags: AddressableList | None = None
    companies: AddressableList | None = None


class ContactCreated(IntercomModel):
    """The outcome of a contact create.

    `existing` is True when Intercom answered 409 "... already exists with id=<id>": `id`
    is that contact's and `contact` is None. `earlier_attempt_in_doubt` is True when an
    earlier attempt of this same call may have been applied (the retry then met our own
    contact), so "existing" does not prove the contact predates the migration.
    """

    id: str
    existing: bool = False
    contact: Contact | None = None
    earlier_attempt_in_doubt: bool = False


class ContactDeleted(IntercomModel):
    type: str | None = None
    id: str
    external_id: str | None = None
    deleted: bool = True
    already_gone: bool = False


class ContactArchived(IntercomModel):
    type: str | None = None
    id: str
    external_id: str | None = None
    archived: bool = True
