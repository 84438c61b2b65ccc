"""Tickets (an alternative target for ITSM records): create, reply, search, delete."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from connectors.intercom.models.base import IntercomModel, RequestModel
from connectors.intercom.models.conversations import ContactRef, PartAttachment, PartAuthor


class TicketContact(RequestModel):
    """One of `id`, `external_id` or `email` (an unknown email creates the contact)."""

    id: str | None = None
    external_id: str | None = None
    email: str | None = None

    @model_validator(mode="after")
    def _one_key(self) -> TicketContact:
        if sum(1 for value in (self.id, self.external_id, self.email) if value) != 1:
            raise ValueError("a ticket contact is given by exactly one of id, external_id, email")
        return self


class TicketAssignment(RequestModel):
    admin_assignee_id: str | None = None
    team_assignee_id: str | None = None


class TicketCreate(RequestModel):
    ticket_type_id: str
    contacts: list[TicketContact] = Field(min_length=1, max_length=1)  # "currently only one is allowed"
    created_at: int | None = None
    company_id: str | None = None
    ticket_attributes: dict[str, Any] | None = None  # _default_title_, _default_description_, ...
    assignment: TicketAssignment | None = None
    conversation_to_link_id: str | None = None
    skip_notifications: bool | None = None


class TicketState(IntercomModel):
    id: str | None = None
    category: str | None = None
    internal_label: str | None = None


class TicketContacts(IntercomModel):
    contacts: list[ContactRef] = []


class TicketPart(IntercomModel):
    id: str
    part_type: str | None = None
    body: str | None = None
    created_at: int | None = None
    author: PartAuthor | None = None


class TicketParts(IntercomModel):
    ticket_parts: list[TicketPart] = []
    total_count: int | None = None


class Ticket(IntercomModel):
    """`id` is the one for API calls; `ticket_id` is the number shown in the Inbox."""

    type: str = "ticket"
    id: str
    ticket_id: str | None = None
    category: str | None = None
    ticket_attributes: dict[str, Any] = {}
    ticket_state: TicketState | None = None
    contacts: TicketContacts | None = None
    created_at: int | None = None
    updated_at: int | None = None
    open: bool | None = None
    ticket_parts: TicketParts | None = None


class TicketReply(IntercomModel):
    type: str | None = None
    id: str
    part_type: str | None = None
    body: str | None = None
    created_at: int | None = None
    author: PartAuthor | None = None
    attachments: list[PartAttachment] = []
