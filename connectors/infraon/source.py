"""Infraon Desk as a Source: incidents with conversations and notes, people, companies, KB, ITIL records.

Incidents keep both ids: `incident_id` (internal, the record key, what the detail and
conversation routes take) and `display_id` (what people see). Priority, urgency and
impact codes are named from the tenant's own `options` (read from an incident detail),
falling back to the documented defaults.
"""

from __future__ import annotations

import io
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
    Severity,
    Source,
    SourceError,
    SourceSchema,
)
from connectors.finding_tally import FindingTally, batched
from connectors.http_session import HttpStatusError, RetryPolicy
from connectors.infraon.client import AUTH_STYLES, InfraonClient, record_id
from connectors.infraon.endpoints import TYPES, merge_endpoints
from connectors.infraon.values import (
    DEFAULT_OPTIONS,
    OPTION_KEYS,
    convert,
    discovered_specs,
    flatten,
    is_date_name,
    option_entries,
    pick,
)
from connectors.local_time import zone
from connectors.option_fields import OptionField, OptionKind, resolve_options

LOOKUPS = {"statuses": "Statuses", "priorities": "Priorities", "urgencies": "Urgencies", "impacts": "Impacts",
           "severities": "Severities"}
CODED = {"priority": "priorities", "urgency": "urgencies", "impact": "impacts", "status": "statuses"}
SAMPLE = 20  # items read per object by describe(): the count and the fields


class InfraonSource(Source):
    platform: ClassVar[str] = "infraon"
    capabilities: ClassVar[Capability] = (
        Capability.ATTACHMENTS | Capability.DELTA_UPDATED_AT | Capability.EXACT_COUNTS
    )
    option_fields: ClassVar[tuple[OptionField, ...]] = (
        OptionField("base_url", "Base URL", OptionKind.URL, required=True, help="your Infraon address, e.g. https://acme.infraon.app"),
        OptionField("auth", "Authentication", OptionKind.CHOICE, default="auto", choices=AUTH_STYLES,
                    help="auto tries the API key (raw, then ApiKey <key>), then a token from username and password"),
        OptionField("username", "Username", help="for token authentication"),
        OptionField("infraon_api_key", "API key", OptionKind.SECRET, help="sent in the Authorization header"),
        OptionField("infraon_password", "Password", OptionKind.SECRET, help="for token authentication"),
        OptionField("time_zone", "Time zone of naive dates", OptionKind.TIME_ZONE, default="UTC"),
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
        self.client = InfraonClient(self.base_url, api_key=api_key, username=username, password=password, auth=auth,
                                    transport=transport, sleep=sleep, policy=policy, verify=verify_tls, timeout=timeout)
        self._probes: dict[str, tuple[int | None, list[dict]] | None] = {}
        self._options: dict[str, list[tuple[str, str]]] | None = None
        self._schema: SourceSchema | None = None
        self._tally = FindingTally()
        self._listed: dict[str, int] = {}  # items listed per object in the current read (for the count check)

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
            items_per_page=opts["items_per_page"], max_pages=opts["max_pages"], endpoints=opts["endpoints"],
            verify_tls=opts["verify_tls"], timeout=float(opts["timeout"]), transport=transport, sleep=sleep, policy=policy,
        )

    def __repr__(self) -> str:
        return f"InfraonSource({self.base_url!r})"

    # -- probing and schema -------------------------------------------------------

    def _probe(self, name: str) -> tuple[int | None, list[dict]] | None:
        """(count, first items) of a listed object, or None when the tenant does not expose it."""
        if name in self._probes:
            return self._probes[name]
        spec = self.endpoints[name]
        result: tuple[int | None, list[dict]] | None
        try:
            status, body = self.client.get_json(spec["path"], what=spec["label"].lower(),
                                                params={**spec.get("params", {}), "items_per_page": SAMPLE, "page": 1})
        except HttpStatusError as exc:
            if exc.code != "source.permission_denied" or not spec.get("optional"):
                raise
            self.report(Finding("source.permission_denied", Severity.WARNING,
                                f"no permission to read {spec['label'].lower()}; they will not be migrated", name,
                                detail="grant the API user read access to this module"))
            result = None
        else:
            if status == 404:
                if not spec.get("optional"):
                    raise SourceError(f"Infraon Desk has no {spec['label'].lower()} at {spec['path']}",
                                      hint="set the endpoint path for this tenant", code="source.object_absent")
                self.report(Finding("source.object_absent", Severity.INFO,
                                    f"the tenant does not expose {spec['label'].lower()} ({spec['path']})", name,
                                    detail="set endpoints.<object>.path if the tenant has it elsewhere"))
                result = None
            elif isinstance(body, dict) and isinstance(body.get("results"), list):
                result = (body.get("count") if isinstance(body.get("count"), int) else None,
                          [i for i in body["results"] if isinstance(i, dict)])
            elif isinstance(body, list):
                result = (None, [i for i in body if isinstance(i, dict)])
            else:
                raise SourceError(f"Infraon Desk sent an unexpected reply shape for {spec['label'].lower()}",
                                  code="source.malformed")
        self._probes[name] = result
        return result

    def check(self) -> ConnectionCheck:
        try:
            style = self.client.connect()
            probe = self._probe("incidents")
        except SourceError as exc:
            return ConnectionCheck(False, str(exc), tuple(d for d in (exc.hint,) if d))
        count = probe[0] if probe else None
        return ConnectionCheck(
            True,
            f"reached Infraon Desk at {self.client.session.where(self.base_url)}",
            (f"authentication: {style} (set auth={style} to skip probing)", f"incidents: {count if count is not None else 'unknown'}"),
        )

    def describe(self) -> SourceSchema:
        if self._schema is None:
            objects = []
            for name, spec in self.endpoints.items():
                if spec.get("parent"):
                    if spec.get("optional") and not self._part_available(name):
                        continue
                    objects.append(self._spec(name, spec, None, []))
                    continue
                probe = self._probe(name)
                if probe is None:
                    continue
                objects.append(self._spec(name, spec, probe[0], probe[1]))
            for name, label in LOOKUPS.items():
                objects.append(ObjectSpec(name, ObjectRole.LOOKUP, (FieldSpec("id", nullable=False), FieldSpec("name")),
                                          key="id", label=label, count=len(self.options()[name]),
                                          description="from the tenant's incident options, else the documented defaults"))
            self._schema = SourceSchema(self.platform, tuple(objects))
        return self._schema

    def _part_available(self, name: str) -> bool:
        if name in self._probes:
            return self._probes[name] is not None
        spec = self.endpoints[name]
        try:
            status, _ = self.client.get_json(spec["path"], what=spec["label"].lower(), params={"items_per_page": 1, "page": 1})
        except HttpStatusError as exc:
            if exc.code != "source.permission_denied":
                raise
            status = 403
        present = status not in (403, 404)
        if not present:
            self.report(Finding("source.object_absent" if status == 404 else "source.permission_denied",
                                Severity.INFO if status == 404 else Severity.WARNING,
                                f"the tenant does not expose {spec['label'].lower()} ({spec['path']}, HTTP {status})", name))
        self._probes[name] = (None, []) if present else None
        return present

    def _spec(self, name: str, spec: dict, count: int | None, samples: list[dict]) -> ObjectSpec:
        role = ObjectRole(spec["role"])
        if "fields" in spec:
            key = next(iter(spec["fields"]))
            fields = tuple(
                FieldSpec(f, TYPES.get(f, FieldType.DATETIME if is_date_name(f) else FieldType.STRING),
                          label=f.replace("_", " ").capitalize(), nullable=f != key,
                          references=spec.get("parent") if f == "incident_id" and spec.get("parent") else None,
                          description="JSON path: " + " | ".join(paths))
                for f, paths in spec["fields"].items()
            )
        else:
            key = "id"
            fields = discovered_specs(samples, key)
        names = {f.name for f in fields}
        return ObjectSpec(
            name, role, fields, key=key, label=spec["label"], count=count,
            parent=spec.get("parent"), parent_field="incident_id" if spec.get("parent") else None,
            created_field=next((f for f in ("creation_time", "created_on", "created_at") if f in names), None),
            updated_field=next((f for f in ("last_update_time", "updated_on", "updated_at") if f in names), None),
            optional=bool(spec.get("optional")),
            description=f"GET {spec['path']}",
        )

    # -- options (lookups) --------------------------------------------------------

    def options(self) -> dict[str, list[tuple[str, str]]]:
        """Lookup lists from the first incident's detail `options`, over the documented defaults."""
        if self._options is None:
            self._options = {k: list(v) for k, v in DEFAULT_OPTIONS.items()}
            probe = self._probe("incidents")
            spec = self.endpoints["incidents"]
            if probe and probe[1] and spec.get("detail"):
                first = record_id(probe[1][0], spec["fields"]["incident_id"])
                if first:
                    self._detail(first)
        return self._options

    def _take_options(self, raw: Any) -> None:
        if not isinstance(raw, dict):
            return
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

    # -- reading ------------------------------------------------------------------

    def _spec_of(self, name: str) -> dict:
        if name not in self.endpoints:
            raise SourceError(f"Infraon Desk has no object {name!r}", code="source.unknown_object")
        spec = self.endpoints[name]
        if spec.get("optional"):
            present = self._part_available(name) if spec.get("parent") else self._probe(name) is not None
        else:
            present = True
        if not present:
            raise SourceError(f"this Infraon tenant does not expose {spec['label'].lower()}", code="source.object_absent")
        return spec

    def _list(self, name: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        spec = self.endpoints[name]
        for items, _ in self.client.pages(spec["path"], what=spec["label"].lower(), object=name, tally=self._tally,
                                          per_page=self.per_page, max_pages=self.max_pages,
                                          params={**spec.get("params", {}), **(params or {})}):
            self._listed[name] = self._listed.get(name, 0) + len(items)
            yield from items

    def _record(self, name: str, spec: dict, item: dict, parent: str | None = None) -> Record | None:
        if "fields" in spec:
            key_field = next(iter(spec["fields"]))
            raw = {f: pick(item, paths) for f, paths in spec["fields"].items()}
        else:
            key_field = "id"
            raw = flatten(item)
            raw["id"] = record_id(item, spec.get("id", ["id"]))
        key = raw.get(key_field)
        if key in (None, ""):
            self._tally.add("infraon.record_without_id", Severity.WARNING,
                            f"{name}: an item came without an id and was rejected", object=name)
            return None
        key = str(key)
        data: dict[str, Any] = {}
        for field, value in raw.items():
            try:
                data[field] = convert(field, value, self.zone)
            except ValueError:
                data[field] = None
                self._tally.add("infraon.value_unreadable", Severity.WARNING,
                                f"{name}.{field}: value could not be read and was left empty", object=name, key=key)
        data[key_field] = key
        for code_field, lookup in CODED.items():
            if code_field in data and not data.get(f"{code_field}_name"):
                data[f"{code_field}_name"] = self._name_of(lookup, data[code_field])
        if parent is not None:
            if data.get("incident_id") not in (None, "", parent):
                raise SourceError(f"Infraon Desk ignored the {spec.get('parent_param')} filter for {name}: "
                                  f"incident {parent} got an item of incident {data['incident_id']}",
                                  hint="set endpoints.<object>.parent_param for this tenant", code="source.filter_ignored")
            data["incident_id"] = parent
        updated = data.get("last_update_time") or data.get("updated_on") or data.get("creation_time") or data.get("created_on")
        return Record(name, key, data, parent_key=parent, updated_at=updated if isinstance(updated, datetime) else None)

    def _incidents(self) -> Iterator[Record]:
        spec = self.endpoints["incidents"]
        for item in self._list("incidents"):
            if spec.get("detail") and pick(item, spec["fields"]["description"]) is None:
                ident = record_id(item, spec["fields"]["incident_id"])
                detail = self._detail(ident) if ident else None
                if detail:
                    item = {**item, **detail}
            record = self._record("incidents", spec, item)
            if record is not None:
                yield record

    def _parts(self, name: str, parent_key: str) -> Iterator[Record]:
        spec = self.endpoints[name]
        for item in self._list(name, {spec.get("parent_param", "ref_id"): parent_key}):
            record = self._record(name, spec, item, parent_key)
            if record is not None:
                yield record

    def _records(self, name: str) -> Iterator[Record]:
        spec = self._spec_of(name) if name not in LOOKUPS else None
        if spec is None:
            for ident, label in self.options()[name]:
                yield Record(name, ident, {"id": ident, "name": label})
        elif name == "incidents":
            yield from self._incidents()
        elif spec.get("parent"):
            for item in self._list(spec["parent"]):
                parent = record_id(item, self.endpoints["incidents"]["fields"]["incident_id"])
                if parent:
                    yield from self._parts(name, parent)
        else:
            for item in self._list(name):
                record = self._record(name, spec, item)
                if record is not None:
                    yield record

    def iter_records(self, object: str, since: datetime | None = None, batch_size: int = 500) -> Iterator[list[Record]]:
        session = self.client.session
        throttled, waited = session.throttled, session.waited
        listed = object in self.endpoints and not self.endpoints[object].get("parent")
        probe = self._probe(object) if listed else None
        announced = probe[0] if probe else None
        self._listed[object] = 0

        def selected() -> Iterator[Record]:
            for record in self._records(object):
                if since is None or record.updated_at is None or record.updated_at >= since:
                    yield record

        finished = False
        try:
            yield from batched(selected(), batch_size)
            finished = True
        finally:
            listed = self._listed.get(object, 0)
            if finished and announced is not None and listed != announced:
                self._tally.add("infraon.count_mismatch", Severity.WARNING,
                                f"{object}: the server announced {announced} records, {listed} were listed",
                                object=object, count=abs(announced - listed),
                                detail="records may have been added or removed meanwhile; compare before the load")
            if session.throttled - throttled:
                self._tally.add("source.rate_limited", Severity.INFO,
                                f"Infraon Desk asked to slow down while reading {object}; waited "
                                f"{session.waited - waited:.0f} s in all", object=object, count=session.throttled - throttled)
            self._tally.flush(self.report)

    def children(self, object: str, parent_keys: Sequence[str]) -> dict[str, list[Record]]:
        spec = self._spec_of(object)
        if not spec.get("parent"):
            return super().children(object, parent_keys)
        try:
            return {key: list(self._parts(object, key)) for key in parent_keys}
        finally:
            self._tally.flush(self.report)

    def get(self, object: str, keys: Sequence[str]) -> list[Record]:
        if object != "incidents":
            return super().get(object, keys)
        spec = self.endpoints["incidents"]
        found = []
        try:
            for key in keys:
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

    def close(self) -> None:
        self.client.close()
