"""Tickets: create, reply, get, search, delete (an alternative target for ITSM records)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from connectors.intercom import pagination
from connectors.intercom.models import AdminReply, ContactReply, Deleted, Query, Ticket, TicketCreate, TicketReply
from connectors.intercom.resources.common import delete, fetch, segment
from connectors.intercom.session import Call, IntercomSession


class Tickets:
    def __init__(self, session: IntercomSession) -> None:
        self._session = session

    async def create(self, ticket: TicketCreate) -> Ticket:
        return await fetch(self._session, Call("tickets.create", "POST", "/tickets", idempotent=False, body=ticket.payload()), Ticket)

    async def reply(self, ticket_id: str, reply: AdminReply | ContactReply) -> TicketReply:
        path = f"/tickets/{segment(ticket_id)}/reply"
        return await fetch(self._session, Call("tickets.reply", "POST", path, idempotent=False, body=reply.payload()), TicketReply)

    async def get(self, ticket_id: str) -> Ticket:
        return await fetch(self._session, Call("tickets.get", "GET", f"/tickets/{segment(ticket_id)}", idempotent=True), Ticket)

    def search(self, query: Query, *, per_page: int = 20) -> AsyncIterator[Ticket]:
        return pagination.body_cursor(self._session, "tickets.search", "/tickets/search", query, "tickets", Ticket, per_page)

    async def delete(self, ticket_id: str) -> Deleted:
        path = f"/tickets/{segment(ticket_id)}"
        return await delete(self._session, Call("tickets.delete", "DELETE", path, idempotent=True), Deleted, ticket_id)
