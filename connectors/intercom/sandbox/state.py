"""The sandbox workspace: seeded admins, teams, ticket types, and counts for tests.

Routes read and change objects through `store`; `counts()` is the inspection API crash
tests use to assert "exactly one copy of every object".
"""

from __future__ import annotations

from typing import Any

from connectors.intercom.clock import Clock
from connectors.intercom.sandbox.errors import ApiError, not_found
from connectors.intercom.sandbox.routing import CursorBook
from connectors.intercom.sandbox.store import Obj, Store
from connectors.intercom.sandbox.violations import ViolationLog

WORKSPACE_ID = "sbx0wksp"
HEX_PREFIX = "6766a1b2"  # contact and company ids are 24 hex characters, like Intercom's
ME_ADMIN_ID = "991267001"
HELP_CENTER_ID = 1

SEED_ADMINS = (
    {"id": ME_ADMIN_ID, "name": "Ada Sandbox", "email": "ada@sandbox.example", "job_title": "Migration lead", "team_ids": [5017001]},
    {"id": "991267002", "name": "Brook Agent", "email": "brook@sandbox.example", "job_title": "Support", "team_ids": [5017001]},
    {"id": "991267003", "name": "Casey Agent", "email": "casey@sandbox.example", "job_title": "Billing", "team_ids": [5017002]},
)
SEED_TEAMS = (
    {"id": "5017001", "name": "Support", "admin_ids": [991267001, 991267002]},
    {"id": "5017002", "name": "Billing", "admin_ids": [991267003]},
)
TICKET_STATES = (
    {"type": "ticket_state", "id": "1", "category": "submitted", "internal_label": "Submitted", "external_label": "Submitted"},
    {"type": "ticket_state", "id": "2", "category": "in_progress", "internal_label": "In progress", "external_label": "In progress"},
    {"type": "ticket_state", "id": "3", "category": "waiting_on_customer", "internal_label": "Waiting on customer", "external_label": "Waiting on you"},
    {"type": "ticket_state", "id": "4", "category": "resolved", "internal_label": "Resolved", "external_label": "Resolved"},
)
SEED_TICKET_TYPES = ({"id": "1", "name": "Support request", "category": "Customer", "attributes": ["_default_title_", "_default_description_"]},)
STANDARD_ATTRIBUTES = {
    "contact": (
        ("name", "string"), ("email", "string"), ("phone", "string"), ("external_id", "string"), ("role", "string"),
        ("signed_up_at", "date"), ("last_seen_at", "date"), ("owner_id", "integer"), ("unsubscribed_from_emails", "boolean"),
    ),
    "company": (
        ("name", "string"), ("company_id", "string"), ("plan", "string"), ("size", "integer"), ("website", "string"),
        ("industry", "string"), ("monthly_spend", "float"), ("remote_created_at", "date"), ("user_count", "integer"),
    ),
}


class SandboxState:
    def __init__(self, store: Store, clock: Clock, custom_object_types: tuple[str, ...],
                 violations: ViolationLog | None = None, search_lag: float = 0.0) -> None:
        self.store = store
        self.search_lag = int(search_lag)
        self.clock = clock
        self.violations = violations or ViolationLog()
        self.cursors = CursorBook(lambda cursor: self.violations.record(
            "search.repeated_cursor", "POST", "(a listing)", f"cursor {cursor} was already used", refused=False))
        self.custom_object_types = frozenset(custom_object_types)
        store.keep_apart("conversations", "parts")  # appended by every reply
        store.add_index("contacts", "external_id", lambda c: c.get("external_id") or None)
        store.add_index("contacts", "user_email", lambda c: c["email"].casefold() if c.get("email") and c.get("role") == "user" else None)
        store.add_index("companies", "company_id", lambda c: c.get("company_id") or None)
        store.add_index("tags", "name", lambda t: t["name"].casefold())
        store.add_index("custom_objects", "external_id", lambda o: f"{o['type']}\x00{o['external_id']}")
        if store.count("admins") == 0:
            self._seed()

    def _seed(self) -> None:
        for admin in SEED_ADMINS:
            self.store.put("admins", dict(admin))
        for team in SEED_TEAMS:
            self.store.put("teams", dict(team))
        for ticket_type in SEED_TICKET_TYPES:
            self.store.put("ticket_types", dict(ticket_type))

    def now(self) -> int:
        return int(self.clock.time())

    def hex_id(self, kind: str) -> str:
        return f"{HEX_PREFIX}{self.store.next_id(kind):016x}"

    def number_id(self, kind: str, base: int) -> str:
        return str(base + self.store.next_id(kind))

    def admin(self, admin_id: Any) -> Obj | None:
        return self.store.get("admins", str(admin_id)) if admin_id is not None else None

    def require_admin(self, admin_id: Any) -> Obj:
        admin = self.admin(admin_id)
        if admin is None:
            raise ApiError(404, "admin_not_found", "Admin not found")
        return admin

    def require(self, kind: str, object_id: Any, message: str = "Resource Not Found", code: str = "not_found") -> Obj:
        obj = self.store.get(kind, str(object_id))
        if obj is None:
            raise not_found(message, code)
        return obj

    def counts(self) -> dict[str, int]:
        """How many objects of each kind exist now (deleted ones excluded)."""
        conversations = list(self.store.all("conversations"))
        tickets = list(self.store.all("tickets"))
        return {
            "contacts": self.store.count("contacts"),
            "companies": sum(1 for c in self.store.all("companies") if not c.get("archived")),
            "tags": self.store.count("tags"),
            "data_attributes": sum(1 for a in self.store.all("data_attributes") if not a.get("archived")),
            "conversation_attributes": sum(1 for a in self.store.all("conversation_attributes") if not a.get("archived")),
            "conversations": len(conversations),
            "parts": sum(len(c["parts"]) for c in conversations),
            "collections": self.store.count("collections"),
            "articles": self.store.count("articles"),
            "custom_objects": self.store.count("custom_objects"),
            "tickets": len(tickets),
            "ticket_parts": sum(len(t["parts"]) for t in tickets),
        }
