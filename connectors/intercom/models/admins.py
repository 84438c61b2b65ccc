"""Admins, teams and the token's own admin (`/me`): read-only, matched, never created."""

from __future__ import annotations

from connectors.intercom.models.base import IntercomModel


class Admin(IntercomModel):
    type: str = "admin"
    id: str
    name: str | None = None
    email: str | None = None
    job_title: str | None = None
    away_mode_enabled: bool | None = None
    has_inbox_seat: bool | None = None
    team_ids: list[int] = []


class App(IntercomModel):
    """The workspace: its region and the time zone search-by-date depends on."""

    id_code: str | None = None
    name: str | None = None
    region: str | None = None
    timezone: str | None = None


class Me(Admin):
    app: App | None = None


class Team(IntercomModel):
    type: str = "team"
    id: str
    name: str | None = None
    admin_ids: list[int] = []
