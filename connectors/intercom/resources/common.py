"""Helpers the resource classes share."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import quote

from connectors.intercom.errors import NotFound
from connectors.intercom.models.base import IntercomModel
from connectors.intercom.session import Call, IntercomSession

M = TypeVar("M", bound=IntercomModel)


def segment(value: str | int) -> str:
    """A path segment, escaped (external ids may hold '/', spaces, anything)."""
    return quote(str(value), safe="")


async def fetch(session: IntercomSession, call: Call, model: type[M]) -> M:
    return model.model_validate_json((await session.send(call)).content)


async def fetch_or_none(session: IntercomSession, call: Call, model: type[M]) -> M | None:
    try:
        return await fetch(session, call, model)
    except NotFound:
        return None


async def delete(session: IntercomSession, call: Call, model: type[M], object_id: str) -> M:
    """A delete; a 404 after an attempt that may have gone through counts as deleted."""
    try:
        response = await session.send(call)
    except NotFound as exc:
        if exc.after_uncertain_attempt:
            return model.model_validate({"id": object_id, "deleted": True, "already_gone": True})
        raise
    if not response.content:
        return model.model_validate({"id": object_id, "deleted": True})
    return model.model_validate_json(response.content)
