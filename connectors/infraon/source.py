"""Infraon Desk as a Source: incidents with their conversation, people, companies, KB, ITIL records.

Incidents keep both ids: `incident_id` (internal, the record key, what the detail and
conversation routes take) and `display_id` (what people see). Every list is read once
per run and kept on disk (connectors/read_cache.py); the page read to size a list is its
first page. Only the incident and conversation routes are essential: any other route
that is absent or forbidden is an info finding that says what follows, and requesters,
technicians and teams are then taken from the incidents (people.py). Conversation
entries come from the whole list grouped by `ref_id` when that costs no more than asking
per incident; the `ref_id` filter is probed before it is relied on, and every entry
asked for one incident is checked to belong to it. Each entry says who wrote it and
from which side, and status or priority changes follow an explicit rule (entries.py).
Priority, urgency and impact codes are named from the tenant's own `options`.
"""

from __future__ import annotations

import io
import math
import mimetypes
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

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
    Skipped,
    Source,
    SourceError,
    SourceSchema,
    ValueNote,
)
from connectors.finding_tally import FindingTally, batched, stand_in_key
from connectors.http_session import RetryPolicy
from connectors.infraon.client import AUTH_STYLES, InfraonClient, record_id
from connectors.infraon.endpoints import (
    ABSENT,
    DERIVED,
    DERIVED_FROM,
    ENTRY_FIELDS,
    SERVICE_REQUESTS_PATH,
    TICKET_MODULES,
    merge_endpoints,
)
from connectors.infraon.entries import DEFAULT_SYSTEM_TYPES, SYSTEM_RULES, EntryRule, describe, has_text, parse_type_list
from connectors.infraon.people import Directory, author_of, requester_of, teams_of, technicians_of
from connectors.infraon.values import (
    DEFAULT_OPTIONS,
    OPTION_KEYS,
    at,
    convert,
    discovered_specs,
    flatten,
    kind_of,
    option_entries,
    pick,
)
from connectors.local_time import value_notes, zone
from connectors.option_fields import OptionField, OptionKind, resolve_options
from connectors.read_cache import ReadCache

LOOKUPS = {"statuses": "Statuses", "priorities": "Priorities", "urgencies": "Urgencies", "impacts": "Impacts",
           "severities": "Severities"}
CODED = {"priority": "priorities", "urgency": "urgencies", "impact": "impacts", "status": "statuses"}


def _results(body: Any) -> list[dict]:
    items = body.get("results") if isinstance(body, dict) else body
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _count(body: Any) -> int | None:
    if isinstance(body, list):
        return len(body)
    count = body.get("count") if isinstance(body, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def _chosen_modules(value: Sequence[str] | str) -> frozenset[str]:
    """`ticket_modules` as typed: commas between names; incidents must stay among them."""
    chosen = parse_type_list(value)
    unknown = sorted(chosen - set(TICKET_MODULES))
    if unknown:
        raise SourceError("Infraon ticket_modules: unknown module " + ", ".join(unknown),
                          hint="known: " + ", ".join(TICKET_MODULES), code="source.bad_options")
    if chosen and "incidents" not in chosen:
        raise SourceError("Infraon ticket_modules: incidents are always read",
                          hint="conversations, people and lookups come from the incidents; add incidents",
                          code="source.bad_options")
    return chosen


class InfraonSource(Source):
    platform: ClassVar[str] = "infraon"
    # not EXACT_COUNTS: its counts are what the server announces, items it cannot read included
    capabilities: ClassVar[Capability] = (
        Capability.ATTACHMENTS | Capability.DELTA_UPDATED_AT
    )
    option_fields: ClassVar[tuple[OptionField, ...]] = (
        OptionField("base_url", "Base URL", OptionKind.URL, required=True, help="your Infraon address, e.g. https://acme.infraon.app"),
        OptionField("auth", "Authentication", OptionKind.CHOICE, default="auto", choices=AUTH_STYLES,
                    help="auto tries the API key (raw, then ApiKey <key>), then a token from username and password"),
        OptionField("username", "Username", help="for token authentication"),
        OptionField("infraon_api_key", "API key", OptionKind.SECRET, help="sent in the Authorization header"),
        OptionField("infraon_password", "Password", OptionKind.SECRET, help="for token authentication"),
        OptionField("time_zone", "Time zone of naive dates", OptionKind.TIME_ZONE, default="UTC"),
        OptionField("system_entries", "Status and priority changes", OptionKind.CHOICE, default="note",
                    choices=SYSTEM_RULES, help="conversation entries that only record a change: keep them as "
                                               "internal notes, or leave them out (reported either way)"),
        OptionField("system_types", "Change entry types", default=", ".join(DEFAULT_SYSTEM_TYPES), advanced=True,
                    help="conversation entry types that only record a change, comma-separated"),
        OptionField("ticket_modules", "Ticket modules",
                    help="modules read as tickets, comma-separated among " + ", ".join(TICKET_MODULES)
                         + " (incidents always; Test lists what the tenant offers); empty: every module it offers"),
        OptionField("service_requests_path", "Service request route", default=SERVICE_REQUESTS_PATH, advanced=True,
                    help="where the tenant lists its Request Process module (not documented by Infraon)"),
        OptionField("items_per_page", "Items per page", OptionKind.INTEGER, default=100, advanced=True),
        OptionField("max_pages", "Page limit per list", OptionKind.INTEGER, default=10000, advanced=True),
        OptionField("endpoints", "Endpoints", OptionKind.JSON, advanced=True,
                    help="per object: path, fields, id, optional; null switches an object off"),
        OptionField("verify_tls", "Verify TLS certificate", OptionKind.BOOLEAN, default=True, advanced=True),
        OptionField("timeout", "Timeout (seconds)", OptionKind.INTEGER, default=60, advanced=True),
    )

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        auth: str = "auto",
        time_zone: str = "UTC",
        system_entries: str = "note",
        system_types: Sequence[str] | str = DEFAULT_SYSTEM_TYPES,
        ticket_modules: Sequence[str] | str = (),
        service_requests_path: str | None = None,
        items_per_page: int = 100,
        max_pages: int = 10000,
        endpoints: Mapping[str, Any] | None = None,
        verify_tls: bool = True,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.zone = zone(time_zone)
        self.per_page = max(1, int(items_per_page))
        self.max_pages = max(1, int(max_pages))
        self.endpoints = merge_endpoints(endpoints)
        if service_requests_path and "service_requests" in self.endpoints:
            self.endpoints["service_requests"]["path"] = service_requests_path
        self.chosen_modules = _chosen_modules(ticket_modules)  # empty: every module the tenant offers
        self._modules: dict[str, str] | None = None  # module -> read | offered, not chosen | absent | switched off
        self.rule = EntryRule(parse_type_list(system_types), system_entries)
        self.client = InfraonClient(self.base_url, api_key=api_key, username=username, password=password, auth=auth,
                                    transport=transport, sleep=sleep, policy=policy, verify=verify_tls, timeout=timeout)
        self.client.session.on_wait = lambda seconds, why: self.tell(f"waiting {seconds:.0f} s: {why}")
        self.cache = ReadCache()
        self._routes: dict[str, str] = {}  # object -> listed | derived | absent
        self._first: dict[str, Any] = {}  # object -> the body of its first page
        self._options: dict[str, list[tuple[str, str]]] | None = None
        self._tenant_options: dict[str, Any] = {}  # the first incident detail's options, as sent
        self._schema: SourceSchema | None = None
        self._kinds: dict[str, dict[str, FieldType]] = {}  # object -> field -> type, once described
        self._tally = FindingTally()
        self._without_id: dict[str, int] = {}  # object -> items of its last whole read that came without an id
        self._reading_without_id: dict[str, int] = {}
        self._directories: dict[str, Directory] = {}
        self._filter_works: dict[str, bool] = {}
        self._asked: dict[str, set[str]] = {}  # part object -> incidents whose entries were asked for

    @classmethod
    def from_options(
        cls,
        options: Mapping[str, Any],
        secret: Callable[[str], str | None],
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        policy: RetryPolicy | None = None,
    ) -> InfraonSource:
        opts = resolve_options("Infraon Desk", cls.option_fields, options)
        return cls(
            opts["base_url"], api_key=secret("infraon_api_key"), username=opts["username"],
            password=secret("infraon_password"), auth=opts["auth"], time_zone=opts["time_zone"],
            system_entries=opts["system_entries"], system_types=opts["system_types"] or (),
            ticket_modules=opts["ticket_modules"] or (), service_requests_path=opts["service_requests_path"],
            items_per_page=opts["items_per_page"], max_pages=opts["max_pages"], endpoints=opts["endpoints"],
            verify_tls=opts["verify_tls"], timeout=float(opts["timeout"]), transport=transport, sleep=sleep, policy=policy,
        )

    def __repr__(self) -> str:
        return f"InfraonSource({self.base_url!r})"

    # -- routes -------------------------------------------------------------------

    def _route(self, name: str) -> str:
        """listed, derived (taken from the incidents) or absent; asked once, its first page kept."""
        if name in self._routes:
            return self._routes[name]
        spec = self.endpoints[name]
        label = spec["label"].lower()
        problem = None
        try:
            status, body = self.client.get_json(spec["path"], what=label,
                                                params={**spec.get("params", {}), "items_per_page": self.per_page, "page": 1})
        except SourceError as exc:
            if not spec.get("optional") or exc.code not in ("source.permission_denied", "source.malformed"):
                raise
            status, body = 0, None
            problem = "forbidden (HTTP 403)" if exc.code == "source.permission_denied" else "not a JSON list"
        if status == 404:
            problem = f"absent (HTTP 404 at {spec['path']})"
        elif problem is None and not isinstance(body, list) and not (isinstance(body, dict) and isinstance(body.get("results"), list)):
            if not spec.get("optional"):
                raise SourceError(f"Infraon Desk sent an unexpected reply shape for {label}",
                                  hint="expected {count, next, results}", code="source.malformed")
            problem = "not a list"
        if problem is None:
            self._first[name] = body
            self._routes[name] = "listed"
            return "listed"
        if not spec.get("optional"):
            raise SourceError(f"Infraon Desk has no {label} at {spec['path']}",
                              hint="set the endpoint path for this tenant", code="source.object_absent")
        route = "derived" if name in DERIVED else "absent"
        consequence = f"they are taken from {DERIVED_FROM[name]}" if route == "derived" else ABSENT.get(
            name, "nothing is migrated from it")
        self.report(Finding("source.permission_denied" if "403" in problem else "source.object_absent", Severity.INFO,
                            f"the tenant's {label} route is {problem}: {consequence}", name,
                            detail=f"set endpoints.{name}.path if the tenant lists them elsewhere"
                                   + (", or grant the API user read access" if "403" in problem else "")))
        self._routes[name] = route
        return route

    def _offered(self, name: str) -> bool:
        """Whether the tenant lists a module the operator did not choose (asked quietly: it is not read)."""
        spec = self.endpoints[name]
        try:
            status, body = self.client.get_json(spec["path"], what=spec["label"].lower(),
                                                params={"items_per_page": 1, "page": 1})
        except SourceError as exc:
            if exc.code in ("source.permission_denied", "source.malformed"):
                return False
            raise
        return status == 200 and (isinstance(body, list) or isinstance(body, dict) and isinstance(body.get("results"), list))

    def modules(self) -> dict[str, str]:
        """The ticket modules the tenant offers and which are read; said once in the audit."""
        if self._modules is None:
            found: dict[str, str] = {}
            for name in TICKET_MODULES:
                if name not in self.endpoints:
                    found[name] = "switched off"
                elif self.chosen_modules and name not in self.chosen_modules:
                    found[name] = "offered, not chosen" if self._offered(name) else "absent"
                else:
                    found[name] = "read" if self._route(name) == "listed" else "absent"
            self._modules = found
            how = "chosen with ticket_modules" if self.chosen_modules else "every module the tenant offers"
            self.report(Finding(
                "infraon.ticket_modules", Severity.INFO,
                "ticket modules: " + ", ".join(f"{self.endpoints.get(n, {}).get('label', n)} ({state})"
                                               for n, state in found.items()) + f"; read: {how}", "incidents",
                detail="choose with the source option ticket_modules (" + ", ".join(TICKET_MODULES)
                       + "); set service_requests_path if the tenant lists its requests elsewhere"))
        return self._modules

    def _spec_of(self, name: str) -> dict:
        """The object's spec as read: a derived object has the fields of what it is taken from."""
        if name not in self.endpoints:
            raise SourceError(f"Infraon Desk has no object {name!r}", code="source.unknown_object")
        if name in TICKET_MODULES and self.modules()[name] == "offered, not chosen":
            raise SourceError(f"{self.endpoints[name]['label']} are not read: not chosen with ticket_modules",
                              code="source.object_absent")
        spec = self.endpoints[name]
        route = self._route(name)
        if route == "absent":
            raise SourceError(f"this Infraon tenant does not expose {spec['label'].lower()}", code="source.object_absent")
        return {**spec, "fields": DERIVED[name]} if route == "derived" else spec

    # -- schema ---------------------------------------------------------------------

    def check(self) -> ConnectionCheck:
        try:
            style = self.client.connect()
            self._route("incidents")
            self._route("conversations")
            filtered = self._parent_filter("conversations")
            modules = self.modules()
            people = {name: self._route(name) for name in ("requesters", "technicians", "companies", "teams")
                      if name in self.endpoints}
        except SourceError as exc:
            return ConnectionCheck(False, str(exc), tuple(d for d in (exc.hint,) if d))
        count = _count(self._first.get("incidents"))
        details = [f"authentication: {style} (set auth={style} to skip probing)",
                   f"incidents: {count if count is not None else 'unknown'}",
                   "conversations: " + {True: "the ref_id filter narrows the list to one incident",
                                        False: "the ref_id filter does not work here: entries are grouped by their ref_id"
                                        }.get(filtered, "entries do not name their incident: the ref_id filter cannot be checked")]
        details.append("ticket modules: " + ", ".join(f"{name} ({state})" for name, state in modules.items()))
        details += [f"{name}: " + {"listed": "listed", "derived": f"taken from {DERIVED_FROM.get(name, 'the incidents')}",
                                   "absent": ABSENT.get(name, "absent")}[route] for name, route in people.items()]
        details.append(f"requests so far: {self.client.session.requests}")
        return ConnectionCheck(True, f"reached Infraon Desk at {self.client.session.where(self.base_url)}", tuple(details))

    def describe(self) -> SourceSchema:
        if self._schema is None:
            objects = []
            modules = self.modules()
            for name, spec in self.endpoints.items():
                if modules.get(name, "read") != "read":
                    continue
                route = self._route(name)
                if route == "absent":
                    continue
                if route == "derived":
                    objects.append(self._spec({**spec, "fields": DERIVED[name]}, name, None, [],
                                              f"taken from {DERIVED_FROM[name]} (the tenant has no {spec['label'].lower()} route)"))
                    continue
                body = self._first[name]
                objects.append(self._spec(spec, name, None if spec.get("parent") else _count(body), _results(body)))
            for name, label in LOOKUPS.items():
                objects.append(ObjectSpec(name, ObjectRole.LOOKUP, (FieldSpec("id", nullable=False), FieldSpec("name")),
                                          key="id", label=label, count=len(self.options()[name]),
                                          description="from the tenant's incident options, else the documented defaults"))
            self._schema = SourceSchema(self.platform, tuple(objects))
        return self._schema

    def _spec(self, spec: dict, name: str, count: int | None, samples: list[dict], description: str = "") -> ObjectSpec:
        role = ObjectRole(spec["role"])
        if "fields" in spec:
            key = next(iter(spec["fields"]))
            fields = tuple(
                FieldSpec(f, kind_of(f, [pick(s, paths) for s in samples]) or FieldType.STRING,
                          label=f.replace("_", " ").capitalize(), nullable=f != key,
                          references=spec.get("parent") if f == "incident_id" and spec.get("parent") else None,
                          description="JSON path: " + " | ".join(paths))
                for f, paths in spec["fields"].items()
            )
            if spec.get("parent"):
                fields += tuple(FieldSpec(f, kind, label=f.replace("_", " ").capitalize(), description=why,
                                          references={"author_technician": "technicians",
                                                      "author_requester": "requesters"}.get(f),
                                          options=("customer", "agent", "note") if f == "direction" else
                                          ("message", "note", "system") if f == "entry_kind" else ())
                                for f, (kind, why) in ENTRY_FIELDS.items())
        else:
            key = "id"
            fields = discovered_specs(samples, key)
        names = {f.name for f in fields}
        self._kinds[name] = {f.name: f.type for f in fields}  # records are read as described
        return ObjectSpec(
            name, role, fields, key=key, label=spec["label"], count=count,
            parent=spec.get("parent"), parent_field="incident_id" if spec.get("parent") else None,
            created_field=next((f for f in ("creation_time", "created_on", "created_at") if f in names), None),
            updated_field=next((f for f in ("last_update_time", "updated_on", "updated_at") if f in names), None),
            optional=bool(spec.get("optional")),
            description=description or f"GET {spec['path']}",
        )

    # -- options (lookups) --------------------------------------------------------

    def options(self) -> dict[str, list[tuple[str, str]]]:
        """Lookup lists from the first incident's detail `options`, over the documented defaults."""
        if self._options is None:
            self._options = {k: list(v) for k, v in DEFAULT_OPTIONS.items()}
            spec = self.endpoints["incidents"]
            first = _results(self._first.get("incidents")) if self._route("incidents") == "listed" else []
            if first and spec.get("detail"):
                ident = record_id(first[0], spec["fields"]["incident_id"])
                if ident:
                    self._detail(ident)
        return self._options

    def _take_options(self, raw: Any) -> None:
        if not isinstance(raw, dict):
            return
        if not self._tenant_options:
            self._tenant_options = raw
        if self._options is None:
            self._options = {k: list(v) for k, v in DEFAULT_OPTIONS.items()}
        for lookup, keys in OPTION_KEYS.items():
            for key in keys:
                entries = option_entries(raw.get(key))
                if entries:
                    self._options[lookup] = entries
                    break

    def _detail(self, incident_id: str) -> dict | None:
        path = self.endpoints["incidents"]["detail"].format(id=incident_id)
        status, body = self.client.get_json(path, what=f"incident {incident_id}")
        if status == 404:
            return None
        if not isinstance(body, dict):
            raise SourceError(f"Infraon Desk sent an unexpected reply for incident {incident_id}", code="source.malformed")
        if "options" in body:
            self._take_options(body["options"])
        incident = body.get("incident")
        return incident if isinstance(incident, dict) else body

    def _name_of(self, lookup: str, code: Any) -> str | None:
        if code in (None, ""):
            return None
        return dict(self.options()[lookup]).get(str(code))

    # -- raw items, read once per run ---------------------------------------------------

    def _list(self, name: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        spec = self.endpoints[name]
        first = None if params else self._first.get(name)
        for items, _ in self.client.pages(spec["path"], what=spec["label"].lower(), object=name, tally=self._tally,
                                          per_page=self.per_page, max_pages=self.max_pages, first=first,
                                          params={**spec.get("params", {}), **(params or {})}):
            yield from items

    def _items(self, name: str) -> Iterator[dict]:
        """An object's raw items (incidents with their detail), oldest read first, kept for the run."""
        route = self._route(name)
        spec = self.endpoints[name]
        if name == "incidents":
            read: Callable[[], Iterator[dict]] = self._incident_items
        elif route == "derived":
            read = lambda: iter(self._derive(name))  # noqa: E731
        elif spec.get("parent"):
            return self.cache.rows(f"list:{name}", lambda: self._list(name), group=lambda i: self._parent_of(name, i))
        else:
            read = lambda: self._list(name)  # noqa: E731
        return self.cache.rows(f"list:{name}", read)

    def _incident_items(self) -> Iterator[dict]:
        spec = self.endpoints["incidents"]
        details = 0
        for item in self._list("incidents"):
            if spec.get("detail") and pick(item, spec["fields"]["description"]) is None:
                ident = record_id(item, spec["fields"]["incident_id"])
                detail = self._detail(ident) if ident else None
                details += 1
                if details % 100 == 0:
                    self.tell(f"reading incident details (the list leaves descriptions out): {details} so far")
                if detail:
                    item = {**item, **detail}
            yield item

    def _derive(self, name: str) -> list[dict]:
        """Requesters, technicians or teams taken from the incidents (their route is absent)."""
        incidents = self._items("incidents")
        if name == "requesters":
            found: dict[str, dict] = {}
            for item in incidents:
                if (row := requester_of(item)) is not None:
                    found.setdefault(row["requester_id"], row)
            return list(found.values())
        self.options()
        if name == "teams":
            return teams_of(self._tenant_options)
        profiles = [p for item in incidents if (p := at(item, "current_assignment_info.assignee_profile"))]
        rows = technicians_of(self._tenant_options, profiles)
        if not rows:
            self.report(Finding("infraon.no_technicians", Severity.INFO,
                                f"no technician could be found in the incidents: {ABSENT['technicians']}", "technicians"))
        return rows

    def _parent_of(self, name: str, item: dict) -> str | None:
        value = pick(item, self.endpoints[name]["fields"]["incident_id"])
        return str(value) if value not in (None, "") else None

    # -- records --------------------------------------------------------------------

    def _record(self, name: str, spec: dict, item: dict, parent: str | None = None) -> Record | None:
        if "fields" in spec:
            key_field = next(iter(spec["fields"]))
            raw = {f: pick(item, paths) for f, paths in spec["fields"].items()}
        else:
            key_field = "id"
            raw = flatten(item)
            raw["id"] = record_id(item, spec.get("id", ["id"]))
        key = raw.get(key_field)
        if key in (None, ""):  # counted once, however often a read meets it (named by its content)
            self._tally.add("infraon.record_without_id", Severity.WARNING,
                            f"{name}: an item came without an id and was rejected", object=name,
                            key=stand_in_key("no-id", item), once=True)
            if parent is None:  # counted in as skipped, so what the tenant announced adds up
                self._reading_without_id[name] = self._reading_without_id.get(name, 0) + 1
            return None
        key = str(key)
        if parent is not None and raw.get("incident_id") not in (None, "") and str(raw["incident_id"]) != parent:
            self._tally.add("infraon.stray_entry", Severity.WARNING,
                            f"{name}: entries listed for one incident belong to another; each was left out there",
                            object=name, key=key, once=True,
                            detail=f"the tenant ignored the {spec.get('parent_param', 'ref_id')} filter for these; "
                                   "every entry is still read under its own incident")
            return None
        data: dict[str, Any] = {}
        notes: list[ValueNote] = []
        for field, value in raw.items():
            noted: list[tuple[str, str]] = []
            try:
                data[field] = convert(field, value, self.zone, self._kinds.get(name, {}).get(field), noted)
                notes += value_notes(field, noted)
            except ValueError:
                data[field] = None
                self._tally.add("infraon.value_unreadable", Severity.WARNING,
                                f"{name}.{field}: value could not be read and was left empty", object=name, key=key,
                                once=True)
        data[key_field] = key
        for code_field, lookup in CODED.items():
            if code_field in data and not data.get(f"{code_field}_name"):
                data[f"{code_field}_name"] = self._name_of(lookup, data[code_field])
        if spec.get("parent"):
            data["incident_id"] = parent if parent is not None else data.get("incident_id")
            if not self._entry(name, spec, item, key, data):
                return None
        updated = data.get("last_update_time") or data.get("updated_on") or data.get("creation_time") or data.get("created_on")
        return Record(name, key, data, parent_key=data.get("incident_id") if spec.get("parent") else None,
                      updated_at=updated if isinstance(updated, datetime) else None, notes=tuple(notes))

    def _entry(self, name: str, spec: dict, item: dict, key: str, data: dict[str, Any]) -> bool:
        """Who wrote an entry and what it is; False when the system-entry rule leaves it out."""
        fields = spec["fields"]
        who = author_of(item, fields.get("author_name", []), fields.get("author_email", []))
        kind = describe(data, who, self._directory("technicians"), self._directory("requesters"), self.rule,
                        listed_as_note=name == "notes")
        if kind == "system":
            skip = self.rule.system_entries == "skip"
            self._tally.add("infraon.system_entries", Severity.INFO,
                            f"{name}: '{data.get('type')}' entries only record a change; they are "
                            + ("left out" if skip else "kept as internal notes") +
                            f" by the rule system_entries={self.rule.system_entries}",
                            object=name, key=key, once=True,
                            detail="choose with the source option system_entries (note or skip); the entry types "
                                   "taken as changes are the option system_types")
            return not skip
        if not has_text(data.get("content")):
            files = bool(data.get("attachments"))
            self._tally.add("infraon.entry_files_only" if files else "infraon.entry_empty",
                            Severity.INFO if files else Severity.WARNING,
                            f"{name}: entries with no text but files; they load as parts that carry the files"
                            if files else f"{name}: entries with neither text nor files", object=name, key=key, once=True)
        if not who.known:
            self._tally.add("infraon.entry_without_author", Severity.WARNING,
                            f"{name}: entries that name no writer; they are posted from the requester's side",
                            object=name, key=key, once=True,
                            detail="set endpoints.conversations.fields.author_email to where the tenant names the writer")
        return True

    def _directory(self, name: str) -> Directory:
        """Technicians or requesters by key and email, to tell who wrote an entry."""
        if name not in self._directories:
            side = "technician" if name == "technicians" else "requester"
            directory = Directory(side)
            if name in self.endpoints and self._route(name) != "absent":
                spec = self._spec_of(name)
                for item in self._items(name):
                    if (record := self._record(name, spec, item)) is not None:
                        directory.add(record.key, record.data.get("email") or record.data.get("email_id"))
            self._directories[name] = directory
        return self._directories[name]

    def _records(self, name: str) -> Iterator[Record]:
        if name in LOOKUPS:
            for ident, label in self.options()[name]:
                yield Record(name, ident, {"id": ident, "name": label})
            return
        spec = self._spec_of(name)
        if spec.get("parent"):
            yield from self._entry_records(name, spec)
            return
        self._reading_without_id[name] = 0
        for item in self._items(name):
            record = self._record(name, spec, item)
            if record is not None:
                yield record
        self._without_id[name] = self._reading_without_id[name]

    def _entry_records(self, name: str, spec: dict) -> Iterator[Record]:
        incidents = self.endpoints["incidents"]["fields"]["incident_id"]
        if self._names_parent(name):
            for item in self._items(name):
                record = self._record(name, spec, item)
                if record is not None:
                    yield record
            return
        for incident in self._items("incidents"):
            parent = record_id(incident, incidents)
            for item in self._entries_of(name, parent) if parent else ():
                record = self._record(name, spec, item, parent)
                if record is not None:
                    yield record

    # -- entries per incident -------------------------------------------------------------

    def _names_parent(self, name: str) -> bool:
        """Whether the whole list can be grouped by incident: it lists entries, and they name their incident.
        (A tenant may list nothing without `ref_id`: then each incident's entries are asked for.)"""
        return any(self._parent_of(name, item) for item in _results(self._first.get(name)))

    def _parent_filter(self, name: str) -> bool | None:
        """Whether `ref_id` narrows the list to one incident (asked once); None when it cannot be told."""
        if name in self._filter_works:
            return self._filter_works[name]
        spec = self.endpoints[name]
        param = spec.get("parent_param", "ref_id")
        sample = next(((p, str(item.get("id"))) for item in _results(self._first.get(name))
                       if (p := self._parent_of(name, item))), None)
        if sample is None:
            if _results(self._first.get(name)):
                self.report(Finding("infraon.entries_without_incident", Severity.WARNING,
                                    f"{spec['label'].lower()} do not say which incident they belong to: helpmig relies on "
                                    f"the {param} filter and cannot check it", name,
                                    detail="compare a few threads in Infraon with the sample run"))
            return None
        parent, entry = sample
        status, body = self.client.get_json(spec["path"], what=f"{param} filter probe",
                                            params={param: parent, "items_per_page": self.per_page, "page": 1})
        rows = _results(body) if status == 200 else []
        others = [r for r in rows if self._parent_of(name, r) not in (None, parent)]
        works = bool(rows) and not others and (entry in {str(r.get("id")) for r in rows} or len(rows) >= self.per_page)
        if not works:
            seen = (f"answered {len(others)} entries of other incidents" if others else
                    "answered nothing for an incident that has entries" if not rows else "left out an entry it holds")
            self.report(Finding("infraon.parent_filter_ignored", Severity.INFO,
                                f"the {spec['label'].lower()} list {seen} when asked for {param}={parent}: entries are "
                                f"read from the whole list and grouped by their {param}", name,
                                detail="one read of the whole list instead of one per incident; nothing is lost"))
        self._filter_works[name] = works
        return works

    def _whole_is_cheaper(self, name: str) -> bool:
        count = _count(self._first.get(name))
        pages = math.ceil(count / self.per_page) if count is not None else None
        return pages is not None and pages <= len(self._asked.get(name, ()))

    def _entries_of(self, name: str, parent: str) -> list[dict]:
        """One incident's entries: from the whole list when it is kept, cheaper, or the only way; else asked for."""
        key = f"list:{name}"
        if not self.cache.has(key) and self._names_parent(name) and (
                self._whole_is_cheaper(name) or self._parent_filter(name) is False):
            self.cache.fill(key, lambda: self._list(name), group=lambda i: self._parent_of(name, i))
        if self.cache.has(key):
            return self.cache.group(key, parent)
        param = self.endpoints[name].get("parent_param", "ref_id")
        return list(self.cache.rows(f"{name}:{parent}", lambda: self._list(name, {param: parent})))

    # -- the Source interface -------------------------------------------------------------

    def iter_records(self, object: str, since: datetime | None = None, batch_size: int = 500) -> Iterator[list[Record]]:
        session = self.client.session
        throttled, waited = session.throttled, session.waited
        if since is not None:  # a delta wants the source as it is now
            self.cache.forget(f"list:{object}")

        def selected() -> Iterator[Record]:
            for record in self._records(object):
                if since is None or record.updated_at is None or record.updated_at >= since:
                    yield record

        finished = False
        try:
            yield from batched(selected(), batch_size)
            finished = True
        finally:
            announced = _count(self._first.get(object)) if object in self._first else None
            kept = self.cache.size(f"list:{object}")
            if finished and announced is not None and kept is not None and kept != announced \
                    and not self.endpoints.get(object, {}).get("parent"):
                self._tally.add("infraon.count_mismatch", Severity.WARNING,
                                f"{object}: the server announced {announced} records, {kept} were listed",
                                object=object, count=abs(announced - kept), key="count", once=True,
                                detail="records may have been added or removed meanwhile; compare before the load")
            if session.throttled - throttled:
                self._tally.add("source.rate_limited", Severity.INFO,
                                f"Infraon Desk asked to slow down while reading {object}; waited "
                                f"{session.waited - waited:.0f} s in all", object=object, count=session.throttled - throttled)
            self._tally.flush(self.report)

    def skipped(self, object: str, batch_size: int = 500) -> Iterator[tuple[str, list[Skipped]]]:
        """Items the read left out because they came without an id (after the object was read)."""
        dropped = self._without_id.get(object, 0)
        if dropped:
            yield "without_id", [Skipped(f"(no id, item {n})") for n in range(1, dropped + 1)]

    def children(self, object: str, parent_keys: Sequence[str]) -> dict[str, list[Record]]:
        spec = self._spec_of(object)
        if not spec.get("parent"):
            return super().children(object, parent_keys)
        self._asked.setdefault(object, set()).update(parent_keys)
        try:
            return {key: [r for item in self._entries_of(object, key) if (r := self._record(object, spec, item, key))]
                    for key in parent_keys}
        finally:
            self._tally.flush(self.report)

    def get(self, object: str, keys: Sequence[str]) -> list[Record]:
        """Records by key, the same as the read gives them: an incident from this run's list
        (with its detail where the list leaves the description out), else from its detail
        alone (one created since the list was read)."""
        if object != "incidents":
            return super().get(object, keys)
        spec = self.endpoints["incidents"]
        wanted = set(keys)
        found = [record for record in self._records("incidents") if record.key in wanted]
        try:
            for key in wanted - {record.key for record in found}:
                detail = self._detail(key)
                if detail is not None:
                    record = self._record("incidents", spec, {"incident_id": key, **detail})
                    if record is not None:
                        found.append(record)
        finally:
            self._tally.flush(self.report)
        return found

    def attachments(self, object: str, record: Record) -> list[AttachmentRef]:
        files = record.data.get("attachments") or []
        refs = []
        for entry in files if isinstance(files, list) else []:
            if not isinstance(entry, dict):
                continue
            name = str(entry.get("file_name") or entry.get("name") or "attachment")
            url = entry.get("file_url") or entry.get("url") or entry.get("file_path") or entry.get("path")
            size = entry.get("size") if isinstance(entry.get("size"), int) else None
            content_type = entry.get("content_type") or mimetypes.guess_type(name)[0] or "application/octet-stream"
            refs.append(AttachmentRef(name=name, size=size, content_type=content_type, record_key=record.key,
                                      opener=self._opener(str(url)) if url else None,
                                      location=self.client.session.where(str(url or ""))))
        return refs

    def _opener(self, url: str) -> Callable[[], io.BytesIO]:
        parts = urlsplit(url)
        same_origin = not parts.netloc or parts.netloc == urlsplit(self.base_url).netloc

        def open_() -> io.BytesIO:
            if same_origin:
                self.client.connect()
            return io.BytesIO(self.client.session.download(url, what=f"attachment {parts.path.rsplit('/', 1)[-1]}", auth=same_origin))

        return open_

    def request_usage(self) -> RequestUsage:
        """Requests so far; once the schema is known, about how many the reads still need."""
        session = self.client.session
        planned = None
        if self._schema is not None:
            remaining = 0
            for name, route in self._routes.items():
                if route != "listed" or self.cache.has(f"list:{name}"):
                    continue
                count = _count(self._first.get(name))
                remaining += max(0, math.ceil(count / self.per_page) - 1) if count is not None else 1
                first = _results(self._first.get(name))
                if name == "incidents" and first and pick(first[0], self.endpoints[name]["fields"]["description"]) is None:
                    remaining += count or 0  # one detail per incident for its description
                if self.endpoints[name].get("parent") and not self._names_parent(name):
                    remaining += _count(self._first.get("incidents")) or 0
            planned = session.requests + remaining
        return RequestUsage("Infraon Desk", session.requests, planned, session.throttled, session.waited)

    def close(self) -> None:
        self.client.close()
        self.cache.close()
