"""Tags: created or found by name (case-insensitive)."""

from __future__ import annotations

from connectors.intercom.models.base import IntercomModel


class Tag(IntercomModel):
    type: str = "tag"
    id: str
    name: str | None = None
    applied_at: int | None = None
