"""A small hand-made helpdesk with one of every problem the audit looks for."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.base import FieldSpec, FieldType, ObjectRole, ObjectSpec, Record
from tests.support.memory_source import MemorySource

NOW = datetime(2026, 11, 1, tzinfo=UTC)
T = datetime(2024, 5, 1, tzinfo=UTC)

ORGS = ObjectSpec("orgs", ObjectRole.COMPANY, (FieldSpec("name"), FieldSpec("website", FieldType.URL)), label="organizations")
USERS = ObjectSpec(
    "customers", ObjectRole.CONTACT,
    (FieldSpec("email", FieldType.EMAIL), FieldSpec("name"), FieldSpec("org_id", references="orgs"),
     FieldSpec("cf_notes", custom=True)),
    label="customers",
)
TICKETS = ObjectSpec(
    "tickets", ObjectRole.CONVERSATION,
    (FieldSpec("subject"), FieldSpec("customer_id", references="customers"), FieldSpec("opened", FieldType.DATETIME)),
    created_field="opened", label="tickets",
)
MESSAGES = ObjectSpec(
    "messages", ObjectRole.PART, (FieldSpec("ticket_id"), FieldSpec("body", FieldType.HTML), FieldSpec("at", FieldType.DATETIME)),
    parent="tickets", parent_field="ticket_id", created_field="at", label="messages",
)
NOTES = ObjectSpec(
    "notes", ObjectRole.PART, (FieldSpec("ticket_id"), FieldSpec("text", FieldType.TEXT)),
    parent="tickets", parent_field="ticket_id", label="notes",
)
ARTICLES = ObjectSpec("articles", ObjectRole.ARTICLE, (FieldSpec("title"), FieldSpec("category_id", references="categories")), label="articles")
CATEGORIES = ObjectSpec("categories", ObjectRole.KB_CATEGORY, (FieldSpec("name"),), label="KB categories")
SLAS = ObjectSpec("slas", ObjectRole.INVENTORY, (FieldSpec("name"),), label="SLA rules")


def rec(obj, key, parent=None, **data):
    return Record(obj, str(key), data, parent_key=None if parent is None else str(parent))


def make_source() -> MemorySource:
    orgs = [rec("orgs", 1, name="Acme", website="https://www.acme.com"), rec("orgs", 2, name="Solo", website="gmail.com"),
            rec("orgs", 3, name="Blank", website=None), rec("orgs", 4, name="Acme Two", website="acme.com/contact")]
    users = [
        rec("customers", 1, email="ann@acme.com", name="Ann", org_id="1"),
        rec("customers", 2, email="ANN@acme.com ", name="Ann again", org_id="1"),
        rec("customers", 3, email=None, name="No Mail", org_id="2"),
        rec("customers", 4, email="not-an-email", name="Bad", org_id="9"),
        rec("customers", 5, email="jo@x.org", name="JosÃ© Ãlvarez", cf_notes="x" * 300),
    ]
    tickets = [
        rec("tickets", 10, subject="Printer", customer_id="1", opened=T),
        rec("tickets", 11, subject="Nul\x00 byte", customer_id="77", opened=datetime(1900, 1, 1, tzinfo=UTC)),
        rec("tickets", 12, subject="Silent", customer_id="2", opened=None),
        rec("tickets", 13, subject="Huge thread", customer_id="3", opened=datetime(2031, 1, 1, tzinfo=UTC)),
    ]
    messages = [rec("messages", f"m{i}", 10, ticket_id="10", body="hello", at=T) for i in range(2)]
    messages += [rec("messages", f"h{i}", 13, ticket_id="13", body="more", at=T) for i in range(300)]
    messages += [rec("messages", "big", 11, ticket_id="11", body="y" * 70_000, at=T),
                 rec("messages", "lost", 99, ticket_id="99", body="orphan", at=T)]
    notes = [rec("notes", f"n{i}", 13, ticket_id="13", text="note") for i in range(201)]
    files = {
        "m0": [(f"f{i}.png", b"x") for i in range(11)],
        "m1": [("setup.exe", b"MZ"), ("gone.pdf", None), ("empty.txt", b"")],
    }
    articles = [rec("articles", 1, title="How to", category_id="5"), rec("articles", 2, title="Lost", category_id="6")]
    return MemorySource(
        [ORGS, USERS, TICKETS, MESSAGES, NOTES, ARTICLES, CATEGORIES, SLAS],
        {"orgs": orgs, "customers": users, "tickets": tickets, "messages": messages, "notes": notes,
         "articles": articles, "categories": [rec("categories", 5, name="FAQ")],
         "slas": [rec("slas", 1, name="Gold"), rec("slas", 2, name="Silver")]},
        files,
        platform="smartertrack",
    )


class HandmadeSource(MemorySource):
    """The hand-made helpdesk as a registered platform (CLI tests patch the registry)."""

    def __init__(self) -> None:
        made = make_source()
        super().__init__(made.specs, made.records, made.files, platform="smartertrack")

    @classmethod
    def from_options(cls, options, secret):
        return cls()
