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


def encode_json(content: Any) -> str:
    """A JSON answer's text, as every route answers it."""
    return json.dumps(content, separators=(",", ":"), ensure_ascii=False)


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else encode_json(content).encode()


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


class CursorBook:
    """Cursors are opaque and minted per listing (a search id and an offset), as Intercom's
    are. A cursor used a second time is counted (noted, not refused: Intercom would answer
    the same page again), because a loader that asks twice is wasting calls or looping."""

    def __init__(self, on_repeat: Callable[[str], None]) -> None:
        self._listings = 0
        self._used: set[str] = set()
        self._on_repeat = on_repeat

    def mint(self) -> int:
        self._listings += 1
        return self._listings

    def use(self, cursor: str) -> tuple[int, int]:
        """(listing, offset) of a cursor; a repeat is reported."""
        listing, offset = _decode(cursor)
        if cursor in self._used:
            self._on_repeat(cursor)
        self._used.add(cursor)
        return listing, offset


def _encode(listing: int, offset: int) -> str:
    return base64.urlsafe_b64encode(f"s{listing}:{offset}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        listing, _, offset = text.partition(":")
        if not listing.startswith("s"):
            raise ValueError(text)
        return int(listing[1:]), max(0, int(offset))
    except (ValueError, UnicodeDecodeError):
        raise invalid("starting_after is not a valid cursor") from None


def cursor_page(items: Sequence[Any], per_page: int, cursor: str | None, book: CursorBook) -> tuple[list[Any], dict[str, Any]]:
    """A slice and its `pages` object for cursor pagination (`next` absent on the last page)."""
    listing, offset = book.use(cursor) if cursor else (book.mint(), 0)
    chunk = list(items[offset : offset + per_page])
    pages: dict[str, Any] = {
        "type": "pages",
        "page": offset // per_page + 1,
        "per_page": per_page,
        "total_pages": max(1, math.ceil(len(items) / per_page)),
    }
    if offset + per_page < len(items):
        pages["next"] = {"per_page": per_page, "starting_after": _encode(listing, offset + per_page)}
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
