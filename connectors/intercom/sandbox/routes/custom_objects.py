"""Custom object instances of the configured types, upserted on external_id.

`GET /custom_object_instances/{type}?external_id=` answers the single instance (the
operation's description says so, although its response schema is the list).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from connectors.intercom.sandbox.errors import ApiError, invalid, not_found
from connectors.intercom.sandbox.routing import int_param, json_body, numbered_page, route
from connectors.intercom.sandbox.state import SandboxState
from connectors.intercom.sandbox.store import Obj


def render_instance(instance: Obj) -> Obj:
    return {key: instance.get(key) for key in (
        "id", "type", "external_id", "external_created_at", "external_updated_at", "created_at", "updated_at", "custom_attributes"
    )}


def routes(state: SandboxState) -> list[Route]:
    store = state.store

    def object_type(request: Request) -> str:
        name = request.path_params["object_type"]
        if name not in state.custom_object_types:
            raise ApiError(404, "not_found", f"Custom object type `{name}` not found")
        return name

    def by_external_id(type_name: str, external_id: str) -> Obj | None:
        return store.lookup("custom_objects", "external_id", f"{type_name}\x00{external_id}")

    async def upsert(request: Request) -> Obj:
        type_name = object_type(request)
        body = await json_body(request)
        external_id = body.get("external_id")
        if not external_id:
            raise invalid("external_id is required", code="parameter_not_found")
        attributes = body.get("custom_attributes") or {}
        if not isinstance(attributes, dict):
            raise invalid("custom_attributes must be an object")
        now = state.now()
        instance = by_external_id(type_name, external_id) or {"id": state.number_id("custom_objects", 16_000), "type": type_name,
                                                               "external_id": external_id, "created_at": now, "custom_attributes": {}}
        instance["custom_attributes"] = {**instance["custom_attributes"], **attributes}
        for key in ("external_created_at", "external_updated_at"):
            if key in body:
                instance[key] = body[key]
        instance["updated_at"] = now
        return render_instance(store.put("custom_objects", instance))

    async def find_or_list(request: Request) -> Obj:
        type_name = object_type(request)
        external_id = request.query_params.get("external_id")
        if external_id is not None:
            instance = by_external_id(type_name, external_id)
            if instance is None:
                raise not_found()
            return render_instance(instance)
        everything = [i for i in store.all("custom_objects") if i["type"] == type_name]
        page, pages = numbered_page(everything, int_param(request, "page", 1), int_param(request, "per_page", 20, maximum=150))
        return {"type": "list", "pages": pages, "total_count": len(everything), "data": [render_instance(i) for i in page]}

    async def get(request: Request) -> Obj:
        type_name = object_type(request)
        instance = state.require("custom_objects", request.path_params["instance_id"])
        if instance["type"] != type_name:
            raise not_found()
        return render_instance(instance)

    async def delete_by_external_id(request: Request) -> Obj:
        type_name = object_type(request)
        instance = by_external_id(type_name, request.query_params.get("external_id", ""))
        if instance is None:
            raise not_found()
        store.remove("custom_objects", instance["id"])
        return {"object": type_name, "id": instance["id"], "deleted": True}

    async def delete(request: Request) -> Obj:
        type_name = object_type(request)
        instance = state.require("custom_objects", request.path_params["instance_id"])
        if instance["type"] != type_name:
            raise not_found()
        store.remove("custom_objects", instance["id"])
        return {"object": type_name, "id": instance["id"], "deleted": True}

    return [
        route("/custom_object_instances/{object_type}", "POST", upsert),
        route("/custom_object_instances/{object_type}", "GET", find_or_list),
        route("/custom_object_instances/{object_type}", "DELETE", delete_by_external_id),
        route("/custom_object_instances/{object_type}/{instance_id}", "GET", get),
        route("/custom_object_instances/{object_type}/{instance_id}", "DELETE", delete),
    ]
