"""Custom object instances, upserted on `external_id` (types are not API-managed)."""

from __future__ import annotations

from typing import Any

from connectors.intercom.models.base import IntercomModel, RequestModel


class CustomObjectUpsert(RequestModel):
    external_id: str
    external_created_at: int | None = None
    external_updated_at: int | None = None
    custom_attributes: dict[str, Any] | None = None


class CustomObjectInstance(IntercomModel):
    id: str
    type: str | None = None
    external_id: str | None = None
    external_created_at: int | None = None
    external_updated_at: int | None = None
    created_at: int | None = None
    updated_at: int | None = None
    custom_attributes: dict[str, Any] = {}
