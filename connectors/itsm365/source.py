"""ITSM 365 as a Source: service calls, comments, employees, companies, teams, SLA, ITIL records, KB.

Each Naumen class is read whole once per run (reads.py: one request when it fits in one
reply, date windows only when a reply looks cut and the tenant's date filter works) and
kept on disk (connectors/read_cache.py), so the audit's passes cost one read each class.
Incidents and service requests are both `serviceCall`, told apart by the tenant's own
type codes: the types are found in the calls, the ones whose code names an incident are
incidents unless the operator chooses others (`incident_types`). Comments and files are
grouped by their owner (`source`); when a class cannot come whole, each call's own are
asked for and every row is checked to belong to it. Technicians (licensed employees)
are agents, never contacts, and every comment says whether a technician wrote it.
"""

from __future__ import annotations

import io
import mimetypes
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import httpx

from connectors.base import (
    AttachmentRef,
    Capability,
    ConnectionCheck,
    FieldSpec,
    FieldType,
    Finding,
    ObjectRole,
    ObjectSpec,
    Record,
    RequestUsage,
    Severity,
    Source,
    SourceError,
    SourceSchema,
    TimeZoneUse,
    ValueNote,
)
from connectors.finding_tally import FindingTally, batched, stand_in_key
from connectors.http_session import HttpStatusError, RetryPolicy
from connectors.itsm365.client import NaumenClient
from connectors.itsm365.fields import convert, specs_for
from connectors.itsm365.layout import merge_layout
from connectors.itsm365.reads import Reads, uuid_of
from connectors.local_time import from_utc, zone, zone_name
from connectors.option_fields import OptionField, OptionKind, resolve_options
from connectors.read_cache import ReadCache

INLINE_FILE = re.compile(r"""(?:\.?/)?download\?uuid=(file(?:\$|%24)\d+)""")
HTML_FIELDS = ("description_html", "text")
NAMES_AN_INCIDENT = re.compile(r"(?i)incident|инцидент")
_TAGS = re.compile(r"<[^>]*>|&nbsp;|\s")
REQUIRED_CLASSES = ("service_calls", "comments", "files", "employees", "ous")


@dataclass(frozen=True)
class _Object:
    name: str
    role: ObjectRole
    cls: str | None  # layout class entry (None: built from the layout itself)
    label: str
    select: str = "all"  # incidents | requests | people | technicians | parts | states | all
    parent: str | None = None
    description: str = ""


OBJECTS: tuple[_Object, ...] = (
    _Object("incidents", ObjectRole.CONVERSATION, "service_calls", "Incidents", "incidents",
            description="serviceCall of the incident types"),
    _Object("service_requests", ObjectRole.CONVERSATION, "service_calls", "Service requests", "requests",
            description="every other serviceCall type"),
    _Object("incident_comments", ObjectRole.PART, "comments", "Incident comments", "parts", parent="incidents"),
    _Object("request_comments", ObjectRole.PART, "comments", "Service request comments", "parts", parent="service_requests"),
    _Object("employees", ObjectRole.CONTACT, "employees", "Employees (requesters)", "people",
            description="employees without a technician license, and technicians who raised a call themselves"),
    _Object("technicians", ObjectRole.AGENT, "employees", "Technicians (licensed employees)", "technicians"),
    _Object("ous", ObjectRole.COMPANY, "ous", "Companies and departments (ou)"),
    _Object("teams", ObjectRole.TEAM, "teams", "Teams"),
    _Object("kb_articles", ObjectRole.ARTICLE, "kb_articles", "Knowledge base articles"),
    _Object("problems", ObjectRole.RECORD, "problems", "Problems"),
    _Object("change_requests", ObjectRole.RECORD, "change_requests", "Change requests"),
    _Object("agreements", ObjectRole.INVENTORY, "agreements", "Agreements (SLA)"),
    _Object("slm_services", ObjectRole.INVENTORY, "slm_services", "Services (SLM)"),
    _Object("states", ObjectRole.LOOKUP, None, "States", "states", description="state codes and titles from the layout"),
    _Object("priorities", ObjectRole.LOOKUP, "priorities", "Priorities"),
    _Object("urgencies", ObjectRole.LOOKUP, "urgencies", "Urgencies"),
    _Object("impacts", ObjectRole.LOOKUP, "impacts", "Impacts"),
)
_BY_NAME = {obj.name: obj for obj in OBJECTS}


def _fqn_of(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("fqn") or value.get("code") or value.get("UUID") or value.get("title") or "")
    return "" if value is None else str(value)


def _codes(value: Any) -> set[str]:
    """A license value as a set of codes: a code, a list of codes, or references to them."""
    items = value if isinstance(value, list) else [value]
    return {str(_fqn_of(item)) for item in items if item not in (None, "")} - {""}


def parse_types(value: Any) -> list[str]:
    """`incident_types` as typed in a form or on the command line: commas or spaces between codes."""
    if value in (None, ""):
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part for part in re.split(r"[,;\s]+", str(value)) if part]


def _no_text(html: Any) -> bool:
    return not _TAGS.sub("", str(html or ""))


class Itsm365Source(Source):
    platform: ClassVar[str] = "itsm365"
    capabilities: ClassVar[Capability] = Capability.ATTACHMENTS | Capability.DELTA_UPDATED_AT
    option_fields: ClassVar[tuple[OptionField, ...]] = (
        OptionField("tenant", "Tenant", help="acme for https://acme.itsm365.com/sd (or give the base URL)"),
        OptionField("base_url", "Base URL", OptionKind.URL, help="https://<tenant>.itsm365.com/sd or an on-prem Naumen SMP /sd"),
        OptionField("itsm365_access_key", "Access key", OptionKind.SECRET, required=True,
                    help="REST accessKey of a read-only employee; stored in the keyring, never in the project"),
        OptionField("time_zone", "Tenant time zone", OptionKind.TIME_ZONE, default="Europe/Moscow",
                    help="dates come without an offset and are read in this zone"),
        OptionField("incident_types", "Incident types",
                    help="the tenant's serviceCall types to read as incidents, comma-separated (Test lists the "
                         "tenant's types); empty: the types whose code names an incident"),
        OptionField("split_at", "Split windows at", OptionKind.INTEGER, default=500, advanced=True,
                    help="a reply of this many records (or a round number) is taken as cut by the server"),
        OptionField("layout", "Class and attribute codes", OptionKind.JSON, advanced=True,
                    help="overrides of the default layout: incident_types, date_filter, state_titles, classes.<name>.fqn/attrs"),
        OptionField("filter_style", "Filter encoding", OptionKind.CHOICE, default="base64", choices=("base64", "json"), advanced=True),
        OptionField("verify_tls", "Verify TLS certificate", OptionKind.BOOLEAN, default=True, advanced=True),
        OptionField("timeout", "Timeout (seconds)", OptionKind.INTEGER, default=120, advanced=True),
    )

    def __init__(
        self,
        base_url: str,
        access_key: str,
        *,
        time_zone: str = "Europe/Moscow",
        zone_set: bool = True,
        incident_types: Sequence[str] = (),
        split_at: int = 500,
        layout: Mapping[str, Any] | None = None,
        filter_style: str = "base64",
        verify_tls: bool = True,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.zone = zone(time_zone)
        self.zone_name = zone_name(time_zone) if time_zone else "UTC"
        self.zone_set = zone_set  # False: the default, a guess (the audit says so as a blocker)
        self.layout = merge_layout(layout)
        if incident_types:
            self.layout["incident_types"] = list(incident_types)
        self.client = NaumenClient(
            self.base_url, access_key, transport=transport, sleep=sleep, policy=policy,
            verify=verify_tls, timeout=timeout, filter_style=filter_style,
        )
        self.client.session.on_wait = lambda seconds, why: self.tell(f"waiting {seconds:.0f} s: {why}")
        self._tally = FindingTally()  # flushed into findings at the end of every read
        self.cache = ReadCache()
        self.reads = Reads(self.client, self.layout["date_filter"], self.zone, max(2, int(split_at)), self._tally,
                           self.cache, self.tell)
        self._available: dict[str, bool] = {}
        self._titles: dict[str, dict[str, str]] = {}
        self._schema: SourceSchema | None = None
        self._types: dict[str, int] | None = None
        self._incident_types: frozenset[str] | None = None
        self._kinds: dict[str, bool] | None = None  # call key -> is an incident
        self._technicians: set[str] | None = None
        self._clients: set[str] | None = None
        self._owners_checked = False
        self._owner_filters: dict[str, bool] = {}

    @classmethod
    def from_options(
        cls,
        options: Mapping[str, Any],
        secret: Callable[[str], str | None],
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        policy: RetryPolicy | None = None,
    ) -> Itsm365Source:
        opts = resolve_options("ITSM 365", cls.option_fields, options)
        base_url = opts["base_url"] or (f"https://{opts['tenant']}.itsm365.com/sd" if opts["tenant"] else "")
        if not base_url:
            raise SourceError("ITSM 365: give the tenant name or the base URL", code="source.bad_options")
        return cls(
            base_url,
            secret("itsm365_access_key") or "",
            time_zone=opts["time_zone"],
            zone_set=bool(str(options.get("time_zone") or "").strip()),
            incident_types=parse_types(opts["incident_types"]),
            split_at=opts["split_at"],
            layout=opts["layout"],
            filter_style=opts["filter_style"],
            verify_tls=opts["verify_tls"],
            timeout=float(opts["timeout"]),
            transport=transport,
            sleep=sleep,
            policy=policy,
        )

    def __repr__(self) -> str:
        return f"Itsm365Source({self.base_url!r})"

    # -- layout helpers -----------------------------------------------------------

    def _cls(self, name: str) -> dict[str, Any]:
        return self.layout["classes"][name]

    def _attr_codes(self, cls: dict[str, Any]) -> list[str]:
        codes = [code for code in cls["attrs"].values() if code]
        for code in (cls.get("date_attr"), cls.get("updated_attr"), cls.get("source_attr"), cls.get("license_attr")):
            if code and code not in codes:
                codes.append(code)
        return codes

    def _obj(self, name: str) -> _Object:
        obj = _BY_NAME.get(name)
        if obj is None:
            raise SourceError(f"ITSM 365 has no object {name!r}", hint="objects: " + ", ".join(_BY_NAME), code="source.unknown_object")
        if obj.cls is not None and self._cls(obj.cls).get("optional") and not self.available(obj.cls):
            raise SourceError(f"this ITSM 365 tenant has no {obj.label.lower()} (class {self._cls(obj.cls)['fqn']})",
                              code="source.object_absent")
        return obj

    # -- class reads ----------------------------------------------------------------

    def _class_rows(self, cls_name: str) -> Iterator[dict]:
        """A class's raw objects, oldest first, read once per run (grouped by owner when it has one)."""
        cls = self._cls(cls_name)
        owner = cls.get("source_attr")
        return self.reads.whole(f"class:{cls_name}", cls["fqn"], self._attr_codes(cls), cls["date_attr"],
                                what=f"{cls_name} ({cls['fqn']})",
                                group=(lambda row: uuid_of(row.get(owner))) if owner else None, per_owner=bool(owner))

    def _whole(self, cls_name: str) -> bool:
        """Read a class to its end (once); False when its reply looked cut and could not be windowed."""
        if not self.cache.has(f"class:{cls_name}"):
            for _ in self._class_rows(cls_name):
                pass
        return f"class:{cls_name}" not in self.reads.incomplete

    def _owned(self, cls_name: str, owner: str) -> list[dict]:
        """The objects of a class that belong to one owner (a call's comments, a record's files):
        from the class's one reply when it came whole, or when the owner filter does not work."""
        if self._whole(cls_name) or not self._owner_filter(cls_name):
            return self.cache.group(f"class:{cls_name}", owner)
        cls = self._cls(cls_name)
        attr = cls["source_attr"]
        return list(self.reads.whole(f"{cls_name}:{owner}", cls["fqn"], self._attr_codes(cls), cls["date_attr"],
                                     what=f"{cls_name} of {owner}", extra={attr: owner},
                                     belongs=lambda row: uuid_of(row.get(attr)) == owner))

    def _owner_filter(self, cls_name: str) -> bool:
        """Whether `{source_attr: owner}` narrows the class to one owner (asked once, before relying on it)."""
        if cls_name not in self._owner_filters:
            cls = self._cls(cls_name)
            attr = cls["source_attr"]
            sample = next(((uuid_of(r.get(attr)), str(r.get("UUID"))) for r in self._class_rows(cls_name)
                           if uuid_of(r.get(attr))), None)
            works = True
            if sample is not None:
                owner, uuid = sample
                rows, _ = self.client.find(cls["fqn"], {attr: owner}, ["UUID", attr], what=f"{attr} filter probe")
                works = uuid in {str(r.get("UUID")) for r in rows} and all(uuid_of(r.get(attr)) == owner for r in rows)
                if not works:
                    self.report_problem(
                        "itsm365.owner_filter_ignored", Severity.WARNING,
                        f"the tenant does not narrow {cls['fqn']} to one owner with {{\"{attr}\": ...}} (it answered "
                        f"{len(rows)} records for {owner}): each owner's records come from the class's one reply, "
                        "which may be cut", None, "see the finding about that reply; nothing else can be read")
            self._owner_filters[cls_name] = works
        return self._owner_filters[cls_name]

    def available(self, cls_name: str) -> bool:
        """Whether the tenant has a class: an optional one is read whole once, and its absence is a finding."""
        if cls_name in self._available:
            return self._available[cls_name]
        cls = self._cls(cls_name)
        present = True
        if cls.get("optional"):
            try:
                self._whole(cls_name)
            except HttpStatusError as exc:
                if exc.code == "source.auth_rejected":
                    raise
                present = False
                if exc.code == "source.permission_denied":
                    self.report_problem("source.permission_denied", Severity.INFO,
                                        f"no permission to read {cls['fqn']} (HTTP 403): nothing is migrated from it",
                                        cls_name, "grant the REST employee read access to this class if it matters")
                else:
                    self.report_problem("source.object_absent", Severity.INFO,
                                        f"the tenant has no class {cls['fqn']} (HTTP {exc.status}): nothing is migrated from it",
                                        cls_name, "set its fqn in the layout if the tenant names it differently")
        self._available[cls_name] = present
        return present

    def report_problem(self, code: str, severity: Severity, message: str, obj: str | None, detail: str = "") -> None:
        self.report(Finding(code=code, severity=severity, message=message, object=obj, detail=detail))

    # -- service call types ---------------------------------------------------------

    def _type_of(self, raw: dict) -> str:
        return _fqn_of(raw.get(self._cls("service_calls")["attrs"].get("type") or "metaClass"))

    def _type_counts(self) -> dict[str, int]:
        if self._types is None:
            counts: dict[str, int] = {}
            for raw in self._class_rows("service_calls"):
                kind = self._type_of(raw) or "(no type)"
                counts[kind] = counts.get(kind, 0) + 1
            self._types = counts
        return self._types

    def _choose_types(self, types: Mapping[str, int]) -> tuple[list[str], str]:
        """The incident types and how they were chosen: by the operator, or by their code."""
        chosen = list(self.layout["incident_types"])
        if chosen:
            return chosen, "chosen with incident_types"
        return [t for t in types if NAMES_AN_INCIDENT.search(t)], "their code names an incident"

    def incident_types(self) -> frozenset[str]:
        """The service call types read as incidents; the tenant's types are reported once."""
        if self._incident_types is None:
            types = self._type_counts()
            chosen, how = self._choose_types(types)
            listing = ", ".join(f"{t} ({n})" for t, n in sorted(types.items())) or "none"
            unknown = [t for t in chosen if t not in types]
            if unknown:
                self.report_problem("itsm365.incident_type_unknown", Severity.WARNING,
                                    f"incident types not found in this tenant: {', '.join(unknown)}", "incidents",
                                    f"its service call types are: {listing}")
            if chosen:
                self.report_problem("itsm365.service_call_types", Severity.INFO,
                                    f"service call types: {listing}; incidents: {', '.join(chosen)} ({how})",
                                    "incidents", "every other type is read as a service request; choose others with "
                                                 "the source option incident_types")
            elif types:
                self.report_problem("itsm365.no_incident_type", Severity.WARNING,
                                    f"no service call type of this tenant names an incident ({listing}): every call "
                                    "is read as a service request", "incidents",
                                    "if some of these types are incidents, set the source option incident_types "
                                    "(for example serviceCall$call)")
            self._incident_types = frozenset(chosen)
        return self._incident_types

    def _call_kinds(self) -> dict[str, bool]:
        """Every service call's key and whether it is an incident."""
        if self._kinds is None:
            incident = self.incident_types()
            uuid_attr = self._cls("service_calls")["attrs"]["uuid"]
            self._kinds = {key: self._type_of(raw) in incident
                           for raw in self._class_rows("service_calls") if (key := uuid_of(raw.get(uuid_attr)))}
        return self._kinds

    # -- people -----------------------------------------------------------------------

    def _licensed(self, raw: dict) -> bool:
        cls = self._cls("employees")
        return bool(_codes(raw.get(cls["license_attr"])) - set(cls["unlicensed"]))

    def technician_keys(self) -> set[str]:
        if self._technicians is None:
            uuid_attr = self._cls("employees")["attrs"]["uuid"]
            self._technicians = {uuid_of(raw.get(uuid_attr)) for raw in self._class_rows("employees")  # type: ignore[misc]
                                 if self._licensed(raw)} - {None}
        return self._technicians

    def _client_keys(self) -> set[str]:
        if self._clients is None:
            attr = self._cls("service_calls")["attrs"].get("client")
            self._clients = {uuid_of(raw.get(attr)) for raw in self._class_rows("service_calls")  # type: ignore[misc]
                             if attr} - {None}
        return self._clients

    # -- connection test and schema -----------------------------------------------

    def check(self) -> ConnectionCheck:
        calls = self._cls("service_calls")
        try:
            status = self.client.check_status()
            rows, _ = self.client.find(calls["fqn"], None, ["UUID", calls["attrs"].get("type") or "metaClass",
                                                            calls["date_attr"]], what="service call types")
            probe = self.reads.probe_dates(calls["fqn"], calls["date_attr"], rows, "service calls")
            present = [name for name, spec in self.layout["classes"].items() if spec.get("optional") and self.available(name)]
            absent = [name for name, spec in self.layout["classes"].items() if spec.get("optional") and not self.available(name)]
        except SourceError as exc:
            return ConnectionCheck(False, str(exc), tuple(d for d in (exc.hint,) if d))
        types: dict[str, int] = {}
        for row in rows:
            kind = self._type_of(row) or "(no type)"
            types[kind] = types.get(kind, 0) + 1
        chosen, how = self._choose_types(types)
        details = [f"check-status: {status or 'ok'}", "access key accepted",
                   "service call types: " + (", ".join(f"{t} ({n})" for t, n in sorted(types.items())) or "no calls yet"),
                   f"incidents: {', '.join(chosen)} ({how})" if chosen else
                   "incidents: no type names an incident; every call is a service request unless incident_types is set",
                   f"date filter: {probe.note}" + ("" if probe.works else "; classes are read whole and deltas filtered here")]
        if present:
            details.append("optional classes found: " + ", ".join(present))
        if absent:
            details.append("optional classes missing: " + ", ".join(absent))
        details.append(f"requests so far: {self.client.session.requests}")
        return ConnectionCheck(True, f"reached ITSM 365 at {self.client.session.where(self.base_url)}", tuple(details))

    def time_zone(self) -> TimeZoneUse:
        """Naumen dates carry no offset: read in the tenant's zone, which left unset is a guess."""
        if self.zone_set:
            return TimeZoneUse(self.zone_name, True)
        return TimeZoneUse(f"{self.zone_name} (ITSM 365's default, a guess: no tenant zone is set)", False)

    def describe(self) -> SourceSchema:
        if self._schema is None:
            objects = []
            for obj in OBJECTS:
                if obj.cls is not None and not self.available(obj.cls):
                    continue
                objects.append(self._spec(obj))
            self._schema = SourceSchema(self.platform, tuple(objects))
        return self._schema

    def _spec(self, obj: _Object) -> ObjectSpec:
        if obj.select == "states":
            fields = (FieldSpec("code", nullable=False, label="Code"), FieldSpec("title", label="Title"))
            return ObjectSpec(obj.name, obj.role, fields, key="code", label=obj.label, description=obj.description)
        cls = self._cls(obj.cls)  # type: ignore[arg-type]
        extra: tuple[FieldSpec, ...] = ()
        if obj.cls == "service_calls":
            extra = (
                FieldSpec("kind", FieldType.OPTIONS, label="Kind", options=("incident", "service_request")),
                FieldSpec("state_name", FieldType.OPTIONS, label="State"),
            )
        elif obj.cls in ("problems", "change_requests", "agreements", "slm_services"):
            extra = (FieldSpec("state_name", FieldType.OPTIONS, label="State"),) if cls["attrs"].get("state") else ()
        elif obj.select == "parts":
            extra = (
                FieldSpec("service_call", FieldType.STRING, label="Service call", references=obj.parent, nullable=False),
                FieldSpec("direction", FieldType.OPTIONS, label="Direction", options=("customer", "agent", "note"),
                          description="note when private, agent when a technician wrote it, else customer"),
            )
        attrs = cls["attrs"]
        fields = specs_for(attrs, extra)
        if obj.select == "parts":  # technicians and requesters share the employees' keys: no fixed target
            fields = tuple(FieldSpec(f.name, f.type, label=f.label, description=f.description + "; an employee: "
                                     "a technician (agent) or a requester") if f.name == "author" else f for f in fields)
        return ObjectSpec(
            obj.name,
            obj.role,
            fields,
            key="uuid",
            label=obj.label,
            parent=obj.parent,
            parent_field="service_call" if obj.parent else None,
            created_field="created" if attrs.get("created") else None,
            updated_field="updated" if attrs.get("updated") else None,
            optional=bool(cls.get("optional")),
            description=obj.description or f"Naumen class {cls['fqn']}",
        )

    # -- reading ------------------------------------------------------------------

    def _local(self, since: datetime) -> datetime:
        return from_utc(since, self.zone).replace(microsecond=0)

    def _records(self, obj: _Object, since: datetime | None) -> Iterator[Record]:
        if obj.select == "states":
            for code, title in self.layout["state_titles"].items():
                yield Record(obj.name, str(code), {"code": str(code), "title": title})
            return
        if obj.select == "parts":
            yield from self._comment_records(obj, since)
            return
        cls = self._cls(obj.cls)  # type: ignore[arg-type]
        if since is not None and cls.get("updated_attr"):
            rows: Iterator[dict] = self.reads.since(cls["fqn"], self._attr_codes(cls), cls["updated_attr"],
                                                    self._local(since), what=f"{obj.name} changed since {since:%Y-%m-%d}")
        else:
            rows = self._class_rows(obj.cls)  # type: ignore[arg-type]
        incident = self.incident_types() if obj.select in ("incidents", "requests") else frozenset()
        for raw in rows:
            if obj.select in ("incidents", "requests") and (self._type_of(raw) in incident) != (obj.select == "incidents"):
                continue
            if obj.select == "technicians" and not self._licensed(raw):
                continue
            if obj.select == "people" and self._licensed(raw) and uuid_of(raw.get(cls["attrs"]["uuid"])) not in self._client_keys():
                continue
            record = self._record(obj, cls, raw)
            if record is None:
                continue
            if since is not None and not cls.get("updated_attr") and (record.data.get("created") or since) < since:
                continue
            yield record

    def _comment_records(self, obj: _Object, since: datetime | None) -> Iterator[Record]:
        cls = self._cls("comments")
        owner = cls["source_attr"]
        want = obj.parent == "incidents"
        kinds = self._call_kinds()
        if since is not None:
            changed = self.reads.since(cls["fqn"], self._attr_codes(cls), cls["date_attr"], self._local(since),
                                       what=f"{obj.name} since {since:%Y-%m-%d}")
            for raw in changed:
                parent = uuid_of(raw.get(owner))
                if parent in kinds and kinds[parent] == want and (record := self._record(obj, cls, raw, parent)):
                    yield record
            return
        if self._whole("comments"):
            self._check_owners(kinds)
            for raw in self._class_rows("comments"):
                parent = uuid_of(raw.get(owner))
                if parent in kinds and kinds[parent] == want and (record := self._record(obj, cls, raw, parent)):
                    yield record
            return
        for parent, is_incident in kinds.items():
            if is_incident == want:
                for raw in self._owned("comments", parent):
                    if record := self._record(obj, cls, raw, parent):
                        yield record

    def _check_owners(self, kinds: Mapping[str, bool]) -> None:
        """Comments whose owner is not a service call that was read: reported once, never parts."""
        if self._owners_checked:
            return
        self._owners_checked = True
        owner = self._cls("comments")["source_attr"]
        calls = self._cls("service_calls")["fqn"].split("$")[0]
        elsewhere: list[str] = []
        orphans: list[str] = []
        for raw in self._class_rows("comments"):
            parent = uuid_of(raw.get(owner)) or ""
            if parent not in kinds:
                (orphans if parent.split("$")[0] == calls or not parent else elsewhere).append(str(raw.get("UUID")))
        if elsewhere:
            self.report(Finding("itsm365.comments_elsewhere", Severity.INFO,
                                f"{len(elsewhere)} comments belong to other records (changes, problems): they are not "
                                "parts of a conversation", "incident_comments", tuple(elsewhere[:20]), len(elsewhere)))
        if orphans:
            self.report(Finding("part.conversation_missing", Severity.WARNING,
                                f"{len(orphans)} comments belong to service calls that were not read: they are left out",
                                "incident_comments", tuple(orphans[:20]), len(orphans),
                                "the calls may be archived, or outside the access key's rights"))

    def _record(self, obj: _Object, cls: dict[str, Any], raw: dict, parent_key: str | None = None) -> Record | None:
        notes: list[ValueNote] = []
        data, bad = convert(cls["attrs"], raw, self.zone, notes)
        key = data.get("uuid")
        if not key:  # counted once, however often a read meets it (named by its content)
            self._tally.add("itsm365.record_without_uuid", Severity.WARNING,
                            f"{obj.name}: a record came without a UUID and was rejected", object=obj.name,
                            key=stand_in_key("no-uuid", raw), once=True)
            return None
        for name in bad:
            self._tally.add("itsm365.value_unreadable", Severity.WARNING,
                            f"{obj.name}.{name}: value could not be read and was left empty", object=obj.name, key=key,
                            once=True)
        if obj.cls == "service_calls":
            data["kind"] = "incident" if self._type_of(raw) in self.incident_types() else "service_request"
        if "state" in data:
            data["state_name"] = self.layout["state_titles"].get(data["state"], data["state"]) if data["state"] else None
        if parent_key is not None:
            data["service_call"] = parent_key
            private = data.get("private")
            # a private flag that cannot be read leaves the side unknown: the map makes it a note
            data["direction"] = "note" if private else None if private is None else (
                "agent" if data.get("author") in self.technician_keys() else "customer")
            if _no_text(data.get("text")):
                files = bool(data.get("files"))
                self._tally.add("itsm365.comment_files_only" if files else "itsm365.comment_empty",
                                Severity.INFO if files else Severity.WARNING,
                                f"{obj.name}: comments with no text but files; they load as parts that carry the files"
                                if files else f"{obj.name}: comments with neither text nor files",
                                object=obj.name, key=key, once=True)
        for ref in ("priority", "urgency", "impact"):
            if data.get(ref) and not data.get(f"{ref}_name"):
                data[f"{ref}_name"] = self._title(ref, data[ref])
        return Record(obj.name, key, data, parent_key=parent_key, updated_at=data.get("updated") or data.get("created"),
                      notes=tuple(notes))

    def _title(self, ref: str, uuid: str) -> str | None:
        """A catalog item's title (priority, urgency, impact) when the reply carried only its UUID."""
        lookup = {"priority": "priorities", "urgency": "urgencies", "impact": "impacts"}[ref]
        if lookup not in self._titles:
            titles: dict[str, str] = {}
            if self.available(lookup):
                for record in self._records(_BY_NAME[lookup], None):
                    titles[record.key] = record.data.get("title") or record.data.get("code") or record.key
            self._titles[lookup] = titles
        return self._titles[lookup].get(uuid)

    def iter_records(self, object: str, since: datetime | None = None, batch_size: int = 500) -> Iterator[list[Record]]:
        obj = self._obj(object)
        throttled = self.client.session.throttled
        waited = self.client.session.waited
        try:
            yield from batched(self._records(obj, since), batch_size)
        finally:
            count = self.client.session.throttled - throttled
            if count:
                self._tally.add("source.rate_limited", Severity.INFO,
                                f"ITSM 365 asked to slow down while reading {object}; waited "
                                f"{self.client.session.waited - waited:.0f} s in all", object=object, count=count)
            self._tally.flush(self.report)

    def children(self, object: str, parent_keys: Sequence[str]) -> dict[str, list[Record]]:
        obj = self._obj(object)
        if obj.select != "parts":
            return super().children(object, parent_keys)
        cls = self._cls("comments")
        try:
            return {key: [r for raw in self._owned("comments", key) if (r := self._record(obj, cls, raw, key))]
                    for key in parent_keys}
        finally:
            self._tally.flush(self.report)

    def get(self, object: str, keys: Sequence[str]) -> list[Record]:
        obj = self._obj(object)
        if obj.select == "states":
            return [r for r in self._records(obj, None) if r.key in set(keys)]
        cls = self._cls(obj.cls)  # type: ignore[arg-type]
        attrs = self._attr_codes(cls)
        found: list[Record] = []
        try:
            for key in keys:
                raw = self.client.get(key, attrs, what=f"{object} {key}")
                if raw is None:
                    continue
                if obj.select in ("incidents", "requests"):
                    if (self._type_of(raw) in self.incident_types()) != (obj.select == "incidents"):
                        continue
                if obj.select == "technicians" and not self._licensed(raw):
                    continue
                if obj.select == "people" and self._licensed(raw) and key not in self._client_keys():
                    continue  # a technician asked for as a contact (a reply's author): an admin, never a contact
                parent = uuid_of(raw.get(cls["source_attr"])) if obj.select == "parts" else None
                record = self._record(obj, cls, raw, parent)
                if record is not None:
                    found.append(record)
        finally:
            self._tally.flush(self.report)
        return found

    def attachments(self, object: str, record: Record) -> list[AttachmentRef]:
        self._obj(object)
        refs: dict[str, AttachmentRef] = {}
        for raw in self._files_of(record.key):
            ref = self._file_ref(raw, record.key)
            refs[ref.content_id or ref.name] = ref
        for uuid in record.data.get("files") or []:
            if uuid and uuid not in refs:
                raw = self.client.get(uuid, self._attr_codes(self._cls("files")), what=f"file {uuid}") or {"UUID": uuid}
                refs[uuid] = self._file_ref(raw, record.key)
        for field in HTML_FIELDS:
            for match in INLINE_FILE.finditer(record.data.get(field) or ""):
                uuid = match.group(1).replace("%24", "$")
                known = refs.get(uuid)
                refs[uuid] = AttachmentRef(
                    name=known.name if known else uuid, size=known.size if known else None,
                    content_type=known.content_type if known else "application/octet-stream",
                    record_key=record.key, opener=self._opener(uuid), location=match.group(0),
                    inline=True, content_id=uuid,
                )
        return list(refs.values())

    def _files_of(self, owner: str) -> list[dict]:
        """The file objects a record owns; a tenant that hides the file class keeps the listed files only."""
        if self._available.get("files") is False:
            return []
        try:
            return self._owned("files", owner)
        except HttpStatusError as exc:
            if exc.code == "source.auth_rejected":
                raise
            self._available["files"] = False
            self.report_problem("itsm365.files_unlisted", Severity.WARNING,
                                f"the tenant does not list its files (HTTP {exc.status}): only files named by "
                                "comments and inline images are migrated", None,
                                "grant the REST employee read access to the file class")
            return []

    def _file_ref(self, raw: dict, record_key: str) -> AttachmentRef:
        data, _ = convert(self._cls("files")["attrs"], raw, self.zone)
        uuid = str(data.get("uuid") or raw.get("UUID"))
        name = data.get("title") or uuid
        content_type = data.get("mime_type") or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return AttachmentRef(name=name, size=data.get("size"), content_type=content_type, record_key=record_key,
                             opener=self._opener(uuid), location=f"get-file/{uuid}", content_id=uuid)

    def _opener(self, uuid: str) -> Callable[[], io.BytesIO]:
        return lambda: io.BytesIO(self.client.get_file(uuid))

    # -- cost -------------------------------------------------------------------------

    def request_usage(self) -> RequestUsage:
        """Requests so far; once the schema is known, about how many the reads still need."""
        session = self.client.session
        planned = None
        if self._schema is not None:
            unread = sum(1 for name in REQUIRED_CLASSES if not self.cache.has(f"class:{name}"))
            per_call = 0
            if "class:comments" in self.reads.incomplete and self._owner_filters.get("comments", True):
                per_call = sum(1 for key in self._kinds or () if not self.cache.has(f"comments:{key}"))
            planned = session.requests + unread + per_call + (0 if self.reads.date_probe else 1)
        return RequestUsage("ITSM 365", session.requests, planned, session.throttled, session.waited)

    def close(self) -> None:
        self.client.close()
        self.cache.close()
