"""Intercom's three pagination styles as async iterators of typed items.

- cursor in the query string (`GET /contacts`, `GET /conversations`): `pages.next.starting_after`;
- cursor in the body (the search endpoints): `pagination.starting_after` in the next request;
- page numbers (`GET /companies`, collections, articles, custom object instances): `page`
  up to `pages.total_pages`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from connectors.intercom.session import Call, IntercomSession

M = TypeVar("M", bound=BaseModel)


def _next_cursor(data: dict[str, Any]) -> str | None:
    next_page = (data.get("pages") or {}).get("next")
    return next_page.get("starting_after") if isinstance(next_page, dict) else None


async def query_cursor(
    session: IntercomSession, operation: str, path: str, per_page: int, items_key: str, model: type[M]
) -> AsyncIterator[M]:
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"per_page": per_page}
        if cursor:
            params["starting_after"] = cursor
        data = (await session.send(Call(operation, "GET", path, idempotent=True, params=params))).json()
        for item in data.get(items_key) or ():
            yield model.model_validate(item)
        cursor = _next_cursor(data)
        if not cursor:
            return


async def body_cursor(
    session: IntercomSession,
    operation: str,
    path: str,
    query: dict[str, Any],
    items_key: str,
    model: type[M],
    per_page: int,
    extra: dict[str, Any] | None = None,
) -> AsyncIterator[M]:
    cursor: str | None = None
    while True:
        pagination: dict[str, Any] = {"per_page": per_page}
        if cursor:
            pagination["starting_after"] = cursor
        body = {"query": query, "pagination": pagination, **(extra or {})}
        data = (await session.send(Call(operation, "POST", path, idempotent=True, body=body))).json()
        for item in data.get(items_key) or ():
            yield model.model_validate(item)
        cursor = _next_cursor(data)
        if not cursor:
            return


async def page_numbers(
    session: IntercomSession, call_for: Callable[[int], Call], items_key: str, model: type[M]
) -> AsyncIterator[M]:
    page = 1
    while True:
        data = (await session.send(call_for(page))).json()
        items = data.get(items_key) or ()
        for item in items:
            yield model.model_validate(item)
        total = (data.get("pages") or {}).get("total_pages")
        if not items or not isinstance(total, int) or page >= total:
            return
        page += 1
