"""Which export file holds each object and which column holds each field (sources.md §5, all [A]).

No public export layout exists for SMART Service Desk, so every name is a default the
operator edits: per object the file (or XLSX sheet) stem and `columns` (our field ->
the export's column header, matched without regard to case or surrounding spaces).
Columns the layout does not name are kept as custom fields.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import FieldType, ObjectRole, SourceError


@dataclass(frozen=True)
class ObjectLayout:
    name: str
    role: ObjectRole
    file: str  # file stem or sheet name
    key: str  # field holding the id (a fallback key is derived when it is empty, see `key_fallback`)
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key_fallback: tuple[str, ...] = ()  # fields hashed into a key when the id column is absent
    parent: str | None = None
    parent_field: str | None = None
    label: str = ""


def _obj(name, role, file, key, required, optional, **kw) -> ObjectLayout:
    return ObjectLayout(name, role, file, key, tuple(required.split()), tuple(optional.split()), **kw)


OBJECTS: tuple[ObjectLayout, ...] = (
    _obj("tickets", ObjectRole.CONVERSATION, "tickets", "ticket_id", "ticket_id subject created_at",
         "description status priority type category requester_email requester_name assignee_email team organization "
         "updated_at closed_at channel tags", label="Requests (tickets)"),
    _obj("comments", ObjectRole.PART, "comments", "comment_id", "ticket_id body created_at",
         "comment_id author_email author_name is_private is_html", key_fallback=("ticket_id", "created_at", "author_email", "body"),
         parent="tickets", parent_field="ticket_id", label="Comments"),
    _obj("users", ObjectRole.CONTACT, "users", "user_id", "email", "user_id name phone organization role active login department",
         key_fallback=("email",), label="Users (requesters)"),
    _obj("organizations", ObjectRole.COMPANY, "organizations", "org_id", "name", "org_id domain", key_fallback=("name",),
         label="Organizations"),
    _obj("kb_articles", ObjectRole.ARTICLE, "kb_articles", "article_id", "title body",
         "article_id category summary is_public created_at updated_at", key_fallback=("title",), label="Solutions (KB)"),
    _obj("attachments", ObjectRole.RECORD, "attachments", "attachment_id", "ticket_id file_path",
         "attachment_id comment_id file_name created_at", key_fallback=("ticket_id", "comment_id", "file_path"),
         label="Attachments manifest"),
    _obj("problems", ObjectRole.RECORD, "problems", "problem_id", "problem_id title",
         "description status priority impact urgency category assignee_email team related_tickets root_cause workaround "
         "created_at updated_at closed_at", label="Problems"),
    _obj("changes", ObjectRole.RECORD, "changes", "change_id", "change_id title",
         "description status category risk impact approval_status cab_members planned_start planned_end related_tickets "
         "assignee_email created_at updated_at", label="Changes"),
    _obj("releases", ObjectRole.RECORD, "releases", "release_id", "release_id title",
         "description status planned_start planned_end actual_start actual_end assignee_email related_changes created_at "
         "updated_at", label="Releases"),
    _obj("assets", ObjectRole.RECORD, "assets", "asset_id", "asset_id name",
         "serial_number asset_type location status assigned_user_email vendor_id created_at updated_at", label="Assets"),
    _obj("contracts", ObjectRole.RECORD, "contracts", "contract_id", "contract_id name",
         "type vendor_id start_date end_date sla_tier created_at", label="Contracts"),
    _obj("vendors", ObjectRole.COMPANY, "vendors", "vendor_id", "vendor_id name", "email phone type created_at", label="Vendors"),
    _obj("purchase_orders", ObjectRole.RECORD, "purchase_orders", "po_number", "po_number vendor_id",
         "total_amount status line_items created_at", label="Purchase orders"),
)
BY_NAME = {o.name: o for o in OBJECTS}

LIST_FIELDS = {"tags", "cab_members", "related_tickets", "related_changes"}
DATE_FIELDS = {"created_at", "updated_at", "closed_at", "planned_start", "planned_end", "actual_start", "actual_end",
               "start_date", "end_date"}
BOOL_FIELDS = {"is_private", "is_html", "is_public", "active"}
FLOAT_FIELDS = {"total_amount"}
TEXT_FIELDS = {"description", "body", "root_cause", "workaround", "line_items", "summary"}
OPTION_FIELDS = {"status", "priority", "type", "category", "channel", "role", "risk", "impact", "urgency", "approval_status",
                 "asset_type", "sla_tier"}
AGENT_ROLES = {"agent", "technician", "tech", "admin", "administrator", "analyst", "engineer", "operator", "specialist",
               "агент", "техник", "специалист", "инженер", "оператор", "администратор", "исполнитель", "аналитик"}


def field_type(name: str) -> FieldType:
    if name in DATE_FIELDS:
        return FieldType.DATETIME
    if name in BOOL_FIELDS:
        return FieldType.BOOLEAN
    if name in LIST_FIELDS:
        return FieldType.LIST
    if name in FLOAT_FIELDS:
        return FieldType.FLOAT
    if name in TEXT_FIELDS:
        return FieldType.TEXT
    if name in OPTION_FIELDS:
        return FieldType.OPTIONS
    if name == "email" or name.endswith("_email"):
        return FieldType.EMAIL
    if name == "phone":
        return FieldType.PHONE
    return FieldType.STRING


def merge_layout(overrides: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Per object: {"file": stem, "columns": {field: header}}, defaults overridden by the job's layout."""
    layout = {o.name: {"file": o.file, "columns": {f: f for f in (*o.required, *o.optional)}} for o in OBJECTS}
    for name, spec in copy.deepcopy(dict(overrides or {})).items():
        if name not in layout:
            raise SourceError(f"SMART export layout: unknown object {name!r}", hint="known: " + ", ".join(layout),
                              code="source.bad_options")
        if not isinstance(spec, Mapping) or set(spec) - {"file", "columns"}:
            raise SourceError(f"SMART export layout.{name}: expected keys file and columns", code="source.bad_options")
        if "file" in spec:
            layout[name]["file"] = str(spec["file"])
        for field, header in (spec.get("columns") or {}).items():
            if field not in layout[name]["columns"]:
                raise SourceError(f"SMART export layout.{name}.columns: unknown field {field!r}",
                                  hint="known: " + ", ".join(layout[name]["columns"]), code="source.bad_options")
            layout[name]["columns"][field] = header
    return layout
