"""Where each Infraon object is listed, and which JSON paths hold its fields.

Only the incident and conversation routes are documented (sources.md §4.1); the
other modules are named in the API guide without schemas, so their routes here are
assumptions [A] the operator can override per tenant with the `endpoints` option, and
every one of them is optional: an absent or forbidden route is a finding that says what
follows (`ABSENT`), and requesters, technicians and teams are then taken from the
incidents themselves (`DERIVED`, see people.py).
A field is a list of candidate JSON paths (dotted): the flat list rows and the nested
detail reply name the same value differently, and the first path present wins.
Objects without `fields` expose every top-level value they carry (custom CI and
asset fields included), discovered from the first page.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from connectors.base import FieldType, ObjectRole, SourceError

INCIDENT_FIELDS: dict[str, list[str]] = {
    "incident_id": ["incident_id", "id"],
    "display_id": ["display_id"],
    "summary": ["summary", "basic_info.summary"],
    "description": ["description", "basic_info.description"],
    "status": ["status.id", "status_id", "basic_info.status.id", "status"],
    "status_name": ["status_name", "status.name", "basic_info.status.name"],
    "state_name": ["state_name", "state.name", "state"],
    "priority": ["priority.id", "priority_id", "basic_info.priority.id", "priority"],
    "priority_name": ["priority_name", "priority.name", "basic_info.priority.name"],
    "urgency": ["urgency.id", "urgency_id", "basic_info.urgency.id", "urgency"],
    "urgency_name": ["urgency_name", "urgency.name", "basic_info.urgency.name"],
    "impact": ["impact.id", "impact_id", "basic_info.impact.id", "impact"],
    "impact_name": ["impact_name", "impact.name", "basic_info.impact.name"],
    "severity_name": ["severity_name", "severity.name", "basic_info.severity.name"],
    "requester_id": ["requester.id", "requester.requester_id", "requester_id"],
    "requester_name": ["requester_name", "requester.name", "requester.full_name"],
    "requester_email": ["requester_email", "requester.email"],
    "requester_phone": ["requester_phone", "requester.phone"],
    "organization_name": ["requester.organization_name", "organization_name"],
    "assignee_id": ["current_assignment_info.assignee", "assignment_info.assignee"],
    "assignee_name": ["current_assignment_info.assignee_profile.full_name", "assignment_info.assignee_name"],
    "assignee_email": ["current_assignment_info.assignee_profile.email", "assignment_info.assignee_email"],
    "group_id": ["current_assignment_info.group", "assignment_info.group"],
    "group_name": ["current_assignment_info.group_name", "assignment_info.group_name"],
    "source_name": ["source_name", "source_info.name"],
    "catalogue_name": ["basic_info.catalogue_name", "catalogue_name"],
    "service_classification_name": ["service_classification_name"],
    "impact_service_name": ["impact_service_name"],
    "is_merge_incident": ["is_merge_incident"],
    "is_archive": ["is_archive"],
    "creation_time": ["creation_time", "basic_info.creation_time"],
    "last_update_time": ["last_update_time", "basic_info.last_update_time"],
    "closure_time": ["close_info.closed_on", "closure_info.closed_on"],
    "sla_info": ["sla_info"],
    "impacted_assets": ["impacted_asset"],
}

CONVERSATION_FIELDS: dict[str, list[str]] = {
    "id": ["id", "conversation_id"],
    "incident_id": ["ref_id", "incident_id"],
    "type": ["type", "conversation_type"],
    "content": ["content", "description", "message"],
    "is_private": ["is_private"],
    # the writer: these paths first, then the usual places (people.author_of)
    "author_name": ["created_by.full_name", "author_name", "creator_name"],
    "author_email": ["created_by.email", "author_email", "creator_email"],
    "channel": ["source", "channel"],
    "creation_time": ["creation_time", "created_on"],
    "attachments": ["attachments", "attachment"],
}

TYPES: dict[str, FieldType] = {
    "description": FieldType.HTML,
    "content": FieldType.HTML,
    "status_name": FieldType.OPTIONS,
    "state_name": FieldType.OPTIONS,
    "priority_name": FieldType.OPTIONS,
    "urgency_name": FieldType.OPTIONS,
    "impact_name": FieldType.OPTIONS,
    "severity_name": FieldType.OPTIONS,
    "requester_email": FieldType.EMAIL,
    "assignee_email": FieldType.EMAIL,
    "author_email": FieldType.EMAIL,
    "email": FieldType.EMAIL,
    "requester_phone": FieldType.PHONE,
    "phone": FieldType.PHONE,
    "is_merge_incident": FieldType.BOOLEAN,
    "is_archive": FieldType.BOOLEAN,
    "is_private": FieldType.BOOLEAN,
    "is_active": FieldType.BOOLEAN,
    "creation_time": FieldType.DATETIME,
    "last_update_time": FieldType.DATETIME,
    "closure_time": FieldType.DATETIME,
    "sla_info": FieldType.JSON,
    "impacted_assets": FieldType.LIST,
    "attachments": FieldType.JSON,
    "direction": FieldType.OPTIONS,
    "entry_kind": FieldType.OPTIONS,
}

# fields every conversation entry gets from the connector, after its JSON paths
ENTRY_FIELDS: dict[str, tuple[FieldType, str]] = {
    "author_id": (FieldType.STRING, "the writer's id as the entry gives it"),
    "author_technician": (FieldType.STRING, "the technician who wrote it (matched by email, or by a technician id)"),
    "author_requester": (FieldType.STRING, "the requester who wrote it (matched by email, or by a requester id)"),
    "direction": (FieldType.OPTIONS, "note (private, a note or a system entry), agent (a technician) or customer"),
    "entry_kind": (FieldType.OPTIONS, "message, note, or system (a status or priority change)"),
}

# objects taken from the incidents when their route is absent: fields by JSON path
DERIVED: dict[str, dict[str, list[str]]] = {
    "requesters": {"requester_id": ["requester_id"], "full_name": ["full_name"], "email": ["email"],
                   "phone": ["phone"], "organization_name": ["organization_name"]},
    "technicians": {"profile_id": ["profile_id"], "full_name": ["full_name"], "email": ["email"]},
    "teams": {"team_id": ["team_id"], "name": ["name"]},
}
DERIVED_FROM = {
    "requesters": "the requesters named by the incidents",
    "technicians": "the incident options (users, team staff and owners) and the assignees",
    "teams": "the incident options (teams)",
}

# what follows when an optional route is absent or forbidden (and nothing can stand in for it)
ABSENT: dict[str, str] = {
    "notes": "notes come only as conversation entries, where the tenant writes them there",
    "companies": "no companies are created; contacts and conversations keep the organisation's name only",
    "technicians": "replies by technicians will be attributed by name",
    "requesters": "requesters come only from the incidents that name them",
    "teams": "teams are matched by name",
    "service_requests": "no service requests are read (the Request Process route is not documented)",
}

SERVICE_REQUESTS_PATH = "/ux/sd/req/request/"  # [A] not documented
# the ticket modules a tenant may offer, discovered by probing their routes; incidents are always read
TICKET_MODULES = ("incidents", "service_requests")

DEFAULT_ENDPOINTS: dict[str, dict[str, Any]] = {
    "incidents": {"role": "conversation", "label": "Incidents", "path": "/ux/sd/inci/incident/",
                  "detail": "/ux/sd/inci/incident/{id}/", "fields": INCIDENT_FIELDS},
    # The API guide names a "Request Process" module but documents no route for it (sources.md §4):
    # this path is an assumption [A], set per tenant with the source option service_requests_path.
    "service_requests": {"role": "conversation", "label": "Service requests", "path": SERVICE_REQUESTS_PATH,
                         "id": ["request_id", "id"], "optional": True},
    "conversations": {"role": "part", "label": "Conversations", "path": "/ux/sd/inci/conversation/",
                      "parent": "incidents", "parent_param": "ref_id", "fields": CONVERSATION_FIELDS},
    "notes": {"role": "part", "label": "Notes", "path": "/ux/sd/inci/incident/notes/", "optional": True,  # [A]
              "parent": "incidents", "parent_param": "ref_id", "fields": CONVERSATION_FIELDS},
    "requesters": {"role": "contact", "label": "Requesters", "path": "/ux/common/user/requester/",  # [A]
                   "id": ["requester_id", "id"], "optional": True},
    "technicians": {"role": "agent", "label": "Technicians", "path": "/ux/common/user/users/",  # [A]
                    "id": ["profile_id", "id"], "optional": True},
    "companies": {"role": "company", "label": "Companies", "path": "/ux/common/org/organization/",  # [A]
                  "id": ["organization_id", "id"], "optional": True},
    "teams": {"role": "team", "label": "Teams", "path": "/ux/common/teams/team/", "optional": True},  # [A]
    "kb_articles": {"role": "article", "label": "Knowledge base", "path": "/ux/sd/kb/kb/", "optional": True},  # [A]
    "cis": {"role": "record", "label": "Configuration items", "path": "/ux/cmdb/ci/", "optional": True},  # [A]
    "assets": {"role": "record", "label": "Assets", "path": "/ux/asset/asset/", "optional": True},  # [A]
    "problems": {"role": "record", "label": "Problems", "path": "/ux/sd/prob/problem/", "optional": True},  # [A]
    "changes": {"role": "record", "label": "Changes", "path": "/ux/sd/change/change/", "optional": True},  # [A]
    "releases": {"role": "record", "label": "Releases", "path": "/ux/sd/release/release/", "optional": True},  # [A]
    "service_catalogue": {"role": "inventory", "label": "Service catalogue", "path": "/ux/sd/catalogue/catalogue/",
                          "optional": True},  # [A]
    "sla_policies": {"role": "inventory", "label": "SLA policies", "path": "/ux/sd/sla/sla/", "optional": True},  # [A]
}

_KEYS = {"role", "label", "path", "detail", "fields", "parent", "parent_param", "optional", "id", "params"}


def merge_endpoints(overrides: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Default endpoints with the tenant's overrides; an entry set to null is switched off."""
    merged = copy.deepcopy(DEFAULT_ENDPOINTS)
    for name, spec in (overrides or {}).items():
        if name not in merged:
            raise SourceError(f"Infraon endpoints: unknown object {name!r}", hint="known: " + ", ".join(merged),
                              code="source.bad_options")
        if spec is None:
            if name in ("incidents", "conversations"):
                raise SourceError(f"Infraon endpoints: {name} cannot be switched off", code="source.bad_options")
            del merged[name]
            continue
        if not isinstance(spec, Mapping) or set(spec) - _KEYS:
            raise SourceError(f"Infraon endpoints.{name}: expected a mapping with keys among {', '.join(sorted(_KEYS))}",
                              code="source.bad_options")
        for key, value in spec.items():
            if key == "fields":
                merged[name].setdefault("fields", {}).update({k: [v] if isinstance(v, str) else list(v) for k, v in value.items()})
            else:
                merged[name][key] = value
    for spec in merged.values():
        ObjectRole(spec["role"])
    return merged
