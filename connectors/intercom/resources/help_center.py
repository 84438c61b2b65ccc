"""Help-center collections and articles: create, list, get, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator

from connectors.intercom import pagination
from connectors.intercom.models import Article, ArticleCreate, Collection, CollectionCreate, Deleted
from connectors.intercom.resources.common import delete, fetch, segment
from connectors.intercom.session import Call, IntercomSession


class Collections:
    def __init__(self, session: IntercomSession) -> None:
        self._session = session

    async def create(self, collection: CollectionCreate) -> Collection:
        call = Call("collections.create", "POST", "/help_center/collections", idempotent=False, body=collection.payload())
        return await fetch(self._session, call, Collection)

    async def get(self, collection_id: str) -> Collection:
        path = f"/help_center/collections/{segment(collection_id)}"
        return await fetch(self._session, Call("collections.get", "GET", path, idempotent=True), Collection)

    def list(self, *, per_page: int = 50) -> AsyncIterator[Collection]:
        def call_for(page: int) -> Call:
            params = {"page": page, "per_page": per_page}
            return Call("collections.list", "GET", "/help_center/collections", idempotent=True, params=params)

        return pagination.page_numbers(self._session, call_for, "data", Collection)

    async def delete(self, collection_id: str) -> Deleted:
        """Delete articles and child collections first: what a delete does to them is undocumented."""
        path = f"/help_center/collections/{segment(collection_id)}"
        return await delete(self._session, Call("collections.delete", "DELETE", path, idempotent=True), Deleted, collection_id)


class Articles:
    def __init__(self, session: IntercomSession) -> None:
        self._session = session

    async def create(self, article: ArticleCreate) -> Article:
        return await fetch(self._session, Call("articles.create", "POST", "/articles", idempotent=False, body=article.payload()), Article)

    async def get(self, article_id: str) -> Article:
        return await fetch(self._session, Call("articles.get", "GET", f"/articles/{segment(article_id)}", idempotent=True), Article)

    def list(self, *, per_page: int = 50) -> AsyncIterator[Article]:
        def call_for(page: int) -> Call:
            return Call("articles.list", "GET", "/articles", idempotent=True, params={"page": page, "per_page": per_page})

        return pagination.page_numbers(self._session, call_for, "data", Article)

    async def delete(self, article_id: str) -> Deleted:
        path = f"/articles/{segment(article_id)}"
        return await delete(self._session, Call("articles.delete", "DELETE", path, idempotent=True), Deleted, article_id)
