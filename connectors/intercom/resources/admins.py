"""Admins and teams: read-only; source agents and groups are matched onto them."""

from __future__ import annotations

from connectors.intercom.models import Admin, Me, Team
from connectors.intercom.resources.common import fetch, segment
from connectors.intercom.session import Call, IntercomSession


class Admins:
    def __init__(self, session: IntercomSession) -> None:
        self._session = session

    async def me(self, app: int | None = None) -> Me:
        """The token's admin and workspace; `app`: asked with that token (0 = the first)."""
        return await fetch(self._session, Call("me", "GET", "/me", idempotent=True, app=app), Me)

    async def list(self) -> list[Admin]:
        data = (await self._session.send(Call("admins.list", "GET", "/admins", idempotent=True))).json()
        return [Admin.model_validate(item) for item in data.get("admins") or ()]

    async def get(self, admin_id: str) -> Admin:
        return await fetch(self._session, Call("admins.get", "GET", f"/admins/{segment(admin_id)}", idempotent=True), Admin)


class Teams:
    def __init__(self, session: IntercomSession) -> None:
        self._session = session

    async def list(self) -> list[Team]:
        data = (await self._session.send(Call("teams.list", "GET", "/teams", idempotent=True))).json()
        return [Team.model_validate(item) for item in data.get("teams") or ()]

    async def get(self, team_id: str) -> Team:
        return await fetch(self._session, Call("teams.get", "GET", f"/teams/{segment(team_id)}", idempotent=True), Team)
