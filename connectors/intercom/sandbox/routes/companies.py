"""Companies: upsert on company_id, find, list (only those with contacts), update, delete.

Delete archives, as Intercom does: the company disappears from reads and its contacts are
detached; an upsert with the same company_id brings it back.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from connectors.intercom.sandbox.errors import ApiError, invalid
from connectors.intercom.sandbox.routes.attributes import check_custom_attributes
from connectors.intercom.sandbox.routing import int_param, json_body, numbered_page, route
from connectors.intercom.sandbox.state import WORKSPACE_ID, SandboxState
from connectors.intercom.sandbox.store import Obj

WRITABLE = ("name", "plan", "size", "website", "industry", "remote_created_at", "monthly_spend")
MAX_MONTHLY_SPEND = 2**31 - 1
NOT_FOUND = ("Company Not Found", "company_not_found")


def render_company(company: Obj) -> Obj:
    out = {
        "type": "company",
        "id": company["id"],
        "name": company.get("name") or "",
        "app_id": WORKSPACE_ID,
        "created_at": company["created_at"],
        "updated_at": company["updated_at"],
        "monthly_spend": company.get("monthly_spend") or 0,
        "session_count": 0,
        "user_count": company.get("user_count", 0),
        "custom_attributes": company.get("custom_attributes", {}),
        "tags": {"type": "tag.list", "tags": []},
        "segments": {"type": "segment.list", "segments": []},
        "plan": {"type": "plan", "id": "1", "name": company["plan"]} if company.get("plan") else {},
    }
    for key in ("company_id", "remote_created_at", "size", "website", "industry"):
        if company.get(key) is not None:
            out[key] = company[key]
    return out


def _apply(state: SandboxState, company: Obj, body: dict[str, Any]) -> None:
    for key in WRITABLE:
        if key in body:
            company[key] = body[key]
    if isinstance(company.get("monthly_spend"), float):
        company["monthly_spend"] = int(company["monthly_spend"])  # Intercom truncates
    if isinstance(company.get("monthly_spend"), int) and company["monthly_spend"] > MAX_MONTHLY_SPEND:
        raise invalid("monthly_spend is too large")
    if "custom_attributes" in body:
        values = check_custom_attributes(state, "company", body["custom_attributes"])
        company["custom_attributes"] = {**company.get("custom_attributes", {}), **values}


def routes(state: SandboxState) -> list[Route]:
    store = state.store

    def live(company_id: str) -> Obj:
        company = state.require("companies", company_id, *NOT_FOUND)
        if company.get("archived"):
            raise ApiError(404, "company_not_found", "Company Not Found")
        return company

    async def upsert(request: Request) -> Obj:
        body = await json_body(request)
        now = state.now()
        company = store.lookup("companies", "company_id", body["company_id"]) if body.get("company_id") else None
        if company is None:
            company = {"id": state.hex_id("companies"), "company_id": body.get("company_id"), "created_at": now, "user_count": 0}
        company["archived"] = False
        _apply(state, company, body)
        company["updated_at"] = now
        return render_company(store.put("companies", company))

    async def find_or_list(request: Request) -> Obj:
        company_id, name = request.query_params.get("company_id"), request.query_params.get("name")
        if company_id or name:
            if company_id:
                company = store.lookup("companies", "company_id", company_id)
            else:
                company = next((c for c in store.all("companies") if c.get("name") == name and not c.get("archived")), None)
            if company is None or company.get("archived"):
                raise ApiError(404, "company_not_found", "Company Not Found")
            found = [company]
            pages = {"type": "pages", "page": 1, "per_page": 15, "total_pages": 1}
        else:
            visible = [c for c in store.all("companies") if not c.get("archived") and c.get("user_count", 0) > 0]
            found, pages = numbered_page(visible, int_param(request, "page", 1), int_param(request, "per_page", 15, maximum=60))
            return {"type": "list", "data": [render_company(c) for c in found], "pages": pages, "total_count": len(visible)}
        return {"type": "list", "data": [render_company(c) for c in found], "pages": pages, "total_count": len(found)}

    async def get(request: Request) -> Obj:
        return render_company(live(request.path_params["company_id"]))

    async def update(request: Request) -> Obj:
        company = live(request.path_params["company_id"])
        body = await json_body(request)
        if "company_id" in body and body["company_id"] != company.get("company_id"):
            raise invalid("company_id can't be updated")
        _apply(state, company, body)
        company["updated_at"] = state.now()
        return render_company(store.put("companies", company))

    async def delete(request: Request) -> Obj:
        company = live(request.path_params["company_id"])
        for contact in store.all("contacts"):
            if company["id"] in contact.get("company_ids", []):
                contact["company_ids"].remove(company["id"])
                store.put("contacts", contact)
        company.update(archived=True, user_count=0, updated_at=state.now())
        store.put("companies", company)
        return {"id": company["id"], "object": "company", "deleted": True}

    return [
        route("/companies", "POST", upsert),
        route("/companies", "GET", find_or_list),
        route("/companies/{company_id}", "GET", get),
        route("/companies/{company_id}", "PUT", update),
        route("/companies/{company_id}", "DELETE", delete),
    ]
