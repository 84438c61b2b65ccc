"""Companies: upserted on the caller's `company_id`; delete archives them."""

from __future__ import annotations

from typing import Any

from connectors.intercom.models.base import IntercomModel, RequestModel


class CompanyUpsert(RequestModel):
    company_id: str | None = None
    name: str | None = None
    plan: str | None = None
    size: int | None = None
    website: str | None = None
    industry: str | None = None
    custom_attributes: dict[str, Any] | None = None
    remote_created_at: int | None = None
    monthly_spend: int | None = None
    update_last_request_at: bool | None = None


class Company(IntercomModel):
    type: str = "company"
    id: str
    company_id: str | None = None
    name: str | None = None
    app_id: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    remote_created_at: int | None = None
    size: int | None = None
    website: str | None = None
    industry: str | None = None
    monthly_spend: int | None = None
    user_count: int | None = None
    custom_attributes: dict[str, Any] = {}
