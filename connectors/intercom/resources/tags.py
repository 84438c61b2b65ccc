"""Tags: find-or-create by name, tag and untag contacts and conversations, delete."""

from __future__ import annotations

from connectors.intercom.models import Deleted, Tag
from connectors.intercom.resources.common import delete, fetch, segment
from connectors.intercom.session import Call, IntercomSession


class Tags:
    def __init__(self, session: IntercomSession) -> None:
        self._session = session

    async def create(self, name: str) -> Tag:
        """The tag with this name (case-insensitive), created when missing; safe to repeat."""
        return await fetch(self._session, Call("tags.create", "POST", "/tags", idempotent=True, body={"name": name}), Tag)

    async def list(self) -> list[Tag]:
        data = (await self._session.send(Call("tags.list", "GET", "/tags", idempotent=True))).json()
        return [Tag.model_validate(item) for item in data.get("data") or ()]

    async def find_by_name(self, name: str) -> Tag | None:
        wanted = name.casefold()
        return next((tag for tag in await self.list() if (tag.name or "").casefold() == wanted), None)

    async def get(self, tag_id: str) -> Tag:
        return await fetch(self._session, Call("tags.get", "GET", f"/tags/{segment(tag_id)}", idempotent=True), Tag)

    async def delete(self, tag_id: str) -> Deleted:
        """Fails with BadRequest `tag_has_dependent_objects` while segments use it."""
        return await delete(self._session, Call("tags.delete", "DELETE", f"/tags/{segment(tag_id)}", idempotent=True), Deleted, tag_id)

    async def tag_contact(self, contact_id: str, tag_id: str) -> Tag:
        call = Call("tags.tag_contact", "POST", f"/contacts/{segment(contact_id)}/tags", idempotent=True, body={"id": tag_id})
        return await fetch(self._session, call, Tag)

    async def tag_conversation(self, conversation_id: str, tag_id: str, admin_id: str) -> Tag:
        path = f"/conversations/{segment(conversation_id)}/tags"
        call = Call("tags.tag_conversation", "POST", path, idempotent=True, body={"id": tag_id, "admin_id": admin_id})
        return await fetch(self._session, call, Tag)

    async def untag_conversation(self, conversation_id: str, tag_id: str, admin_id: str) -> Tag:
        path = f"/conversations/{segment(conversation_id)}/tags/{segment(tag_id)}"
        call = Call("tags.untag_conversation", "DELETE", path, idempotent=True, body={"admin_id": admin_id})
        return await fetch(self._session, call, Tag)
