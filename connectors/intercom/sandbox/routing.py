"""Glue between Starlette and the route functions: bodies, parameters, paging, JSON."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.intercom.sandbox.errors import ApiError, invalid

Handler = Callable[[Request], Awaitable[Any]]


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


def route(path: str, method: str, handler: Handler) -> Route:
    """A route whose handler returns a JSON-able value (or a ready Response)."""

    async def endpoint(request: Request) -> Response:
        result = await handler(request)
        return result if isinstance(result, Response) else JsonResponse(result)

    return Route(path, endpoint, methods=[method], name=f"{method} {path}")


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise invalid("There was a problem in the JSON you submitted") from None
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object")
    return data


def int_param(request: Request, name: str, default: int, *, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"{name} must be an integer") from None
    if value < 1:
        raise invalid(f"{name} must be at least 1")
    return min(value, maximum) if maximum else value


def bool_param(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() in ("1", "true", "yes")


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "offset":
            raise ValueError(text)
        return max(0, int(value))
    except (ValueError, UnicodeDecodeError):
        raise invalid("starting_after is not a valid cursor") from None


def cursor_page(items: Sequence[Any], per_page: int, cursor: str | None) -> tuple[list[Any], dict[str, Any]]:
    """A slice and its `pages` object for cursor pagination (`next` absent on the last page)."""
    offset = decode_cursor(cursor)
    chunk = list(items[offset : offset + per_page])
    pages: dict[str, Any] = {
        "type": "pages",
        "page": offset // per_page + 1,
        "per_page": per_page,
        "total_pages": max(1, math.ceil(len(items) / per_page)),
    }
    if offset + per_page < len(items):
        pages["next"] = {"per_page": per_page, "starting_after": encode_cursor(offset + per_page)}
    return chunk, pages


def numbered_page(items: Sequence[Any], page: int, per_page: int) -> tuple[list[Any], dict[str, Any]]:
    chunk = list(items[(page - 1) * per_page : page * per_page])
    pages = {"type": "pages", "page": page, "per_page": per_page, "total_pages": max(1, math.ceil(len(items) / per_page))}
    return chunk, pages


def require(body: dict[str, Any], name: str, message: str | None = None) -> Any:
    value = body.get(name)
    if value is None or value == "":
        raise ApiError(400, "parameter_not_found", message or f"{name} is a required parameter")
    return value
