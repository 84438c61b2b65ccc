"""Data attributes (contact, company) and conversation attributes: list, create, archive."""

from __future__ import annotations

from typing import Any, Literal

from connectors.intercom.models import (
    ConversationAttribute,
    ConversationAttributeCreate,
    ConversationAttributeOption,
    DataAttribute,
    DataAttributeCreate,
    DataAttributeUpdate,
)
from connectors.intercom.resources.common import fetch, segment
from connectors.intercom.session import Call, IntercomSession


class DataAttributes:
    def __init__(self, session: IntercomSession) -> None:
        self._session = session

    async def list(self, model: Literal["contact", "company"] | None = None, *, include_archived: bool = False) -> list[DataAttribute]:
        params: dict[str, Any] = {"include_archived": "true" if include_archived else "false"}
        if model:
            params["model"] = model
        data = (await self._session.send(Call("data_attributes.list", "GET", "/data_attributes", idempotent=True, params=params))).json()
        return [DataAttribute.model_validate(item) for item in data.get("data") or ()]

    async def create(self, attribute: DataAttributeCreate) -> DataAttribute:
        """Not repeated after a failure (a second try would say the name is taken): in doubt."""
        call = Call("data_attributes.create", "POST", "/data_attributes", idempotent=False, body=attribute.payload())
        return await fetch(self._session, call, DataAttribute)

    async def archive(self, attribute_id: int) -> DataAttribute:
        """Data attributes cannot be deleted; archiving frees a place under the 250 limit."""
        return await self.update(attribute_id, DataAttributeUpdate(archived=True), "data_attributes.archive")

    async def update(self, attribute_id: int, changes: DataAttributeUpdate,
                     operation: str = "data_attributes.update") -> DataAttribute:
        """Unarchive, or replace an options attribute's options (setting is safe to repeat)."""
        path = f"/data_attributes/{segment(attribute_id)}"
        call = Call(operation, "PUT", path, idempotent=True, body=changes.payload())
        return await fetch(self._session, call, DataAttribute)


class ConversationAttributes:
    """The 2.16 conversation attributes API; values must have an attribute before they are set."""

    def __init__(self, session: IntercomSession) -> None:
        self._session = session

    async def list(self, *, include_archived: bool = False) -> list[ConversationAttribute]:
        params = {"include_archived": "true" if include_archived else "false"}
        call = Call("conversation_attributes.list", "GET", "/conversations/attributes", idempotent=True, params=params)
        data = (await self._session.send(call)).json()
        return [ConversationAttribute.model_validate(item) for item in data.get("data") or ()]

    async def create(self, attribute: ConversationAttributeCreate) -> ConversationAttribute:
        call = Call("conversation_attributes.create", "POST", "/conversations/attributes", idempotent=False, body=attribute.payload())
        return await fetch(self._session, call, ConversationAttribute)

    async def add_option(self, attribute_id: int, label: str) -> ConversationAttribute:
        """A new option on a list attribute (not repeated after a failure: in doubt)."""
        path = f"/conversations/attributes/{segment(attribute_id)}/options"
        call = Call("conversation_attributes.add_option", "POST", path, idempotent=False,
                    body=ConversationAttributeOption(label=label).payload())
        return await fetch(self._session, call, ConversationAttribute)

    async def archive(self, attribute_id: int) -> ConversationAttribute:
        """`DELETE /conversations/attributes/{id}` archives (a soft delete)."""
        path = f"/conversations/attributes/{segment(attribute_id)}"
        return await fetch(self._session, Call("conversation_attributes.archive", "DELETE", path, idempotent=True), ConversationAttribute)
