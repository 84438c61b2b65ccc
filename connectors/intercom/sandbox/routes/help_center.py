"""Help-center collections and articles in one default help center.

An article's author must be an admin. What Intercom does to the children of a deleted
collection is undocumented; the sandbox keeps them and clears their parent.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.routing import Route

from connectors.intercom.sandbox.errors import ApiError, invalid
from connectors.intercom.sandbox.routing import int_param, json_body, numbered_page, require, route
from connectors.intercom.sandbox.state import HELP_CENTER_ID, WORKSPACE_ID, SandboxState
from connectors.intercom.sandbox.store import Obj


def render_collection(collection: Obj) -> Obj:
    return {
        "id": collection["id"],
        "workspace_id": WORKSPACE_ID,
        "name": collection["name"],
        "description": collection.get("description"),
        "created_at": collection["created_at"],
        "updated_at": collection["updated_at"],
        "url": f"https://help.sandbox.invalid/en/collections/{collection['id']}",
        "icon": "book-bookmark",
        "order": collection["order"],
        "default_locale": "en",
        "translated_content": None,
        "parent_id": collection.get("parent_id"),
        "help_center_id": collection.get("help_center_id"),
    }


def render_article(article: Obj) -> Obj:
    parent = article.get("parent_id")
    return {
        "type": "article",
        "id": article["id"],
        "workspace_id": WORKSPACE_ID,
        "title": article["title"],
        "description": article.get("description"),
        "body": article.get("body"),
        "body_markdown": article.get("body_markdown"),
        "author_id": article["author_id"],
        "state": article["state"],
        "created_at": article["created_at"],
        "updated_at": article["updated_at"],
        "url": f"https://help.sandbox.invalid/en/articles/{article['id']}" if article["state"] == "published" else None,
        "parent_id": int(parent) if parent else None,
        "parent_ids": [int(parent)] if parent else [],
        "parent_type": "collection" if parent else None,
        "default_locale": "en",
        "tags": {"type": "tag.list", "tags": []},
    }


def routes(state: SandboxState) -> list[Route]:
    store = state.store

    async def create_collection(request: Request) -> Obj:
        body = await json_body(request)
        name = require(body, "name", "Name is a required parameter.")
        parent_id = body.get("parent_id")
        if parent_id is not None:
            state.require("collections", parent_id, "Parent collection not found", "parent_not_found")
        help_center_id = body.get("help_center_id")
        if help_center_id is not None and help_center_id != HELP_CENTER_ID:
            raise ApiError(404, "not_found", "Help center not found")
        now = state.now()
        collection = {
            "id": state.number_id("collections", 150),
            "name": name,
            "description": body.get("description"),
            "parent_id": str(parent_id) if parent_id is not None else None,
            "help_center_id": help_center_id if help_center_id is not None else HELP_CENTER_ID,
            "order": store.count("collections") + 1,
            "created_at": now,
            "updated_at": now,
        }
        return render_collection(store.put("collections", collection))

    def newest_first(request: Request, kind: str, render: Callable[[Obj], Obj]) -> Obj:
        """A page of collections or articles, most recently updated first."""
        everything = sorted(store.all(kind), key=lambda o: o["updated_at"], reverse=True)
        page, pages = numbered_page(everything, int_param(request, "page", 1), int_param(request, "per_page", 20, maximum=150))
        return {"type": "list", "data": [render(o) for o in page], "total_count": len(everything), "pages": pages}

    async def list_collections(request: Request) -> Obj:
        return newest_first(request, "collections", render_collection)

    async def get_collection(request: Request) -> Obj:
        return render_collection(state.require("collections", request.path_params["collection_id"], "Collection not found"))

    async def delete_collection(request: Request) -> Obj:
        collection = state.require("collections", request.path_params["collection_id"], "Collection not found")
        for kind in ("collections", "articles"):
            for child in store.all(kind):
                if str(child.get("parent_id")) == collection["id"]:
                    child["parent_id"] = None
                    store.put(kind, child)
        store.remove("collections", collection["id"])
        return {"id": collection["id"], "object": "collection", "deleted": True}

    async def create_article(request: Request) -> Obj:
        body = await json_body(request)
        title = require(body, "title", "title is a required parameter")
        author_id = body.get("author_id")
        if author_id is None:
            raise ApiError(400, "parameter_not_found", "author_id must be in the main body or default locale translated_content object")
        if state.admin(author_id) is None:
            raise invalid("author_id must be a teammate on the help center's workspace")
        if body.get("body") is not None and body.get("body_markdown") is not None:
            raise invalid("body and body_markdown are mutually exclusive")
        article_state = body.get("state", "draft")
        if article_state not in ("published", "draft"):
            raise invalid("state must be published or draft")
        parent_id = body.get("parent_id")
        if parent_id is not None:
            state.require("collections", parent_id, "Parent collection not found", "parent_not_found")
        now = state.now()
        article = {
            "id": state.number_id("articles", 39_000),
            "title": title,
            "description": body.get("description"),
            "body": body.get("body"),
            "body_markdown": body.get("body_markdown"),
            "author_id": int(author_id),
            "state": article_state,
            "parent_id": str(parent_id) if parent_id is not None else None,
            "created_at": now,
            "updated_at": now,
        }
        return render_article(store.put("articles", article))

    async def list_articles(request: Request) -> Obj:
        return newest_first(request, "articles", render_article)

    async def get_article(request: Request) -> Obj:
        return render_article(state.require("articles", request.path_params["article_id"], "Article not found"))

    async def delete_article(request: Request) -> Obj:
        article = state.require("articles", request.path_params["article_id"], "Article not found")
        store.remove("articles", article["id"])
        return {"id": article["id"], "object": "article", "deleted": True}

    return [
        route("/help_center/collections", "POST", create_collection),
        route("/help_center/collections", "GET", list_collections),
        route("/help_center/collections/{collection_id}", "GET", get_collection),
        route("/help_center/collections/{collection_id}", "DELETE", delete_collection),
        route("/articles", "POST", create_article),
        route("/articles", "GET", list_articles),
        route("/articles/{article_id}", "GET", get_article),
        route("/articles/{article_id}", "DELETE", delete_article),
    ]
