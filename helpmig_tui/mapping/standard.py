"""What a source object can become in Intercom, and the standard fields of each kind.

The table is the contract between the map and the loader: a field mapped to
`conversation.contact` arrives in `MappedRecord.references["contact"]`, one mapped to
`contact.signed_up_at` in `MappedRecord.standard["signed_up_at"]` as Unix seconds.
Keys are never mapped: external_id, company_id and custom objects' external_id are
derived from the source key.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class TargetKind(enum.StrEnum):
    CONTACT = "contact"
    COMPANY = "company"
    CONVERSATION = "conversation"
    PART = "part"  # a reply or note inside a conversation
    ADMIN = "admin"  # matched by email or name, never created
    TEAM = "team"  # matched by name
    COLLECTION = "collection"
    ARTICLE = "article"
    TAG = "tag"
    CUSTOM_OBJECT = "custom_object"
    LOOKUP = "lookup"  # read to resolve values (statuses, priorities)
    INVENTORY = "inventory"  # the rebuild inventory: workflows, SLA rules, approval chains
    CSV = "csv"  # a supplementary CSV delivered beside the migration
    SKIP = "skip"


class ValueType(enum.StrEnum):
    """What the loader expects in a standard field after the transforms."""

    STRING = "string"
    TEXT = "text"  # long text (the conversation's opening body: no HTML)
    HTML = "html"  # article bodies keep their HTML
    MESSAGE = "message"  # reply and note bodies: sanitized HTML; plain text becomes paragraphs and line breaks
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATETIME = "datetime"  # Unix seconds
    OPTIONS = "options"  # one of `StandardField.options`
    LIST = "list"  # several values (tags)
    REFERENCE = "reference"  # a source key (or email / name) the loader resolves to an Intercom id


@dataclass(frozen=True)
class StandardField:
    name: str
    value: ValueType
    description: str
    refers_to: tuple[TargetKind, ...] = ()  # for references: what the key points at
    options: tuple[str, ...] = ()  # for OPTIONS: the values Intercom accepts


def _f(name: str, value: ValueType, description: str, *, refers_to: tuple[TargetKind, ...] = (),
       options: tuple[str, ...] = ()) -> StandardField:
    return StandardField(name, value, description, refers_to, options)


K = TargetKind
V = ValueType
PRIORITY_LEVELS = ("none", "low", "medium", "high", "urgent")

STANDARD_FIELDS: dict[TargetKind, tuple[StandardField, ...]] = {
    K.CONTACT: (
        _f("email", V.EMAIL, "the contact's email (match key after external_id)"),
        _f("name", V.STRING, "full name"),
        _f("phone", V.PHONE, "phone number"),
        _f("role", V.OPTIONS, "user or lead", options=("user", "lead")),
        _f("signed_up_at", V.DATETIME, "when the person signed up (backdatable; created_at is not)"),
        _f("last_seen_at", V.DATETIME, "last activity"),
        _f("avatar", V.URL, "picture URL"),
        _f("unsubscribed_from_emails", V.BOOLEAN, "opted out of email"),
        _f("company", V.REFERENCE, "the company's source key", refers_to=(K.COMPANY,)),
        _f("owner", V.REFERENCE, "the owning agent's source key", refers_to=(K.ADMIN,)),
    ),
    K.COMPANY: (
        _f("name", V.STRING, "company name"),
        _f("website", V.URL, "web site or domain"),
        _f("industry", V.STRING, "industry"),
        _f("plan", V.STRING, "plan name"),
        _f("size", V.INTEGER, "number of employees"),
        _f("monthly_spend", V.INTEGER, "monthly spend (whole units)"),
        _f("remote_created_at", V.DATETIME, "when the company was created in the source"),
    ),
    K.CONVERSATION: (
        _f("contact", V.REFERENCE, "the requester's contact key", refers_to=(K.CONTACT,)),
        _f("created_at", V.DATETIME, "when the ticket was opened"),
        _f("title", V.STRING, "subject"),
        _f("body", V.TEXT, "the first message (else the first part is used)"),
        _f("state", V.OPTIONS, "open or closed", options=("open", "closed", "snoozed")),
        _f("assignee", V.REFERENCE, "the assigned agent's key", refers_to=(K.ADMIN,)),
        _f("team", V.REFERENCE, "the assigned group's key", refers_to=(K.TEAM,)),
        _f("company", V.REFERENCE, "the company's key", refers_to=(K.COMPANY,)),
        _f("priority", V.OPTIONS, "Intercom's conversation priority (API 2.16 returns it but documents no way to "
           "write it: the loader decides how it lands)", options=PRIORITY_LEVELS),
        _f("tags", V.LIST, "tag names"),
    ),
    K.PART: (
        _f("body", V.MESSAGE, "the message or note: plain text or HTML, sent as sanitized HTML"),
        _f("created_at", V.DATETIME, "when it was written"),
        _f("author", V.REFERENCE, "the writer: a contact or an agent key", refers_to=(K.CONTACT, K.ADMIN)),
        _f("direction", V.OPTIONS, "customer, agent or note", options=("customer", "agent", "note")),
    ),
    K.ARTICLE: (
        _f("title", V.STRING, "article title"),
        _f("body", V.HTML, "article body (HTML is kept)"),
        _f("description", V.STRING, "summary"),
        _f("state", V.OPTIONS, "published or draft", options=("published", "draft")),
        _f("collection", V.REFERENCE, "the category's key", refers_to=(K.COLLECTION,)),
        _f("author", V.REFERENCE, "the author's agent key", refers_to=(K.ADMIN,)),
    ),
    K.COLLECTION: (
        _f("name", V.STRING, "collection name"),
        _f("description", V.STRING, "description"),
        _f("parent", V.REFERENCE, "the parent category's key", refers_to=(K.COLLECTION,)),
    ),
    K.CUSTOM_OBJECT: (
        _f("external_created_at", V.DATETIME, "when the record was created in the source"),
        _f("external_updated_at", V.DATETIME, "when it last changed"),
    ),
    K.ADMIN: (
        _f("email", V.EMAIL, "matched against the workspace's admins"),
        _f("name", V.STRING, "matched when there is no email"),
    ),
    K.TEAM: (_f("name", V.STRING, "matched against the workspace's teams"),),
    K.TAG: (_f("name", V.STRING, "tag name"),),
}

# Each inner tuple is a requirement met by any one of its fields.
REQUIRED: dict[TargetKind, tuple[tuple[str, ...], ...]] = {
    K.CONVERSATION: (("contact",), ("created_at",)),
    K.PART: (("body",), ("created_at",)),
    K.ARTICLE: (("title",),),
    K.COLLECTION: (("name",),),
    K.ADMIN: (("email", "name"),),
    K.TEAM: (("name",),),
    K.TAG: (("name",),),
}

# Kinds whose records carry custom attributes, and the attribute model they use.
ATTRIBUTE_MODEL: dict[TargetKind, str] = {
    K.CONTACT: "contact",
    K.COMPANY: "company",
    K.CONVERSATION: "conversation",
    K.CUSTOM_OBJECT: "custom_object",
}

# Kinds whose records can carry tags and notes.
TAGGABLE = {K.CONTACT, K.COMPANY, K.CONVERSATION}
NOTABLE = {K.CONTACT, K.COMPANY, K.CONVERSATION}
# Kinds whose every field becomes a column (of the CSV or of the rebuild inventory).
COLUMN_KINDS = {K.CSV, K.INVENTORY}
# Kinds that have no field map at all.
UNMAPPED_KINDS = {K.LOOKUP, K.SKIP}


def single_valued(kind: TargetKind, name: str) -> bool:
    """A standard field one source fills (not a reference, whose sources are tried in turn
    for each record, nor a list)."""
    std = standard_field(kind, name)
    return std is not None and std.value not in (ValueType.REFERENCE, ValueType.LIST)


def standard_field(kind: TargetKind, name: str) -> StandardField | None:
    return next((f for f in STANDARD_FIELDS.get(kind, ()) if f.name == name), None)


def required_fields(kind: TargetKind) -> tuple[tuple[str, ...], ...]:
    return REQUIRED.get(kind, ())


def is_required(kind: TargetKind, name: str) -> bool:
    return any(name in group for group in required_fields(kind))
