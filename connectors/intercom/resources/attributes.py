"""Data attributes (contact, company) and conversation attributes: list, create, archive."""

from __future__ import annotations

from typing import Any, Literal

from connectors.intercom.models import (
    ConversationAttribute,
    ConversationAttributeCreate,
    DataAttribute,
    DataAttributeCreate,
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
        path = f"/data_attributes/{segment(attribute_id)}"
        call = Call("data_attributes.archive", "PUT", path, idempotent=True, body={"archived": True})
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

    async def archive(self, attribute_id: int) -> ConversationAttribute:
        """`DELETE /conversations/attributes/{id}` archives (a soft delete)."""
        path = f"/conversations/attributes/{segment(attribute_id)}"
        return await fetch(self._session, Call("conversation_attributes.archive", "DELETE", path, idempotent=True), ConversationAttribute)
