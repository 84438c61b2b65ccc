"""Companies: upsert on company_id, find, list, delete (which archives)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from connectors.intercom import pagination
from connectors.intercom.errors import NotFound
from connectors.intercom.models import Company, CompanyUpsert, Deleted
from connectors.intercom.resources.common import delete, fetch, segment
from connectors.intercom.session import Call, IntercomSession


class Companies:
    def __init__(self, session: IntercomSession) -> None:
        self._session = session

    async def upsert(self, company: CompanyUpsert) -> Company:
        """Create, or update the company with the same company_id (safe to repeat when keyed)."""
        call = Call("companies.upsert", "POST", "/companies", idempotent=bool(company.company_id), body=company.payload())
        return await fetch(self._session, call, Company)

    async def find_by_company_id(self, company_id: str) -> Company | None:
        """The company with this company_id (yours), or None.

        The 2.16 description answers a `company.list`; Intercom has also been seen to
        answer the company itself. Both are accepted.
        """
        call = Call("companies.find", "GET", "/companies", idempotent=True, params={"company_id": company_id})
        try:
            data = (await self._session.send(call)).json()
        except NotFound:
            return None
        if data.get("type") == "company":
            return Company.model_validate(data)
        for item in data.get("data") or ():
            if item.get("company_id") == company_id:
                return Company.model_validate(item)
        return None

    async def get(self, company_id: str) -> Company:
        """By Intercom id."""
        return await fetch(self._session, Call("companies.get", "GET", f"/companies/{segment(company_id)}", idempotent=True), Company)

    async def delete(self, company_id: str) -> Deleted:
        """By Intercom id. Intercom archives the company and detaches its contacts, later."""
        call = Call("companies.delete", "DELETE", f"/companies/{segment(company_id)}", idempotent=True)
        return await delete(self._session, call, Deleted, company_id)

    def list(self, *, per_page: int = 50) -> AsyncIterator[Company]:
        """Companies that have at least one contact (Intercom lists no others)."""

        def call_for(page: int) -> Call:
            return Call("companies.list", "GET", "/companies", idempotent=True, params={"page": page, "per_page": per_page})

        return pagination.page_numbers(self._session, call_for, "data", Company)
