"""Custom object instances: upsert and find on external_id, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator

from connectors.intercom import pagination
from connectors.intercom.errors import NotFound
from connectors.intercom.models import CustomObjectInstance, CustomObjectUpsert, Deleted
from connectors.intercom.resources.common import delete, fetch, segment
from connectors.intercom.session import Call, IntercomSession


class CustomObjects:
    def __init__(self, session: IntercomSession) -> None:
        self._session = session

    async def upsert(self, object_type: str, instance: CustomObjectUpsert) -> CustomObjectInstance:
        """Create, or update the instance with the same external_id (safe to repeat)."""
        call = Call("custom_objects.upsert", "POST", f"/custom_object_instances/{segment(object_type)}", idempotent=True, body=instance.payload())
        return await fetch(self._session, call, CustomObjectInstance)

    async def find_by_external_id(self, object_type: str, external_id: str) -> CustomObjectInstance | None:
        """Intercom answers the single instance here (not a list); a list is accepted too."""
        path = f"/custom_object_instances/{segment(object_type)}"
        call = Call("custom_objects.find", "GET", path, idempotent=True, params={"external_id": external_id})
        try:
            data = (await self._session.send(call)).json()
        except NotFound:
            return None
        if data.get("type") == "list":
            found = [item for item in data.get("data") or () if item.get("external_id") == external_id]
            return CustomObjectInstance.model_validate(found[0]) if found else None
        return CustomObjectInstance.model_validate(data) if data else None

    async def get(self, object_type: str, instance_id: str) -> CustomObjectInstance:
        path = f"/custom_object_instances/{segment(object_type)}/{segment(instance_id)}"
        return await fetch(self._session, Call("custom_objects.get", "GET", path, idempotent=True), CustomObjectInstance)

    async def probe(self, object_type: str) -> None:
        """One page of one instance: NotFound when the type is not defined in the workspace."""
        path = f"/custom_object_instances/{segment(object_type)}"
        await self._session.send(Call("custom_objects.list", "GET", path, idempotent=True,
                                      params={"page": 1, "per_page": 1}))

    def list(self, object_type: str, *, per_page: int = 50) -> AsyncIterator[CustomObjectInstance]:
        def call_for(page: int) -> Call:
            path = f"/custom_object_instances/{segment(object_type)}"
            return Call("custom_objects.list", "GET", path, idempotent=True, params={"page": page, "per_page": per_page})

        return pagination.page_numbers(self._session, call_for, "data", CustomObjectInstance)

    async def delete_by_external_id(self, object_type: str, external_id: str) -> Deleted:
        path = f"/custom_object_instances/{segment(object_type)}"
        call = Call("custom_objects.delete", "DELETE", path, idempotent=True, params={"external_id": external_id})
        return await delete(self._session, call, Deleted, external_id)

    async def delete(self, object_type: str, instance_id: str) -> Deleted:
        path = f"/custom_object_instances/{segment(object_type)}/{segment(instance_id)}"
        return await delete(self._session, Call("custom_objects.delete", "DELETE", path, idempotent=True), Deleted, instance_id)
