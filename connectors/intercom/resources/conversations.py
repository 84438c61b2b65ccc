"""Conversations: create, reply and note, state parts, update, read, search, delete.

Conversations have no idempotency key: create, reply and the state parts are never
re-sent after a failure that may have applied them; they raise `WriteInDoubt` and the
loader finds them again (`find_by_contact_and_created_at`) before sending anything twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from connectors.intercom import pagination
from connectors.intercom.models import (
    AdminReply,
    AssignConversation,
    CloseConversation,
    ContactReply,
    Conversation,
    ConversationAnswer,
    ConversationCreate,
    ConversationCreated,
    ConversationUpdate,
    Deleted,
    ManageConversation,
    OpenConversation,
    Query,
    all_of,
    where,
)
from connectors.intercom.resources.common import delete, fetch, segment
from connectors.intercom.session import Call, IntercomSession


class Conversations:
    def __init__(self, session: IntercomSession) -> None:
        self._session = session

    async def create(self, conversation: ConversationCreate) -> ConversationCreated:
        """Start a conversation from a contact; `.conversation_id` is the conversation's id."""
        call = Call("conversations.create", "POST", "/conversations", idempotent=False, body=conversation.payload())
        return await fetch(self._session, call, ConversationCreated)

    async def reply(self, conversation_id: str, reply: AdminReply | ContactReply) -> ConversationAnswer:
        """Add a reply or note; Intercom answers the whole conversation (the new part is
        last), read as a `ConversationAnswer` (`get` reads it whole)."""
        path = f"/conversations/{segment(conversation_id)}/reply"
        operation = "conversations.note" if isinstance(reply, AdminReply) and reply.message_type == "note" else "conversations.reply"
        return await fetch(self._session, Call(operation, "POST", path, idempotent=False, body=reply.payload()),
                           ConversationAnswer)

    async def manage(self, conversation_id: str, action: ManageConversation) -> ConversationAnswer:
        """Close, open or assign: each adds a part (close cannot be backdated)."""
        path = f"/conversations/{segment(conversation_id)}/parts"
        call = Call(f"conversations.{action.message_type}", "POST", path, idempotent=False, body=action.payload())
        return await fetch(self._session, call, ConversationAnswer)

    async def close(self, conversation_id: str, admin_id: str, body: str | None = None) -> ConversationAnswer:
        return await self.manage(conversation_id, CloseConversation(admin_id=admin_id, body=body))

    async def open(self, conversation_id: str, admin_id: str) -> ConversationAnswer:
        return await self.manage(conversation_id, OpenConversation(admin_id=admin_id))

    async def assign(self, conversation_id: str, admin_id: str, assignee_id: str, *, to_team: bool = False) -> ConversationAnswer:
        action = AssignConversation(admin_id=admin_id, assignee_id=assignee_id, type="team" if to_team else "admin")
        return await self.manage(conversation_id, action)

    async def update(self, conversation_id: str, changes: ConversationUpdate) -> Conversation:
        """Title, read flag, company and custom attribute values (setting is safe to repeat)."""
        path = f"/conversations/{segment(conversation_id)}"
        return await fetch(self._session, Call("conversations.update", "PUT", path, idempotent=True, body=changes.payload()), Conversation)

    async def get(self, conversation_id: str) -> Conversation:
        """With its parts (at most the 500 most recent)."""
        path = f"/conversations/{segment(conversation_id)}"
        return await fetch(self._session, Call("conversations.get", "GET", path, idempotent=True), Conversation)

    def search(self, query: Query, *, per_page: int = 20) -> AsyncIterator[Conversation]:
        return pagination.body_cursor(self._session, "conversations.search", "/conversations/search", query, "conversations", Conversation, per_page)

    async def find_by_contact_and_created_at(self, contact_id: str, created_at: int) -> list[Conversation]:
        """The conversations of a contact created at exactly this second (resume after doubt).

        Intercom may compare dates by day; the exact second is checked here as well.
        """
        query = all_of(where("contact_ids", "=", contact_id), where("created_at", "=", created_at))
        return [conversation async for conversation in self.search(query, per_page=150) if conversation.created_at == created_at]

    def list(self, *, per_page: int = 20) -> AsyncIterator[Conversation]:
        return pagination.query_cursor(self._session, "conversations.list", "/conversations", per_page, "conversations",
                                       Conversation)

    async def delete(self, conversation_id: str) -> Deleted:
        """Permanent. Reporting data is kept (the default `retain_metrics`)."""
        path = f"/conversations/{segment(conversation_id)}"
        return await delete(self._session, Call("conversations.delete", "DELETE", path, idempotent=True), Deleted, conversation_id)
