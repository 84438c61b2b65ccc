"""ITSM 365 as a Source: service calls, comments, employees, companies, teams, SLA, ITIL records, KB.

Reads everything through `find` in date windows (windows.py), with the class and
attribute codes of the tenant's layout (layout.py). Incidents and service requests
are both `serviceCall`, told apart by type (`metaClass`); comments are read per
service call (`{"source": UUID}`), so each part knows its conversation.
"""

from __future__ import annotations

import io
import mimetypes
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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
    Severity,
    Source,
    SourceError,
    SourceSchema,
)
from connectors.finding_tally import FindingTally, batched
from connectors.http_session import HttpStatusError, RetryPolicy
from connectors.itsm365.client import NaumenClient
from connectors.itsm365.fields import check_date_format, convert, naumen_local, specs_for
from connectors.itsm365.layout import merge_layout
from connectors.itsm365.windows import CEILING, FLOOR, Window, plan, read_windows
from connectors.local_time import from_utc, zone
from connectors.option_fields import OptionField, OptionKind, resolve_options

INLINE_FILE = re.compile(r"""(?:\.?/)?download\?uuid=(file(?:\$|%24)\d+)""")
HTML_FIELDS = ("description_html", "text")


@dataclass(frozen=True)
class _Object:
    name: str
    role: ObjectRole
    cls: str | None  # layout class entry (None: built from the layout itself)
    label: str
    select: str = "all"  # incidents | requests | technicians | parts | states | all
    parent: str | None = None
    description: str = ""


OBJECTS: tuple[_Object, ...] = (
    _Object("incidents", ObjectRole.CONVERSATION, "service_calls", "Incidents", "incidents",
            description="serviceCall of the layout's incident_types"),
    _Object("service_requests", ObjectRole.CONVERSATION, "service_calls", "Service requests", "requests",
            description="every other serviceCall type"),
    _Object("incident_comments", ObjectRole.PART, "comments", "Incident comments", "parts", parent="incidents"),
    _Object("request_comments", ObjectRole.PART, "comments", "Service request comments", "parts", parent="service_requests"),
    _Object("employees", ObjectRole.CONTACT, "employees", "Employees (requesters)"),
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
        OptionField("start_date", "Read from", default="2010-01-01", advanced=True,
                    help="first day of the date windows; older records are still read by a catch-all window"),
        OptionField("window_days", "Window (days)", OptionKind.INTEGER, default=30, advanced=True),
        OptionField("split_at", "Split windows at", OptionKind.INTEGER, default=500, advanced=True,
                    help="a window returning this many records (or a round number) is split in halves"),
        OptionField("layout", "Class and attribute codes", OptionKind.JSON, advanced=True,
                    help="overrides of the default layout: incident_types, state_titles, classes.<name>.fqn/attrs"),
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
        start_date: date = date(2010, 1, 1),
        window_days: int = 30,
        split_at: int = 500,
        layout: Mapping[str, Any] | None = None,
        filter_style: str = "base64",
        verify_tls: bool = True,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        policy: RetryPolicy | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.zone = zone(time_zone)
        self.start = datetime.combine(start_date, datetime.min.time())
        self.window_days = max(1, int(window_days))
        self.split_at = max(2, int(split_at))
        self.layout = merge_layout(layout)
        self.client = NaumenClient(
            self.base_url, access_key, transport=transport, sleep=sleep, policy=policy,
            verify=verify_tls, timeout=timeout, filter_style=filter_style,
        )
        self._now = now or (lambda: datetime.now(UTC))
        self._available: dict[str, bool] = {}
        self._titles: dict[str, dict[str, str]] = {}
        self._schema: SourceSchema | None = None
        self._tally = FindingTally()  # flushed into findings at the end of every read

    @classmethod
    def from_options(
        cls,
        options: Mapping[str, Any],
        secret: Callable[[str], str | None],
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        policy: RetryPolicy | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> Itsm365Source:
        opts = resolve_options("ITSM 365", cls.option_fields, options)
        base_url = opts["base_url"] or (f"https://{opts['tenant']}.itsm365.com/sd" if opts["tenant"] else "")
        if not base_url:
            raise SourceError("ITSM 365: give the tenant name or the base URL", code="source.bad_options")
        try:
            start = date.fromisoformat(str(opts["start_date"]))
        except ValueError:
            raise SourceError("ITSM 365: start_date must be YYYY-MM-DD", code="source.bad_options") from None
        return cls(
            base_url,
            secret("itsm365_access_key") or "",
            time_zone=opts["time_zone"],
            start_date=start,
            window_days=opts["window_days"],
            split_at=opts["split_at"],
            layout=opts["layout"],
            filter_style=opts["filter_style"],
            verify_tls=opts["verify_tls"],
            timeout=float(opts["timeout"]),
            transport=transport,
            sleep=sleep,
            policy=policy,
            now=now,
        )

    def __repr__(self) -> str:
        return f"Itsm365Source({self.base_url!r})"

    # -- layout helpers -----------------------------------------------------------

    def _cls(self, name: str) -> dict[str, Any]:
        return self.layout["classes"][name]

    def _attr_codes(self, cls: dict[str, Any], *more: str | None) -> list[str]:
        codes = [code for code in cls["attrs"].values() if code]
        for code in (cls.get("date_attr"), cls.get("updated_attr"), *more):
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

    # -- probing ------------------------------------------------------------------

    def available(self, cls_name: str) -> bool:
        """Whether the tenant has a class (optional ones are probed once)."""
        if cls_name in self._available:
            return self._available[cls_name]
        cls = self._cls(cls_name)
        if not cls.get("optional"):
            self._available[cls_name] = True
            return True
        try:
            self._find(cls["fqn"], cls, Window(FLOOR, FLOOR), {}, f"probe of {cls['fqn']}", [cls["attrs"]["uuid"]])
            present = True
        except HttpStatusError as exc:
            if exc.code == "source.auth_rejected":
                raise
            present = False
            if exc.code == "source.permission_denied":
                self.report_problem("source.permission_denied", Severity.WARNING,
                                    f"no permission to read {cls['fqn']}; it will not be migrated", cls_name,
                                    "grant the REST employee read access to this class")
            else:
                self.report_problem("source.object_absent", Severity.INFO,
                                    f"the tenant has no class {cls['fqn']} (HTTP {exc.status})", cls_name,
                                    "set its fqn in the layout if the tenant names it differently")
        self._available[cls_name] = present
        return present

    def report_problem(self, code: str, severity: Severity, message: str, obj: str | None, detail: str = "") -> None:
        self.report(Finding(code=code, severity=severity, message=message, object=obj, detail=detail))

    # -- connection test and schema -----------------------------------------------

    def check(self) -> ConnectionCheck:
        try:
            status = self.client.check_status()
            emp = self._cls("employees")
            self._find(emp["fqn"], emp, Window(FLOOR, FLOOR), {}, "access key check", [emp["attrs"]["uuid"]])
            present = [name for name, spec in self.layout["classes"].items() if spec.get("optional") and self.available(name)]
            absent = [name for name, spec in self.layout["classes"].items() if spec.get("optional") and not self.available(name)]
        except SourceError as exc:
            return ConnectionCheck(False, str(exc), tuple(d for d in (exc.hint,) if d))
        details = [f"check-status: {status or 'ok'}", "access key accepted"]
        if present:
            details.append("optional classes found: " + ", ".join(present))
        if absent:
            details.append("optional classes missing: " + ", ".join(absent))
        return ConnectionCheck(True, f"reached ITSM 365 at {self.client.session.where(self.base_url)}", tuple(details))

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
            extra = (FieldSpec("service_call", FieldType.STRING, label="Service call", references=obj.parent, nullable=False),)
        attrs = cls["attrs"]
        return ObjectSpec(
            obj.name,
            obj.role,
            specs_for(attrs, extra),
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

    def _filter(self, cls: dict[str, Any], window: Window, extra: Mapping[str, Any], attr: str | None = None) -> dict[str, Any]:
        clause = self.layout["date_filter"].format(start=naumen_local(window.start), end=naumen_local(window.end))
        return {**extra, (attr or cls["date_attr"]): clause}

    def _find(self, fqn: str, cls: dict[str, Any], window: Window, extra: Mapping[str, Any], what: str,
              attrs: Sequence[str], attr: str | None = None) -> list[dict]:
        return self.client.find(fqn, self._filter(cls, window, extra, attr), attrs, what=what)

    def _windowed(self, obj: _Object, fqns: Sequence[str], *, extra: Mapping[str, Any] | None = None,
                  windows: Iterator[Window] | None = None, since: datetime | None = None) -> Iterator[dict]:
        """Raw Naumen objects of `fqns`, window by window, oldest first."""
        cls = self._cls(obj.cls)  # type: ignore[arg-type]
        window_attr = cls["updated_attr"] if since is not None and cls.get("updated_attr") else cls["date_attr"]
        attrs = self._attr_codes(cls, cls.get("source_attr") if obj.select == "parts" else None,
                                 cls.get("license_attr") if obj.select == "technicians" else None)
        if windows is None:
            end = from_utc(self._now(), self.zone).replace(microsecond=0) + timedelta(days=1)
            if since is not None:
                windows = plan(from_utc(since, self.zone).replace(microsecond=0), end, self.window_days, outer=False)
                windows = _and_after(windows, end)
            else:
                windows = plan(self.start, end, self.window_days)
        what = f"{obj.name} ({', '.join(fqns)})"

        def fetch(window: Window) -> list[list[dict]]:
            return [self._find(fqn, cls, window, extra or {}, what, attrs, window_attr) for fqn in fqns]

        def date_of(row: dict) -> datetime | None:
            value = check_date_format(row.get(window_attr), self.zone, what)
            return from_utc(value, self.zone) if value is not None else None

        def unsplittable(window: Window, count: int) -> None:
            self._tally.add(
                "itsm365.window_not_splittable", Severity.WARNING,
                f"{count} {obj.name} share one second ({window}); a server cap at {count} would hide more",
                object=obj.name, count=count,
                detail="raise split_at above the server's cap, or check these records in ITSM 365",
            )

        for rows in read_windows(windows, fetch, date_of, split_at=self.split_at, on_unsplittable=unsplittable, what=what):
            yield from rows

    def _records(self, obj: _Object, since: datetime | None) -> Iterator[Record]:
        if obj.select == "states":
            for code, title in self.layout["state_titles"].items():
                yield Record(obj.name, str(code), {"code": str(code), "title": title})
            return
        if obj.select == "parts":
            for parents in batched(self._records(self._obj(obj.parent), None), 100):  # type: ignore[arg-type]
                for parent in parents:
                    yield from self._parts(obj, parent.key, since)
            return
        cls = self._cls(obj.cls)  # type: ignore[arg-type]
        incident_types = list(self.layout["incident_types"])
        fqns = incident_types if obj.select == "incidents" else [cls["fqn"]]
        for raw in self._windowed(obj, fqns, since=since):
            if obj.select == "requests" and _fqn_of(raw.get(cls["attrs"].get("type") or "metaClass")) in incident_types:
                continue
            if obj.select == "technicians" and str(raw.get(cls["license_attr"]) or "") in set(cls["unlicensed"]):
                continue
            record = self._record(obj, cls, raw)
            if record is not None:
                yield record

    def _parts(self, obj: _Object, parent_key: str, since: datetime | None) -> Iterator[Record]:
        cls = self._cls(obj.cls)  # type: ignore[arg-type]
        extra = {cls["source_attr"]: parent_key}
        for raw in self._windowed(obj, [cls["fqn"]], extra=extra, windows=iter([Window(FLOOR, CEILING)])):
            record = self._record(obj, cls, raw, parent_key)
            if record is None:
                continue
            if since is not None and record.data.get("created") and record.data["created"] < since:
                continue
            yield record

    def _record(self, obj: _Object, cls: dict[str, Any], raw: dict, parent_key: str | None = None) -> Record | None:
        data, bad = convert(cls["attrs"], raw, self.zone)
        key = data.get("uuid")
        if not key:
            self._tally.add("itsm365.record_without_uuid", Severity.WARNING,
                            f"{obj.name}: a record came without a UUID and was rejected", object=obj.name)
            return None
        for name in bad:
            self._tally.add("itsm365.value_unreadable", Severity.WARNING,
                            f"{obj.name}.{name}: value could not be read and was left empty", object=obj.name, key=key)
        if obj.cls == "service_calls":
            data["kind"] = "incident" if _fqn_of(raw.get(cls["attrs"].get("type") or "metaClass")) in self.layout["incident_types"] else "service_request"
        if "state" in data:
            data["state_name"] = self.layout["state_titles"].get(data["state"], data["state"]) if data["state"] else None
        if parent_key is not None:
            data["service_call"] = parent_key
        for ref in ("priority", "urgency", "impact"):
            if data.get(ref) and not data.get(f"{ref}_name"):
                data[f"{ref}_name"] = self._title(ref, data[ref])
        return Record(obj.name, key, data, parent_key=parent_key, updated_at=data.get("updated") or data.get("created"))

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
        try:
            return {key: list(self._parts(obj, key, None)) for key in parent_keys}
        finally:
            self._tally.flush(self.report)

    def get(self, object: str, keys: Sequence[str]) -> list[Record]:
        obj = self._obj(object)
        if obj.select == "states":
            return [r for r in self._records(obj, None) if r.key in set(keys)]
        cls = self._cls(obj.cls)  # type: ignore[arg-type]
        attrs = self._attr_codes(cls, cls.get("source_attr"), cls.get("license_attr"))
        found: list[Record] = []
        try:
            for key in keys:
                raw = self.client.get(key, attrs, what=f"{object} {key}")
                if raw is None:
                    continue
                if obj.select in ("incidents", "requests"):
                    is_incident = _fqn_of(raw.get(cls["attrs"].get("type") or "metaClass")) in self.layout["incident_types"]
                    if is_incident != (obj.select == "incidents"):
                        continue
                parent = None
                if obj.select == "parts":
                    parent = raw.get(cls["source_attr"])
                    parent = (parent.get("UUID") if isinstance(parent, dict) else parent) or None
                record = self._record(obj, cls, raw, parent)
                if record is not None:
                    found.append(record)
        finally:
            self._tally.flush(self.report)
        return found

    def attachments(self, object: str, record: Record) -> list[AttachmentRef]:
        obj = self._obj(object)
        files_cls = self._cls("files")
        refs: dict[str, AttachmentRef] = {}
        listed = [uuid for uuid in record.data.get("files") or [] if uuid]
        if listed:
            for uuid in listed:
                raw = self.client.get(uuid, self._attr_codes(files_cls), what=f"file {uuid}") or {"UUID": uuid}
                refs[uuid] = self._file_ref(raw, record.key)
        elif obj.cls == "service_calls":
            extra = {files_cls["source_attr"]: record.key}
            rows = self.client.find(files_cls["fqn"], extra, self._attr_codes(files_cls), what=f"files of {record.key}")
            for raw in rows:
                ref = self._file_ref(raw, record.key)
                refs.setdefault(ref.content_id or ref.name, ref)
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

    def _file_ref(self, raw: dict, record_key: str) -> AttachmentRef:
        data, _ = convert(self._cls("files")["attrs"], raw, self.zone)
        uuid = str(data.get("uuid") or raw.get("UUID"))
        name = data.get("title") or uuid
        content_type = data.get("mime_type") or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return AttachmentRef(name=name, size=data.get("size"), content_type=content_type, record_key=record_key,
                             opener=self._opener(uuid), location=f"get-file/{uuid}", content_id=uuid)

    def _opener(self, uuid: str) -> Callable[[], io.BytesIO]:
        return lambda: io.BytesIO(self.client.get_file(uuid))

    def close(self) -> None:
        self.client.close()


def _and_after(windows: Iterator[Window], end: datetime) -> Iterator[Window]:
    yield from windows
    yield Window(end + timedelta(seconds=1), CEILING)
