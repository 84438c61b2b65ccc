"""Help-center collections and articles (articles cannot be backdated)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from connectors.intercom.models.base import IntercomModel, RequestModel


class CollectionCreate(RequestModel):
    name: str
    description: str | None = None
    parent_id: str | None = None  # None: top level
    help_center_id: int | None = None  # None: the default help center
    translated_content: dict[str, Any] | None = None


class Collection(IntercomModel):
    id: str
    name: str | None = None
    description: str | None = None
    parent_id: str | None = None
    help_center_id: int | None = None
    url: str | None = None
    created_at: int | None = None
    updated_at: int | None = None


class ArticleCreate(RequestModel):
    """`author_id` must be an admin; `body` (HTML) and `body_markdown` exclude each other."""

    title: str
    author_id: int
    description: str | None = None
    body: str | None = None
    body_markdown: str | None = None
    state: Literal["published", "draft"] | None = None
    parent_id: int | None = None
    parent_type: str | None = None
    translated_content: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_body(self) -> ArticleCreate:
        if self.body is not None and self.body_markdown is not None:
            raise ValueError("an article takes body or body_markdown, not both")
        return self


class Article(IntercomModel):
    type: str = "article"
    id: str
    title: str | None = None
    description: str | None = None
    body: str | None = None
    author_id: int | None = None
    state: str | None = None
    parent_id: int | None = None
    parent_ids: list[int] = []
    parent_type: str | None = None
    url: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
