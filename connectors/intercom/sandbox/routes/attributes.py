"""Data attributes (contact, company) and conversation attributes, with Intercom's rules.

Names: letters, digits, spaces, underscores, hyphens and currency symbols; unique across
the contact and company models together, case-insensitively, standard and archived
attributes included (Intercom's 400: "You already have 'X' in your company data. To save
this as new people data, use a different name."); at most 250 custom attributes not
archived. There is no delete: archiving frees a place. Values written to contacts,
companies and conversations must name an existing, unarchived attribute of that model,
have its type, and (options, lists) be one of its options.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from connectors.intercom.models.attributes import MAX_CUSTOM_DATA_ATTRIBUTES, attribute_name_problem
from connectors.intercom.sandbox.errors import ApiError, invalid
from connectors.intercom.sandbox.routing import bool_param, json_body, route
from connectors.intercom.sandbox.state import ME_ADMIN_ID, STANDARD_ATTRIBUTES, SandboxState
from connectors.intercom.sandbox.store import Obj

DATA_TYPES = ("string", "integer", "float", "boolean", "datetime", "date", "options")
CONVERSATION_TYPES = ("string", "integer", "list", "decimal", "boolean", "datetime", "relationship", "files")
_MODEL_WORD = {"contact": "people", "company": "company"}


def _value_fits(data_type: str, value: Any, options: list[str] | None) -> bool:
    if value is None:
        return True
    if data_type == "string":
        return isinstance(value, str)
    if data_type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if data_type in ("float", "decimal"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if data_type == "boolean":
        return isinstance(value, bool)
    if data_type in ("date", "datetime"):
        return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, str)
    if data_type in ("options", "list"):
        return isinstance(value, str) and (not options or value in options)
    return True


def _holder(state: SandboxState, name: str) -> str | None:
    """The model that already has an attribute of this name (any case, archived too)."""
    wanted = name.casefold()
    for model, standard in STANDARD_ATTRIBUTES.items():
        if any(n.casefold() == wanted for n, _ in standard):
            return model
    for attribute in state.store.all("data_attributes"):
        if attribute["name"].casefold() == wanted:
            return str(attribute["model"])
    return None


def check_custom_attributes(state: SandboxState, model: str, values: Any) -> dict[str, Any]:
    """The values, once every key is a live custom attribute of `model` with a fitting type."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise invalid("custom_attributes must be an object")
    mine = {a["name"]: a for a in state.store.all("data_attributes") if a["model"] == model}
    for name, value in values.items():
        attribute = mine.get(name)
        if attribute is None:
            raise invalid(f"Custom attribute '{name}' does not exist", rule="attribute.unknown")
        if attribute.get("archived"):
            raise invalid(f"Custom attribute '{name}' is archived", rule="attribute.archived")
        _check_value(f"Custom attribute '{name}'", attribute["data_type"], value, attribute.get("options"))
    return dict(values)


def _check_value(what: str, data_type: str, value: Any, options: list[str] | None) -> None:
    if not _value_fits(data_type, value, None):
        raise invalid(f"{what} expects a {data_type} value, not {type(value).__name__}", rule="attribute.type")
    if value is not None and data_type in ("options", "list") and options and value not in options:
        raise invalid(f"{what}: {value!r} is not one of its options", rule="attribute.option")


def check_conversation_attributes(state: SandboxState, values: Any) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise invalid("custom_attributes must be an object")
    live: dict[str, list[Obj]] = {}
    for attribute in state.store.all("conversation_attributes"):
        if not attribute.get("archived"):
            live.setdefault(attribute["name"], []).append(attribute)
    for name, value in values.items():
        matches = live.get(name, [])
        if not matches:
            raise invalid(f"Conversation attribute '{name}' does not exist", rule="attribute.unknown")
        if len(matches) > 1:
            raise ApiError(400, "INVALID_PARAMETER", f"Several conversation attributes are named '{name}'")
        attribute = matches[0]
        labels = [option["label"] for option in attribute.get("options", []) if not option.get("archived")]
        _check_value(f"Conversation attribute '{name}'", attribute["data_type"], value, labels)
    return dict(values)


def render_data_attribute(attribute: Obj) -> Obj:
    shown_type = {"datetime": "date", "options": "string"}.get(attribute["data_type"], attribute["data_type"])
    out = {
        "type": "data_attribute",
        "id": attribute["id"],
        "model": attribute["model"],
        "name": attribute["name"],
        "full_name": f"custom_attributes.{attribute['name']}",
        "label": attribute["name"],
        "description": attribute.get("description") or "",
        "data_type": shown_type,
        "api_writable": True,
        "ui_writable": True,
        "messenger_writable": attribute.get("messenger_writable", False),
        "custom": True,
        "archived": attribute.get("archived", False),
        "admin_id": ME_ADMIN_ID,
        "created_at": attribute["created_at"],
        "updated_at": attribute["updated_at"],
    }
    if attribute.get("options"):
        out["options"] = attribute["options"]
    return out


def _standard(model: str) -> list[Obj]:
    return [
        {
            "type": "data_attribute",
            "model": model,
            "name": name,
            "full_name": name,
            "label": name.replace("_", " ").capitalize(),
            "description": "",
            "data_type": data_type,
            "api_writable": name not in ("user_count",),
            "ui_writable": False,
            "messenger_writable": True,
            "custom": False,
            "archived": False,
        }
        for name, data_type in STANDARD_ATTRIBUTES[model]
    ]


def render_conversation_attribute(attribute: Obj) -> Obj:
    out = {
        "type": "conversation_attribute",
        "id": attribute["id"],
        "name": attribute["name"],
        "description": attribute.get("description") or "",
        "data_type": attribute["data_type"],
        "required": attribute.get("required", False),
        "visible_to_team_ids": attribute.get("visible_to_team_ids", []),
        "archived": attribute.get("archived", False),
        "created_at": attribute["created_at"],
        "updated_at": attribute["updated_at"],
        "admin_id": ME_ADMIN_ID,
    }
    if attribute["data_type"] == "string":
        out["multiline"] = attribute.get("multiline", False)
    if attribute["data_type"] == "list":
        out["options"] = attribute.get("options", [])
    return out


def routes(state: SandboxState) -> list[Route]:
    store = state.store

    async def list_data_attributes(request: Request) -> Obj:
        model = request.query_params.get("model")
        if model == "conversation":
            raise ApiError(422, "parameter_invalid", "Conversation attributes are listed at /conversations/attributes")
        if model not in (None, "contact", "company"):
            raise invalid("The Data Attribute model field must be either contact or company")
        include_archived = bool_param(request, "include_archived")
        models = [model] if model else ["contact", "company"]
        data = [standard for m in models for standard in _standard(m)]
        data += [
            render_data_attribute(a)
            for a in store.all("data_attributes")
            if a["model"] in models and (include_archived or not a.get("archived"))
        ]
        return {"type": "list", "data": data}

    async def create_data_attribute(request: Request) -> Obj:
        body = await json_body(request)
        name, model, data_type = body.get("name"), body.get("model"), body.get("data_type")
        if model not in ("contact", "company"):
            raise invalid("The Data Attribute model field must be either contact or company")
        if data_type not in DATA_TYPES:
            raise invalid("Data Type isn't an option")
        problem = attribute_name_problem(name if isinstance(name, str) else "")
        if problem:
            raise invalid(problem)
        holder = _holder(state, name)
        if holder is not None:
            raise invalid(f"You already have '{name}' in your {_MODEL_WORD[holder]} data. To save this as new "
                          f"{_MODEL_WORD[model]} data, use a different name.", rule="attribute.name_taken")
        options = None
        if data_type == "options":
            raw = body.get("options")
            if not isinstance(raw, list) or len(raw) < 2 or not all(isinstance(o, dict) and o.get("value") for o in raw):
                raise invalid("Options attributes need at least two options, each with a value")
            options = [str(o["value"]) for o in raw]
        live = sum(1 for a in store.all("data_attributes") if not a.get("archived"))
        if live >= MAX_CUSTOM_DATA_ATTRIBUTES:
            raise invalid(f"You have reached the limit of {MAX_CUSTOM_DATA_ATTRIBUTES} custom data attributes; archive some first",
                          rule="attribute.limit")
        now = state.now()
        attribute = {
            "id": store.next_id("data_attributes") + 100,
            "model": model,
            "name": name,
            "data_type": data_type,
            "description": body.get("description"),
            "messenger_writable": bool(body.get("messenger_writable", False)),
            "options": options,
            "archived": False,
            "created_at": now,
            "updated_at": now,
        }
        return render_data_attribute(store.put("data_attributes", attribute))

    async def update_data_attribute(request: Request) -> Obj:
        attribute = state.require("data_attributes", request.path_params["attribute_id"], "Data attribute not found", "field_not_found")
        body = await json_body(request)
        if body.get("archived") is False and attribute.get("archived"):
            live = sum(1 for a in store.all("data_attributes") if not a.get("archived"))
            if live >= MAX_CUSTOM_DATA_ATTRIBUTES:
                raise invalid(f"You have reached the limit of {MAX_CUSTOM_DATA_ATTRIBUTES} custom data attributes; "
                              "archive some first", rule="attribute.limit")
        if "archived" in body:
            attribute["archived"] = bool(body["archived"])
        for key in ("description", "messenger_writable"):
            if key in body:
                attribute[key] = body[key]
        if "options" in body and attribute["data_type"] == "options":
            options = [str(o.get("value")) for o in body["options"] if isinstance(o, dict) and o.get("value")]
            if len(options) < 2:
                raise invalid("Options attributes need at least two options, each with a value")
            attribute["options"] = options
        attribute["updated_at"] = state.now()
        return render_data_attribute(store.put("data_attributes", attribute))

    async def list_conversation_attributes(request: Request) -> Obj:
        include_archived = bool_param(request, "include_archived")
        data = [render_conversation_attribute(a) for a in store.all("conversation_attributes") if include_archived or not a.get("archived")]
        return {"type": "list", "data": data}

    async def create_conversation_attribute(request: Request) -> Obj:
        body = await json_body(request)
        data_type = body.get("data_type")
        if data_type not in CONVERSATION_TYPES:
            raise ApiError(422, "parameter_invalid", f"data_type '{data_type}' is not valid. Allowed types: {', '.join(CONVERSATION_TYPES)}")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(422, "parameter_invalid", "name is required")
        now = state.now()
        attribute = {
            "id": store.next_id("conversation_attributes") + 500,
            "name": name,
            "data_type": data_type,
            "description": body.get("description"),
            "required": bool(body.get("required", False)),
            "visible_to_team_ids": body.get("visible_to_team_ids") or [],
            "multiline": bool(body.get("multiline", False)),
            "options": [
                {"type": "conversation_attribute_option", "id": str(index + 1), "label": str(o.get("label")), "archived": False}
                for index, o in enumerate(body.get("options") or [])
                if isinstance(o, dict)
            ],
            "archived": False,
            "created_at": now,
            "updated_at": now,
        }
        return render_conversation_attribute(store.put("conversation_attributes", attribute))

    async def archive_conversation_attribute(request: Request) -> Obj:
        attribute = state.require("conversation_attributes", request.path_params["attribute_id"], "Conversation attribute not found", "conversation_attribute_not_found")
        attribute["archived"] = True
        attribute["updated_at"] = state.now()
        return render_conversation_attribute(store.put("conversation_attributes", attribute))

    async def add_conversation_option(request: Request) -> Obj:
        attribute = state.require("conversation_attributes", request.path_params["attribute_id"], "Conversation attribute not found", "conversation_attribute_not_found")
        if attribute["data_type"] != "list":
            raise invalid("Options can only be added to list attributes")
        label = str((await json_body(request)).get("label") or "").strip()
        if not label:
            raise invalid("label is required", code="parameter_not_found")
        options = attribute.setdefault("options", [])
        if any(o["label"] == label and not o.get("archived") for o in options):
            raise invalid(f"The option '{label}' already exists")
        options.append({"type": "conversation_attribute_option", "id": str(len(options) + 1), "label": label, "archived": False})
        attribute["updated_at"] = state.now()
        return render_conversation_attribute(store.put("conversation_attributes", attribute))

    async def get_conversation_attribute(request: Request) -> Obj:
        attribute = state.require("conversation_attributes", request.path_params["attribute_id"], "Conversation attribute not found", "conversation_attribute_not_found")
        return render_conversation_attribute(attribute)

    return [
        route("/data_attributes", "GET", list_data_attributes),
        route("/data_attributes", "POST", create_data_attribute),
        route("/data_attributes/{attribute_id}", "PUT", update_data_attribute),
        route("/conversations/attributes", "GET", list_conversation_attributes),
        route("/conversations/attributes", "POST", create_conversation_attribute),
        route("/conversations/attributes/{attribute_id}", "GET", get_conversation_attribute),
        route("/conversations/attributes/{attribute_id}", "DELETE", archive_conversation_attribute),
        route("/conversations/attributes/{attribute_id}/options", "POST", add_conversation_option),
    ]
