"""Which Naumen classes and attribute codes hold what, per tenant.

Class, type and attribute codes differ between ITSM 365 tenants (sources.md §3.2, §6),
so every code lives in an editable layout: a plain dict recorded in the project's
options. The operator overrides only what differs; `merge_layout` checks the keys.

Per class: `fqn` (class or class$type), `attrs` (our field name -> the tenant's
attribute code; null drops a field the tenant lacks, a new name adds a custom
field), `date_attr` (the creation date, used for date windows) and `updated_attr`.
Classes whose objects belong to another (comments, files) name the owner in `source_attr`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from connectors.base import SourceError

DEFAULT_LAYOUT: dict[str, Any] = {
    # serviceCall types that are incidents; every other serviceCall is a service request.
    # Type codes are the tenant's own (serviceCall$call, serviceCall$incident, ...): empty
    # means the types found in the tenant whose code names an incident
    "incident_types": [],
    # [A] the find filter that selects a date range; {start} and {end} are inclusive,
    # formatted yyyy.MM.dd HH:mm:ss in the tenant's time zone. Naumen documents this form
    # for its scripting API, not for REST: it is probed once, and used only when it works
    "date_filter": "op.between({start},{end})",
    # state codes -> titles (REST returns codes only)
    "state_titles": {
        "registered": "Registered",
        "inprogress": "In progress",
        "waiting": "Waiting",
        "resolved": "Resolved",
        "closed": "Closed",
        "active": "Active",
        "archived": "Archived",
    },
    "classes": {
        "service_calls": {
            "fqn": "serviceCall",
            "date_attr": "creationDate",
            "updated_attr": "lastModifiedDate",
            "attrs": {
                "uuid": "UUID",
                "number": "number",
                "type": "metaClass",
                "state": "state",
                "subject": "shortDescr",
                "description": "description",
                "description_html": "descriptionRTF",
                "client": "clientEmployee",
                "client_ou": "clientOU",
                "client_name": "clientName",
                "client_email": "clientEmail",
                "client_phone": "clientPhone",
                "author": "author",
                "responsible": "responsibleEmployee",
                "responsible_team": "responsibleTeam",
                "priority": "priority",
                "urgency": "urgency",
                "impact": "impact",
                "category": "baseCategory",
                "service": "service",
                "agreement": "agreement",
                "sla_deadline": "deadLineTime",
                "resolved_at": "dateDecision",
                "request_date": "requestDate",
                "created": "creationDate",
                "updated": "lastModifiedDate",
            },
        },
        "comments": {
            "fqn": "comment",
            "date_attr": "creationDate",
            "updated_attr": None,
            "source_attr": "source",
            "attrs": {
                "uuid": "UUID",
                "text": "text",
                "author": "author",
                "private": "private",
                "files": "files",
                "created": "creationDate",
            },
        },
        "files": {
            "fqn": "file",
            "date_attr": "creationDate",
            "updated_attr": None,
            "source_attr": "source",
            "attrs": {"uuid": "UUID", "title": "title", "size": "fileSize", "mime_type": "mimeType"},
        },
        "employees": {
            "fqn": "employee",
            "date_attr": "creationDate",
            "updated_attr": "lastModifiedDate",
            # employees whose license is one of these are not technicians
            "license_attr": "license",
            "unlicensed": ["notLicensed", ""],
            "attrs": {
                "uuid": "UUID",
                "title": "title",
                "first_name": "firstName",
                "last_name": "lastName",
                "middle_name": "middleName",
                "email": "email",
                "phone": "mobilePhoneNumber",
                "work_phone": "internalPhoneNumber",
                "ou": "parent",
                "position": "post",
                "login": "login",
                "archived": "removed",
                "license": "license",
                "created": "creationDate",
                "updated": "lastModifiedDate",
            },
        },
        "ous": {
            "fqn": "ou",
            "date_attr": "creationDate",
            "updated_attr": "lastModifiedDate",
            "attrs": {
                "uuid": "UUID",
                "title": "title",
                "parent": "parent",
                "additional_name": "additionalName",
                "archived": "removed",
                "created": "creationDate",
                "updated": "lastModifiedDate",
            },
        },
        "teams": {
            "fqn": "team",
            "optional": True,
            "date_attr": "creationDate",
            "updated_attr": "lastModifiedDate",
            "attrs": {"uuid": "UUID", "title": "title", "leader": "leader", "created": "creationDate", "updated": "lastModifiedDate"},
        },
        "agreements": {
            "fqn": "agreement",
            "optional": True,
            "date_attr": "creationDate",
            "updated_attr": "lastModifiedDate",
            "attrs": {
                "uuid": "UUID",
                "title": "title",
                "state": "state",
                "state_start": "stateStartTime",
                "services": "services",
                "recipients_ou": "recipientsOU",
                "created": "creationDate",
                "updated": "lastModifiedDate",
            },
        },
        "slm_services": {
            "fqn": "slmService",
            "optional": True,
            "date_attr": "creationDate",
            "updated_attr": "lastModifiedDate",
            "attrs": {"uuid": "UUID", "title": "title", "state": "state", "created": "creationDate", "updated": "lastModifiedDate"},
        },
        "change_requests": {
            "fqn": "changeRequest",
            "optional": True,
            "date_attr": "creationDate",
            "updated_attr": "lastModifiedDate",
            "attrs": {
                "uuid": "UUID",
                "number": "number",
                "type": "metaClass",
                "state": "state",
                "title": "title",
                "description_html": "descriptionRTF",
                "responsible_team": "responsibleTeam",
                "created": "creationDate",
                "updated": "lastModifiedDate",
            },
        },
        "problems": {
            "fqn": "problem",
            "optional": True,
            "date_attr": "creationDate",
            "updated_attr": "lastModifiedDate",
            "attrs": {
                "uuid": "UUID",
                "number": "number",
                "state": "state",
                "title": "title",
                "description_html": "descriptionRTF",
                "responsible_team": "responsibleTeam",
                "created": "creationDate",
                "updated": "lastModifiedDate",
            },
        },
        "kb_articles": {
            # [I] the portal links articles as KB$<id>; attribute codes unverified
            "fqn": "KB",
            "optional": True,
            "date_attr": "creationDate",
            "updated_attr": "lastModifiedDate",
            "attrs": {
                "uuid": "UUID",
                "title": "title",
                "text": "text",
                "section": "parent",
                "author": "author",
                "created": "creationDate",
                "updated": "lastModifiedDate",
            },
        },
        "priorities": {
            "fqn": "priority",
            "optional": True,
            "date_attr": "creationDate",
            "updated_attr": None,
            "attrs": {"uuid": "UUID", "code": "code", "title": "title", "created": "creationDate"},
        },
        "urgencies": {
            "fqn": "urgency",
            "optional": True,
            "date_attr": "creationDate",
            "updated_attr": None,
            "attrs": {"uuid": "UUID", "code": "code", "title": "title", "created": "creationDate"},
        },
        "impacts": {
            "fqn": "impact",
            "optional": True,
            "date_attr": "creationDate",
            "updated_attr": None,
            "attrs": {"uuid": "UUID", "code": "code", "title": "title", "created": "creationDate"},
        },
    },
}

_CLASS_KEYS = {"fqn", "optional", "date_attr", "updated_attr", "attrs", "source_attr", "license_attr", "unlicensed"}


def _bad(message: str) -> SourceError:
    return SourceError(f"ITSM 365 layout: {message}", hint="fix the layout option (class and attribute codes)", code="source.bad_options")


def merge_layout(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The default layout with the tenant's overrides applied; unknown keys are errors."""
    layout = copy.deepcopy(DEFAULT_LAYOUT)
    for key, value in (overrides or {}).items():
        if key not in layout:
            raise _bad(f"unknown key {key!r} (known: {', '.join(layout)})")
        if key == "classes":
            if not isinstance(value, Mapping):
                raise _bad("'classes' must be a mapping")
            for name, spec in value.items():
                if name not in layout["classes"]:
                    raise _bad(f"unknown class entry {name!r} (known: {', '.join(layout['classes'])})")
                if not isinstance(spec, Mapping):
                    raise _bad(f"classes.{name} must be a mapping")
                for ckey, cvalue in spec.items():
                    if ckey not in _CLASS_KEYS:
                        raise _bad(f"classes.{name}: unknown key {ckey!r}")
                    if ckey == "attrs":
                        if not isinstance(cvalue, Mapping):
                            raise _bad(f"classes.{name}.attrs must be a mapping")
                        layout["classes"][name]["attrs"].update(cvalue)
                    else:
                        layout["classes"][name][ckey] = cvalue
        elif key == "state_titles":
            if not isinstance(value, Mapping):
                raise _bad("'state_titles' must be a mapping")
            layout["state_titles"].update(value)
        elif key == "incident_types":
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise _bad("'incident_types' must be a list of fqn strings such as serviceCall$incident")
            layout["incident_types"] = list(value)
        else:
            if "{start}" not in str(value) or "{end}" not in str(value):
                raise _bad("'date_filter' must contain {start} and {end}")
            layout[key] = str(value)
    for name, spec in layout["classes"].items():
        if not spec["attrs"].get("uuid"):
            raise _bad(f"classes.{name}.attrs.uuid cannot be dropped: it is the record key")
    return layout
