"""/me, admins and teams: seeded, read-only (Intercom has no API to create them)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.routing import Route

from connectors.intercom.sandbox.routing import route
from connectors.intercom.sandbox.state import ME_ADMIN_ID, WORKSPACE_ID, SandboxState
from connectors.intercom.sandbox.store import Obj


def render_admin(admin: Obj) -> Obj:
    return {
        "type": "admin",
        "id": admin["id"],
        "name": admin["name"],
        "email": admin["email"],
        "job_title": admin["job_title"],
        "away_mode_enabled": False,
        "away_mode_reassign": False,
        "has_inbox_seat": True,
        "team_ids": admin["team_ids"],
        "avatar": None,
    }


def render_team(team: Obj) -> Obj:
    return {"type": "team", "id": team["id"], "name": team["name"], "admin_ids": team["admin_ids"]}


def routes(state: SandboxState, workspace_of: Callable[[str], str] = lambda token: WORKSPACE_ID) -> list[Route]:
    async def me(request: Request) -> Obj:
        admin = render_admin(state.require_admin(ME_ADMIN_ID))
        admin["avatar"] = {"type": "avatar", "image_url": None}
        admin["email_verified"] = True
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        workspace = workspace_of(token.strip())
        admin["app"] = {
            "type": "app",
            "id_code": workspace,
            "name": "helpmig sandbox" if workspace == WORKSPACE_ID else f"workspace {workspace}",
            "region": "US",
            "timezone": "UTC",
            "created_at": 1_700_000_000,
            "identity_verification": False,
        }
        return admin

    async def list_admins(request: Request) -> Obj:
        return {"type": "admin.list", "admins": [render_admin(a) for a in state.store.all("admins")]}

    async def get_admin(request: Request) -> Obj:
        return render_admin(state.require("admins", request.path_params["admin_id"], "Admin not found", "admin_not_found"))

    async def list_teams(request: Request) -> Obj:
        return {"type": "team.list", "teams": [render_team(t) for t in state.store.all("teams")]}

    async def get_team(request: Request) -> Obj:
        return render_team(state.require("teams", request.path_params["team_id"], "Team not found", "team_not_found"))

    return [
        route("/me", "GET", me),
        route("/admins", "GET", list_admins),
        route("/admins/{admin_id}", "GET", get_admin),
        route("/teams", "GET", list_teams),
        route("/teams/{team_id}", "GET", get_team),
    ]
