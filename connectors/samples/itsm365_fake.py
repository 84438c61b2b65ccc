"""A fake ITSM 365 (Naumen SMP REST) tenant: deterministic data, documented shapes, hostile switches.

Serves `/sd/services/rest/{find,get,get-file,check-status}` with `accessKey` on every
request; `find` takes the filter in the path (raw JSON or `40x` + base64url), honours
`attrs`, equality filters and `op.between(start,end)` date ranges, and silently caps
replies like a real server might. `Itsm365Faults` adds the hostile behaviour the
connector must survive. `ground_truth` says what a correct connector reads.
"""

from __future__ import annotations

import base64
import functools
import json
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

import httpx

from connectors.samples.fake_http import INVALID_BYTE, InProcess, json_response, text_response
from connectors.samples.ground_truth import GroundTruth

DATE = "%Y.%m.%d %H:%M:%S"
INCIDENT = "serviceCall$incident"
REQUEST = "serviceCall$serviceCall"
UNLISTED = "serviceCall$call"  # a type the default layout does not list: read as a service request
EPOCH = datetime(2023, 1, 2, 9, 0, 0)  # tenant-local
STATES = ("registered", "inprogress", "resolved", "closed")
_BETWEEN = re.compile(r"^op\.between\((.+),(.+)\)$")


@functools.lru_cache(maxsize=65536)
def _when(text: str) -> datetime:
    """A date as the service writes it (each window's query compares every record's again)."""
    return datetime.strptime(text, DATE)


@dataclass(frozen=True)
class Itsm365Faults:
    """Hostile behaviour; all off by default except the silent cap every server may have."""

    cap: int = 100  # find replies are silently cut to this many objects
    envelope: bool = False  # answer find with {"value": [...], "Count": n} instead of an array
    rate_limit_every: int = 0  # every Nth request answers 429 (Retry-After: 1)
    rate_limit_storm: int = 0  # the first N requests answer 429
    unavailable_every: int = 0  # every Nth request answers 503 without Retry-After
    malformed_every: int = 0  # every Nth find answers an HTML page with status 200
    malformed_always: frozenset[str] = frozenset()  # classes whose find always answers HTML
    wrong_shape: frozenset[str] = frozenset()  # classes whose find answers a JSON object without value
    forbidden: frozenset[str] = frozenset()  # classes answering 403
    missing: frozenset[str] = frozenset()  # classes the tenant does not have
    ignore_filter: bool = False  # find ignores the date range
    burst: int = 0  # extra incidents all created in the same second
    down: bool = False  # every request fails to connect


@dataclass
class FakeItsm365(InProcess):
    size: int = 40  # service calls
    seed: int = 1
    access_key: str = "itsm-demo-key-5f1c2a"
    tenant: str = "demo"
    time_zone: str = "Europe/Moscow"
    faults: Itsm365Faults = field(default_factory=Itsm365Faults)
    messy_rows: bool = False  # also a call without a UUID, text that is not UTF-8, a 1.1 MB description

    def __post_init__(self) -> None:
        self.objects: dict[str, list[dict]] = {}
        self.file_bytes: dict[str, bytes] = {}
        self.requests: list[httpx.Request] = []
        self.ground_truth = GroundTruth("itsm365")
        self._next = 1000
        self._generate(random.Random(self.seed))

    # -- wiring -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"https://{self.tenant}.itsm365.com/sd"

    def options(self, **overrides: Any) -> dict[str, Any]:
        return {"tenant": self.tenant, "time_zone": self.time_zone, **overrides}

    def secret(self, name: str) -> str | None:
        return self.access_key if name == "itsm365_access_key" else None

    def source(self, *, sleep: Callable[[float], None] = lambda _s: None, options: dict | None = None, **kwargs: Any):
        """An Itsm365Source wired to this fake in process."""
        from connectors.itsm365 import Itsm365Source

        return Itsm365Source.from_options(
            options if options is not None else self.options(), self.secret, transport=self.transport(), sleep=sleep,
            **kwargs,
        )

    # -- data ---------------------------------------------------------------------

    def _uuid(self, cls: str) -> str:
        self._next += 1
        return f"{cls}${self._next}"

    def _add(self, cls: str, obj: dict) -> dict:
        self.objects.setdefault(cls, []).append(obj)
        return obj

    @staticmethod
    def _ref(obj: dict) -> dict:
        return {"UUID": obj["UUID"], "title": obj.get("title"), "metaClass": obj["metaClass"]}

    def _generate(self, rnd: random.Random) -> None:
        truth = self.ground_truth
        counts = truth.counts

        def stamp(day: float) -> str:
            return (EPOCH + timedelta(seconds=int(day * 86400))).strftime(DATE)

        ous = []
        for i in range(max(3, self.size // 10)):
            ou = self._add("ou", {"UUID": self._uuid("ou"), "metaClass": "ou$company", "title": f"Company {i + 1}",
                                  "additionalName": f"C{i + 1} LLC", "removed": False, "creationDate": stamp(i),
                                  "lastModifiedDate": stamp(i + 1)})
            ous.append(ou)
        ous[-1]["parent"] = self._ref(ous[0])
        ous[-1]["title"] = "ООО «Ромашка»"
        counts["ous"] = len(ous)

        catalogs: dict[str, list[dict]] = {}
        for cls, titles in (("priority", ["1-Critical", "2-High", "3-Medium", "4-Low", "5-Planning"]),
                            ("urgency", ["High", "Medium", "Low"]), ("impact", ["Company", "Department", "User"])):
            catalogs[cls] = [self._add(cls, {"UUID": self._uuid(cls), "metaClass": cls, "code": f"{cls}{n + 1}",
                                             "title": t, "creationDate": stamp(n)}) for n, t in enumerate(titles)]
        counts.update(priorities=5, urgencies=3, impacts=3)

        employees = []
        technicians = []
        for i in range(max(12, self.size // 2 + 6)):
            licensed = i < 5
            first, last = rnd.choice(["Anna", "Ivan", "Olga", "Petr", "Maria"]), f"Surname{i}"
            emp = {"UUID": self._uuid("employee"), "metaClass": "employee$employee", "title": f"{first} {last}",
                   "firstName": first, "lastName": last, "email": f"{first.lower()}.{i}@example.com",
                   "mobilePhoneNumber": f"+7 900 {i:03d} 00 00", "parent": self._ref(rnd.choice(ous)),
                   "post": "Engineer" if licensed else "Clerk", "login": f"user{i}", "removed": False,
                   "license": "named" if licensed else "notLicensed",
                   "creationDate": stamp(i / 3), "lastModifiedDate": stamp(i / 3 + 2)}
            employees.append(self._add("employee", emp))
            if licensed:
                technicians.append(emp)
        employees[6]["email"] = ""
        truth.add_messy("employee_without_email", employees[6]["UUID"])
        employees[8]["email"] = employees[7]["email"].upper()
        truth.add_messy("employee_duplicate_email", employees[8]["UUID"])
        employees[9]["removed"] = True
        truth.add_messy("employee_archived", employees[9]["UUID"])
        employees[10].update(title="Сергей Иванов", firstName="Сергей", lastName="Иванов")
        truth.add_messy("employee_cyrillic_name", employees[10]["UUID"])
        counts["employees"] = len(employees) - len(technicians)  # technicians are agents, never contacts
        counts["technicians"] = len(technicians)

        teams = [self._add("team", {"UUID": self._uuid("team"), "metaClass": "team$team", "title": t,
                                    "leader": self._ref(technicians[n]), "creationDate": stamp(n),
                                    "lastModifiedDate": stamp(n)})
                 for n, t in enumerate(["First line", "Second line", "Network"])]
        counts["teams"] = len(teams)

        services = [self._add("slmService", {"UUID": self._uuid("slmService"), "metaClass": "slmService$slmService",
                                             "title": t, "state": "active", "creationDate": stamp(n),
                                             "lastModifiedDate": stamp(n)})
                    for n, t in enumerate(["E-mail", "1C", "Printing"])]
        agreements = [self._add("agreement", {"UUID": self._uuid("agreement"), "metaClass": "agreement$agreement",
                                              "title": t, "state": "active", "stateStartTime": stamp(n),
                                              "services": [self._ref(s) for s in services],
                                              "recipientsOU": [self._ref(ous[n])], "creationDate": stamp(n),
                                              "lastModifiedDate": stamp(n)})
                      for n, t in enumerate(["Standard SLA", "VIP SLA"])]
        counts.update(slm_services=len(services), agreements=len(agreements))

        incident_parts: dict[str, int] = {}
        request_parts: dict[str, int] = {}
        files_per: dict[str, int] = {"incidents": 0, "service_requests": 0, "incident_comments": 0, "request_comments": 0}
        heavy = 0  # the call with more comments than the server cap
        for i in range(self.size + self.faults.burst):
            burst = i >= self.size
            kind = INCIDENT if (i % 2 == 0 or burst) else REQUEST
            if i == 3:
                kind = UNLISTED
                truth.add_messy("unlisted_type_read_as_request", "")
            day = 600 * i / max(1, self.size)
            created = stamp(day) if not burst else stamp(300)
            uuid = self._uuid("serviceCall")
            priority = rnd.choice(catalogs["priority"])
            call = {
                "UUID": uuid, "metaClass": kind, "number": 100 + i, "state": STATES[i % len(STATES)],
                "shortDescr": f"Printer on floor {i % 5} does not print" if i % 3 else f"Нет доступа к 1С ({i})",
                "description": f"Plain description {i}", "descriptionRTF": f"<p>Description <b>{i}</b></p>",
                "clientEmployee": self._ref(rnd.choice(employees[5:])), "clientOU": self._ref(rnd.choice(ous)),
                "clientName": "Walk-in client", "clientEmail": f"client{i}@example.com", "clientPhone": "",
                "author": self._ref(rnd.choice(technicians)), "responsibleEmployee": self._ref(rnd.choice(technicians)),
                "responsibleTeam": self._ref(rnd.choice(teams)), "priority": self._ref(priority),
                "urgency": self._ref(rnd.choice(catalogs["urgency"])), "impact": self._ref(rnd.choice(catalogs["impact"])),
                "baseCategory": {"UUID": f"catalogItem${i % 4}", "title": ["Hardware", "Software", "Access", "Other"][i % 4]},
                "service": self._ref(rnd.choice(services)), "agreement": self._ref(rnd.choice(agreements)),
                "deadLineTime": stamp(day + 1), "dateDecision": stamp(day + 0.5) if i % 4 >= 2 else None,
                "requestDate": created, "creationDate": created, "lastModifiedDate": stamp(day + 2),
            }
            if i == 1:
                call["priority"] = priority["UUID"]  # a bare UUID: the title comes from the catalog
                truth.add_messy("priority_as_bare_uuid", uuid)
            if i == 2:
                call["descriptionRTF"] = ""
                truth.add_messy("empty_description", uuid)
            obj_name = "incidents" if kind == INCIDENT else "service_requests"
            if i == 4:
                inline = self._file(uuid, "screenshot.png", "image/png", rnd)
                call["descriptionRTF"] = f'<p>See <img src="./download?uuid={inline}"></p>'
                files_per[obj_name] += 1
                truth.add_messy("inline_image", uuid)
            if i == 5:
                self._file(uuid, "report.pdf", "application/pdf", rnd)
                files_per[obj_name] += 1
            self._add("serviceCall", call)
            n_comments = 0 if burst else rnd.randint(0, 4)
            if i == 6:
                n_comments = self.faults.cap + 30
                heavy = n_comments
                truth.add_messy("more_comments_than_server_cap", uuid)
            parts = incident_parts if kind == INCIDENT else request_parts
            for c in range(n_comments):
                cuuid = self._uuid("comment")
                comment = {"UUID": cuuid, "metaClass": "comment", "text": f"<p>Comment {c} on {i}</p>",
                           "author": self._ref(rnd.choice(employees)), "private": c % 3 == 2,
                           "files": [], "source": uuid,
                           "creationDate": stamp(day + (c + 1) / (heavy or 10) / 10 if i == 6 else day + (c + 1) / 24)}
                if c == 0 and i % 5 == 0:
                    fuuid = self._file(cuuid, f"log{i}.txt", "text/plain", rnd)
                    comment["files"] = [{"UUID": fuuid, "title": f"log{i}.txt"}]
                    files_per["incident_comments" if kind == INCIDENT else "request_comments"] += 1
                self._add("comment", comment)
            if n_comments:
                parts[uuid] = n_comments
        if self.messy_rows:
            self._plant_messy_rows()
        read = [c for c in self.objects["serviceCall"] if c["UUID"]]  # a call without a UUID is not read
        counts["incidents"] = sum(1 for c in read if c["metaClass"] == INCIDENT)
        counts["service_requests"] = len(read) - counts["incidents"]
        counts["incident_comments"] = sum(incident_parts.values())
        counts["request_comments"] = sum(request_parts.values())
        truth.children = {"incident_comments": incident_parts, "request_comments": request_parts}
        truth.attachments = files_per
        if self.faults.burst:
            truth.add_messy("burst_same_second", str(self.faults.burst))

        for cls, name, n in (("problem", "problems", max(2, self.size // 10)), ("changeRequest", "change_requests", max(2, self.size // 10))):
            for k in range(n):
                self._add(cls, {"UUID": self._uuid(cls), "metaClass": f"{cls}${cls}", "number": k + 1,
                                "state": STATES[k % 4], "title": f"{name[:-1]} {k + 1}",
                                "descriptionRTF": f"<p>{name} body {k}</p>", "responsibleTeam": self._ref(teams[0]),
                                "creationDate": stamp(10 * k), "lastModifiedDate": stamp(10 * k + 1)})
            counts[name] = n
        for k in range(5):
            self._add("KB", {"UUID": self._uuid("KB"), "metaClass": "KB$article", "title": f"How to {k}",
                             "text": f"<h1>How to {k}</h1><p>Steps</p>", "parent": {"UUID": "KBsection$1", "title": "General"},
                             "author": self._ref(technicians[0]), "creationDate": stamp(k), "lastModifiedDate": stamp(k)})
        counts["kb_articles"] = 5
        counts["states"] = 7  # the default layout's state_titles
        for cls in self.faults.missing:
            self.objects.pop(cls, None)

    def _plant_messy_rows(self) -> None:
        """Calls as a long-lived server holds them: one whose text has a byte that is not UTF-8,
        one whose description is 1.1 MB, and one that comes without a UUID."""
        calls = [c for c in self.objects["serviceCall"] if c["metaClass"] == INCIDENT]
        odd, huge = calls[-1], calls[-2]
        odd["descriptionRTF"] = f"<p>Caf{INVALID_BYTE} au lait</p>"
        odd["shortDescr"] = f"Caf{INVALID_BYTE} machine"
        self.ground_truth.add_messy("undecodable_text", odd["UUID"])
        huge["descriptionRTF"] = "<p>" + "A log line that goes on. " * 44_000 + "</p>"
        self.ground_truth.add_messy("large_body", huge["UUID"])
        self.objects["serviceCall"].append({**calls[0], "UUID": None, "number": 9999})
        self.ground_truth.add_messy("record_without_uuid", "")

    def _file(self, source: str, title: str, mime: str, rnd: random.Random) -> str:
        uuid = self._uuid("file")
        content = f"{title} of {source} ".encode() * rnd.randint(1, 5)
        self.file_bytes[uuid] = content
        self._add("file", {"UUID": uuid, "metaClass": "file", "title": title, "fileSize": len(content),
                           "mimeType": mime, "source": source, "creationDate": EPOCH.strftime(DATE)})
        return uuid

    # -- HTTP ---------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        n = len(self.requests)
        faults = self.faults
        if faults.down:
            raise httpx.ConnectError("connection refused", request=request)
        if n <= faults.rate_limit_storm or (faults.rate_limit_every and n % faults.rate_limit_every == 0):
            return json_response(429, {"error": "too many requests"}, {"Retry-After": "1"})
        if faults.unavailable_every and n % faults.unavailable_every == 0:
            return text_response(503, "Service Unavailable")
        path = request.url.raw_path.decode("ascii").split("?")[0]
        prefix = "/sd/services/rest/"
        if not path.startswith(prefix):
            return text_response(404, "Not Found")
        method, _, rest = path[len(prefix):].partition("/")
        if method == "check-status":
            return text_response(200, "OK")
        if request.url.params.get("accessKey") != self.access_key:
            # the real server answers 500 and echoes the key it did not find
            return text_response(500, f"Authorization key '{request.url.params.get('accessKey')}' not found")
        attrs = [a for a in request.url.params.get("attrs", "").split(",") if a]
        if method == "find":
            return self._find(rest, attrs, n)
        if method == "get":
            obj = self._by_uuid(unquote(rest))
            if obj is None:
                return text_response(404, "Object not found")
            return json_response(200, self._project(obj, attrs))
        if method == "get-file":
            uuid = unquote(rest)
            if uuid not in self.file_bytes:
                return text_response(404, "File not found")
            return httpx.Response(200, content=self.file_bytes[uuid], headers={"Content-Type": "application/octet-stream"})
        return text_response(404, "Unknown method")

    def _find(self, rest: str, attrs: list[str], n: int) -> httpx.Response:
        fqn, _, raw_filter = rest.partition("/")
        fqn = unquote(fqn)
        cls = fqn.split("$")[0]
        faults = self.faults
        if cls in faults.forbidden:
            return text_response(403, "Access denied")
        if cls not in self.objects:
            return text_response(500, f"Metaclass '{fqn}' not found")
        if cls in faults.malformed_always or (faults.malformed_every and n % faults.malformed_every == 0):
            return text_response(200, "<html><body>Bad gateway</body></html>", "text/html")
        if cls in faults.wrong_shape:
            return json_response(200, {"error": "unexpected"})
        conditions = self._decode(raw_filter) if raw_filter else {}
        found = [o for o in self.objects[cls] if ("$" not in fqn or o["metaClass"] == fqn) and self._matches(o, conditions)]
        found = found[: faults.cap]
        rows = [self._project(o, attrs) for o in found]
        if faults.envelope:
            return json_response(200, {"value": rows, "Count": len(rows)})
        return json_response(200, rows)

    @staticmethod
    def _decode(raw: str) -> dict:
        raw = unquote(raw)
        if raw.startswith("40x"):
            data = raw[3:]
            raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode("utf-8")
        return json.loads(raw)

    def _matches(self, obj: dict, conditions: dict) -> bool:
        for attr, expected in conditions.items():
            value = obj.get(attr)
            between = _BETWEEN.match(expected) if isinstance(expected, str) else None
            if between:
                if self.faults.ignore_filter:
                    continue
                if not value:
                    return False
                start, end = (_when(x.strip()) for x in between.groups())
                if not start <= _when(value) <= end:
                    return False
            else:
                actual = value.get("UUID") if isinstance(value, dict) else value
                if actual != expected:
                    return False
        return True

    def _by_uuid(self, uuid: str) -> dict | None:
        cls = uuid.split("$")[0]
        return next((o for o in self.objects.get(cls, []) if o["UUID"] == uuid), None)

    @staticmethod
    def _project(obj: dict, attrs: Iterable[str]) -> dict:
        wanted = list(attrs)
        if not wanted:
            return dict(obj)
        return {a: obj.get(a) for a in wanted}
