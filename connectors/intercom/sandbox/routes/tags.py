"""Tags: `POST /tags {name}` finds (case-insensitively) or creates; `{id, name}` renames."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.intercom.sandbox.errors import ApiError
from connectors.intercom.sandbox.routing import json_body, require, route
from connectors.intercom.sandbox.state import SandboxState
from connectors.intercom.sandbox.store import Obj


def render_tag(tag: Obj) -> Obj:
    return {"type": "tag", "id": tag["id"], "name": tag["name"]}


def add_tag(state: SandboxState, kind: str, obj: Obj, tag_id: Any, applied: Obj | None = None) -> Obj:
    """Tag a contact or a conversation (once); `applied` records when and by whom."""
    tag = state.require("tags", tag_id, "Tag not found", "tag_not_found")
    if tag["id"] not in obj["tag_ids"]:
        obj["tag_ids"].append(tag["id"])
        if applied is not None:
            obj.setdefault("tag_applied", {})[tag["id"]] = applied
        state.store.put(kind, obj)
    return render_tag(tag)


def remove_tag(state: SandboxState, kind: str, obj: Obj, tag_id: Any) -> Obj:
    """Take a tag off a contact or a conversation (a tag it does not have is no error)."""
    tag = state.require("tags", tag_id, "Tag not found", "tag_not_found")
    if tag["id"] in obj["tag_ids"]:
        obj["tag_ids"].remove(tag["id"])
        state.store.put(kind, obj)
    return render_tag(tag)


def routes(state: SandboxState) -> list[Route]:
    store = state.store

    async def create_or_update(request: Request) -> Obj:
        body = await json_body(request)
        if any(key in body for key in ("companies", "users")):
            raise ApiError(400, "parameter_invalid", "the sandbox tags contacts and conversations one at a time")
        name = str(require(body, "name")).strip()
        if body.get("id"):
            tag = state.require("tags", body["id"], "Tag not found", "tag_not_found")
            other = store.lookup("tags", "name", name.casefold())
            if other is not None and other["id"] != tag["id"]:
                raise ApiError(400, "parameter_invalid", f"A tag named '{name}' already exists")
            tag["name"] = name
            return render_tag(store.put("tags", tag))
        tag = store.lookup("tags", "name", name.casefold())
        if tag is None:
            tag = store.put("tags", {"id": state.number_id("tags", 7_522_900), "name": name})
        return render_tag(tag)

    async def list_tags(request: Request) -> Obj:
        return {"type": "list", "data": [render_tag(t) for t in store.all("tags")]}

    async def get(request: Request) -> Obj:
        return render_tag(state.require("tags", request.path_params["tag_id"]))

    async def delete(request: Request) -> Response:
        tag = state.require("tags", request.path_params["tag_id"])
        for kind, key in (("contacts", "tag_ids"), ("conversations", "tag_ids")):
            for obj in store.all(kind):
                if tag["id"] in obj.get(key, []):
                    obj[key].remove(tag["id"])
                    store.put(kind, obj)
        store.remove("tags", tag["id"])
        return Response(status_code=200)

    return [
        route("/tags", "POST", create_or_update),
        route("/tags", "GET", list_tags),
        route("/tags/{tag_id}", "GET", get),
        route("/tags/{tag_id}", "DELETE", delete),
    ]
