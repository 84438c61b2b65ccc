"""Who is who in Infraon: technicians and requesters when their own routes are absent, and
who wrote each conversation entry.

The people routes are not documented (sources.md §4.1); the incident routes are. An
incident's detail carries the tenant's users and teams (`options.users`,
`options.teams[].staffs/owner`) and its assignee's profile; list items carry their
requester. So technicians, teams and requesters can always be taken from the incidents.
An entry's writer is found under the documented and the usual names (`created_by`,
`creator_info`, `author`, ...), as a dict or a bare id; it is matched to a technician
or a requester by id where the entry says whose id it is, else by case-folded email.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.infraon.values import at

AUTHOR_KEYS = ("created_by", "creator_info", "creator", "author", "sender", "user", "submitted_by", "commented_by",
               "created_by_info", "owner", "from")
NAME_KEYS = ("full_name", "name", "display_name", "username")
EMAIL_KEYS = ("email", "email_id", "mail", "unmasked_email")
TECHNICIAN_IDS = ("profile_id", "user_id", "user")
REQUESTER_IDS = ("requester_id",)
TECHNICIAN_WORDS = ("user", "technician", "agent", "staff", "admin")
REQUESTER_WORDS = ("requester", "customer", "end user", "enduser", "contact")


@dataclass(frozen=True)
class Person:
    key: str | None = None
    name: str | None = None
    email: str | None = None
    side: str | None = None  # "technician" or "requester" when the entry itself says so

    @property
    def known(self) -> bool:
        return bool(self.key or self.name or self.email)


def _first(item: Mapping[str, Any], keys: Iterable[str]) -> str | None:
    for key in keys:
        value = item.get(key)
        if value not in (None, "") and not isinstance(value, (dict, list)):
            return str(value)
    return None


def person(value: Any) -> Person:
    """A person from a dict (any of the usual key names) or a bare id."""
    if isinstance(value, Mapping):
        tech_id = _first(value, TECHNICIAN_IDS)
        req_id = _first(value, REQUESTER_IDS)
        kind = str(value.get("user_type") or value.get("type") or value.get("role") or "").casefold()
        side = ("requester" if req_id or any(w in kind for w in REQUESTER_WORDS) else
                "technician" if tech_id or any(w in kind for w in TECHNICIAN_WORDS) else None)
        return Person(req_id or tech_id or _first(value, ("id",)), _first(value, NAME_KEYS), _first(value, EMAIL_KEYS), side)
    if value in (None, "") or isinstance(value, (list, bool)):
        return Person()
    return Person(key=str(value))


def author_of(item: Mapping[str, Any], name_paths: Iterable[str] = (), email_paths: Iterable[str] = ()) -> Person:
    """The writer of an entry: the configured paths first, then the usual places."""
    name = next((str(v) for p in name_paths if (v := at(item, p)) not in (None, "") and not isinstance(v, dict)), None)
    email = next((str(v) for p in email_paths if (v := at(item, p)) not in (None, "") and not isinstance(v, dict)), None)
    found: Person | None = None
    bare: Person | None = None  # a plain id (created_by: 12) when no dict names the writer
    for key in AUTHOR_KEYS:
        value = item.get(key)
        candidate = person(value)
        if isinstance(value, Mapping) and candidate.known:
            found = candidate
            break
        if bare is None and candidate.known:
            bare = candidate
    found = found or bare or Person()
    return Person(found.key, name or found.name, email or found.email, found.side)


class Directory:
    """People of one side (technicians, or requesters) by key and by case-folded email."""

    def __init__(self, side: str) -> None:
        self.side = side
        self.by_key: dict[str, str] = {}
        self.by_email: dict[str, str] = {}

    def add(self, key: str | None, email: str | None) -> None:
        if key:
            self.by_key[key] = key
            if email and email.strip():
                self.by_email.setdefault(email.strip().casefold(), key)

    def match(self, who: Person) -> str | None:
        """The key of this side's person who wrote it, or None: by id when the entry says it is
        this side's id, else by case-folded email."""
        if who.key and who.side == self.side and who.key in self.by_key:
            return who.key
        if who.email and (key := self.by_email.get(who.email.strip().casefold())):
            return key
        return None

    def __len__(self) -> int:
        return len(self.by_key)


def technicians_of(options: Mapping[str, Any] | None, profiles: Iterable[Any] = ()) -> list[dict]:
    """Technicians from an incident detail's options (users, team staff and owners) and assignee profiles."""
    found: dict[str, dict] = {}
    options = options or {}
    teams = [t for t in options.get("teams") or [] if isinstance(t, Mapping)]
    candidates: list[Any] = list(options.get("users") or [])
    for team in teams:
        candidates += list(team.get("staffs") or []) + list(team.get("owner") or [])
    candidates += list(profiles)
    for value in candidates:
        if not isinstance(value, Mapping):
            continue
        who = person(value)
        key = who.key or (who.email.strip().casefold() if who.email else None)
        if key and key not in found:
            found[key] = {"profile_id": key, "full_name": who.name, "email": who.email}
    return list(found.values())


def teams_of(options: Mapping[str, Any] | None) -> list[dict]:
    out: dict[str, dict] = {}
    for team in (options or {}).get("teams") or []:
        if isinstance(team, Mapping):
            key = _first(team, ("team_id", "id"))
            if key and key not in out:
                out[key] = {"team_id": key, "name": _first(team, ("name", "team_name"))}
    return list(out.values())


def requester_of(item: Mapping[str, Any]) -> dict | None:
    """The requester an incident list item names, as a requester row."""
    raw = item.get("requester")
    who = person(raw) if isinstance(raw, Mapping) else Person(email=_first(item, ("requester_email",)))
    name = who.name or _first(item, ("requester_name",))
    email = who.email or _first(item, ("requester_email",))
    key = who.key or (email.strip().casefold() if email else None)
    if not key:
        return None
    org = raw.get("organization_name") if isinstance(raw, Mapping) else None
    return {"requester_id": key, "full_name": name, "email": email or None,
            "phone": (raw.get("phone") if isinstance(raw, Mapping) else None) or _first(item, ("requester_phone",)),
            "organization_name": org or _first(item, ("organization_name",))}
