"""An ITSM 365 tenant (Naumen SMP REST), written from sources.md §3 and the clients it cites.

Documented behaviour it follows:
- `/sd/services/rest/{find,get,get-file,check-status}`, `accessKey` on every request;
  a wrong key answers HTTP 500 with a body saying the key was not found;
- `find/{fqn}[/{filter}]?attrs=...` with the filter in the path as raw JSON or `40x` +
  base64url(JSON), or as the JSON body of a POST; the filter is attribute equality
  (`{"source": "<uuid>"}` lists a call's comments); a reference compares by UUID;
- `find` on a class returns every type of it; `fqn` is `class$type` with per-tenant type
  codes (`serviceCall$call`, `serviceCall$serviceCall`); `metaClass` holds the type;
- replies are a JSON array (or `{value, Count}` with `envelope`); dates `yyyy.MM.dd
  HH:mm:ss` in the tenant's zone, no offset; files are `file$N` objects downloaded with
  `get-file`, listed on comments (`files`) and owned through `source`.

Choices of its own where nothing is documented:
- `op.between(...)` is Naumen's scripting API, not REST: by default this tenant compares
  it literally like any value, so a date "range" matches nothing (`date_filter=True`
  makes it a range, as a tenant with a scripted filter might);
- no paging: `find` returns everything unless `max_results` cuts replies silently;
- `license` is a list of license codes (`["notLicensed"]` for end users);
- a class the tenant lacks answers 400, a forbidden one 403;
- throttling answers 429 with `Retry-After` (seconds, or an HTTP date).
"""

from __future__ import annotations

import base64
import email.utils
import functools
import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import httpx

from connectors.samples.fake_http import InProcess, json_response, text_response
from connectors.samples.ground_truth import GroundTruth

DATE = "%Y.%m.%d %H:%M:%S"
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
ZONE = "Europe/Moscow"
CALL = "serviceCall$call"  # this tenant's incidents (its own type code)
REQUEST = "serviceCall$serviceCall"  # its service requests
REST = "/sd/services/rest/"
_BETWEEN = re.compile(r"^op\.between\((.+),(.+)\)$")


@dataclass(frozen=True)
class NaumenBehaviour:
    date_filter: bool = False  # honour op.between(...) as a date range
    max_results: int | None = None  # find replies silently cut to this many objects
    source_filter: bool = True  # {"source": ...} narrows comments and files; False: ignored
    throttle_every: int = 0  # every Nth request answers 429
    retry_after: str = "2"  # seconds, or "date" for an HTTP date 3 seconds ahead
    envelope: bool = False
    missing: frozenset[str] = frozenset({"KB", "problem"})
    forbidden: frozenset[str] = frozenset({"agreement"})


@dataclass
class NaumenTenant(InProcess):
    tickets: int = 300
    years: int = 6  # history spread over this many years before NOW
    seed: int = 11
    access_key: str = "naumen-tenant-key-93be"
    host: str = "tenant.itsm365.test"
    behaviour: NaumenBehaviour = field(default_factory=NaumenBehaviour)

    def __post_init__(self) -> None:
        self.objects: dict[str, list[dict]] = {}
        self.by_uuid: dict[str, dict] = {}
        self.file_bytes: dict[str, bytes] = {}
        self.requests: list[httpx.Request] = []
        self.type_counts: dict[str, int] = {}
        self._by_source: dict[str, dict[str, list[dict]]] = {}
        self.truth = GroundTruth("itsm365")
        self._serial = 5000
        self._zone = ZoneInfo(ZONE)
        self._generate(random.Random(self.seed))

    # -- wiring -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"https://{self.host}/sd"

    def options(self, **overrides: Any) -> dict[str, Any]:
        return {"base_url": self.base_url, "time_zone": ZONE, **overrides}

    def secret(self, name: str) -> str | None:
        return self.access_key if name == "itsm365_access_key" else None

    def counts(self, incident_types: tuple[str, ...] = (CALL,)) -> dict[str, int]:
        """Records per object a correct connector yields when these types are the incidents."""
        counts = dict(self.truth.counts)
        calls = self.objects["serviceCall"]
        incident = {c["UUID"] for c in calls if c["metaClass"] in incident_types}
        comments = [c for c in self.objects["comment"] if c["source"].startswith("serviceCall$")]
        counts["incidents"] = len(incident)
        counts["service_requests"] = len(calls) - len(incident)
        counts["incident_comments"] = sum(1 for c in comments if c["source"] in incident)
        counts["request_comments"] = len(comments) - counts["incident_comments"]
        return counts

    # -- data ---------------------------------------------------------------------

    def _uuid(self, cls: str) -> str:
        self._serial += 1
        return f"{cls}${self._serial}"

    def _add(self, cls: str, obj: dict) -> dict:
        self.objects.setdefault(cls, []).append(obj)
        self.by_uuid[obj["UUID"]] = obj
        return obj

    def _stamp(self, when: datetime) -> str:
        return when.astimezone(self._zone).strftime(DATE)

    @staticmethod
    def _ref(obj: dict) -> dict:
        return {"UUID": obj["UUID"], "title": obj.get("title"), "metaClass": obj["metaClass"]}

    def _generate(self, rnd: random.Random) -> None:
        truth, counts = self.truth, self.truth.counts
        start = NOW - timedelta(days=365 * self.years)
        span = (NOW - start).total_seconds()

        def at(fraction: float) -> datetime:
            return start + timedelta(seconds=int(span * fraction))

        ous = [self._add("ou", {"UUID": self._uuid("ou"), "metaClass": "ou$company", "title": f"Filial {n}",
                                "additionalName": f"F{n}", "removed": False, "creationDate": self._stamp(at(0.01 * n)),
                                "lastModifiedDate": self._stamp(at(0.02 * n))}) for n in range(6)]
        catalogs = {}
        for cls, titles in (("priority", ["Critical", "High", "Normal", "Low"]), ("urgency", ["High", "Low"]),
                            ("impact", ["Wide", "Narrow"])):
            catalogs[cls] = [self._add(cls, {"UUID": self._uuid(cls), "metaClass": cls, "code": t.lower(), "title": t,
                                             "creationDate": self._stamp(at(0))}) for t in titles]
        technicians, requesters = [], []
        for n in range(8):
            technicians.append(self._add("employee", {
                "UUID": self._uuid("employee"), "metaClass": "employee$employee", "title": f"Engineer {n}",
                "firstName": "Engineer", "lastName": str(n), "email": f"engineer{n}@tenant.example",
                "parent": self._ref(ous[0]), "post": "Engineer", "login": f"eng{n}", "removed": False,
                "license": ["named"] if n % 2 else ["concurrent", "named"],
                "creationDate": self._stamp(at(0.001 * n)), "lastModifiedDate": self._stamp(at(0.5))}))
        people = self.tickets // 3 + 10
        for n in range(people):
            requesters.append(self._add("employee", {
                "UUID": self._uuid("employee"), "metaClass": "employee$employee", "title": f"Клиент {n}",
                "firstName": "Клиент", "lastName": str(n), "email": f"client{n}@tenant.example",
                "parent": self._ref(ous[n % len(ous)]), "post": "Clerk", "login": f"c{n}", "removed": n % 17 == 5,
                "license": ["notLicensed"], "mobilePhoneNumber": f"+7 900 {n:07d}",
                "creationDate": self._stamp(at(0.5 * n / people)), "lastModifiedDate": self._stamp(at(0.6))}))
        requesters[1]["email"] = ""
        truth.add_messy("requester_without_email", requesters[1]["UUID"])
        requesters[3]["email"] = requesters[2]["email"].upper()
        truth.add_messy("requester_duplicate_email", requesters[3]["UUID"])
        counts["employees"] = len(requesters)
        counts["technicians"] = len(technicians)
        teams = [self._add("team", {"UUID": self._uuid("team"), "metaClass": "team$team", "title": t,
                                    "leader": self._ref(technicians[n]), "creationDate": self._stamp(at(0)),
                                    "lastModifiedDate": self._stamp(at(0))}) for n, t in enumerate(["Desk", "Field", "Net"])]
        services = [self._add("slmService", {"UUID": self._uuid("slmService"), "metaClass": "slmService$slmService",
                                             "title": t, "state": "active", "creationDate": self._stamp(at(0)),
                                             "lastModifiedDate": self._stamp(at(0))}) for t in ("Mail", "ERP", "Print")]
        self._add("agreement", {"UUID": self._uuid("agreement"), "metaClass": "agreement$agreement", "title": "SLA",
                                "state": "active", "creationDate": self._stamp(at(0)), "lastModifiedDate": self._stamp(at(0))})
        changes = [self._add("changeRequest", {"UUID": self._uuid("changeRequest"), "metaClass": "changeRequest$changeRequest",
                                               "number": n + 1, "state": "registered", "title": f"Change {n}",
                                               "creationDate": self._stamp(at(0.2 * n)), "lastModifiedDate": self._stamp(at(0.2 * n))})
                   for n in range(4)]
        counts.update(ous=len(ous), teams=len(teams), slm_services=len(services), change_requests=len(changes),
                      priorities=4, urgencies=2, impacts=2)

        comments_total = files_total = 0
        children: dict[str, int] = {}
        for i in range(self.tickets):
            kind = CALL if i % 3 else REQUEST
            self.type_counts[kind] = self.type_counts.get(kind, 0) + 1
            created = at(i / self.tickets)
            client = requesters[rnd.randrange(len(requesters))]
            call = self._add("serviceCall", {
                "UUID": self._uuid("serviceCall"), "metaClass": kind, "number": 7000 + i,
                "state": ["registered", "inprogress", "resolved", "closed"][i % 4],
                "shortDescr": f"Заявка {i}: не работает принтер" if i % 5 else f"Request {i}",
                "descriptionRTF": f"<p>Описание {i}</p>", "clientEmployee": self._ref(client),
                "clientOU": client["parent"], "clientEmail": client["email"],
                "responsibleEmployee": self._ref(technicians[i % len(technicians)]),
                "responsibleTeam": self._ref(teams[i % len(teams)]),
                "priority": self._ref(catalogs["priority"][i % 4]), "urgency": self._ref(catalogs["urgency"][i % 2]),
                "impact": self._ref(catalogs["impact"][i % 2]), "service": self._ref(services[i % 3]),
                "creationDate": self._stamp(created), "lastModifiedDate": self._stamp(created + timedelta(days=2)),
            })
            if i % 25 == 7:
                self._file(call["UUID"], f"form{i}.pdf", "application/pdf", created)
                files_total += 1
            for c in range(rnd.randint(0, 5) if i % 40 else 0):
                author = technicians[rnd.randrange(len(technicians))] if c % 2 else client
                when = created + timedelta(hours=c + 1)
                comment = self._add("comment", {
                    "UUID": self._uuid("comment"), "metaClass": "comment", "text": f"<p>Ответ {c} по {i}</p>",
                    "author": self._ref(author), "private": c % 4 == 3, "files": [], "source": call["UUID"],
                    "creationDate": self._stamp(when)})
                if c == 0 and i % 12 == 5:  # a message that is only a file
                    comment["text"] = "" if i % 24 == 5 else "<p></p>"
                    fid = self._file(comment["UUID"], f"scan{i}.png", "image/png", when)
                    comment["files"] = [{"UUID": fid, "title": f"scan{i}.png"}]
                    files_total += 1
                    truth.add_messy("comment_without_text_but_file", comment["UUID"])
                comments_total += 1
                children[call["UUID"]] = children.get(call["UUID"], 0) + 1
        for change in changes:  # comments on other classes: not parts of any conversation
            self._add("comment", {"UUID": self._uuid("comment"), "metaClass": "comment", "text": "<p>CAB ok</p>",
                                  "author": self._ref(technicians[0]), "private": True, "files": [],
                                  "source": change["UUID"], "creationDate": change["creationDate"]})
        truth.children = {"comments": children}
        truth.attachments = {"all": files_total}
        for cls in self.behaviour.missing:
            for obj in self.objects.pop(cls, []):
                self.by_uuid.pop(obj["UUID"], None)

    def _file(self, source: str, title: str, mime: str, when: datetime) -> str:
        uuid = self._uuid("file")
        content = f"{title} belongs to {source}".encode()
        self.file_bytes[uuid] = content
        self._add("file", {"UUID": uuid, "metaClass": "file", "title": title, "fileSize": len(content),
                           "mimeType": mime, "source": source, "creationDate": self._stamp(when)})
        return uuid

    # -- HTTP ---------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        b = self.behaviour
        if b.throttle_every and len(self.requests) % b.throttle_every == 0:
            after = b.retry_after
            if after == "date":
                after = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
            return json_response(429, {"error": "Too many requests"}, {"Retry-After": after})
        path = request.url.raw_path.decode("ascii").split("?")[0]
        if not path.startswith(REST):
            return text_response(404, "Not Found")
        method, _, rest = path[len(REST):].partition("/")
        if method == "check-status":
            return text_response(200, "Success")
        if request.url.params.get("accessKey") != self.access_key:
            return text_response(500, "Authorization key not found")
        attrs = [a for a in request.url.params.get("attrs", "").split(",") if a]
        if method == "find":
            return self._find(request, rest, attrs)
        if method == "get":
            obj = self.by_uuid.get(unquote(rest))
            return json_response(200, self._project(obj, attrs)) if obj else text_response(404, "Object not found")
        if method == "get-file":
            data = self.file_bytes.get(unquote(rest))
            return httpx.Response(200, content=data) if data is not None else text_response(404, "File not found")
        return text_response(404, f"Unknown method {method}")

    def _find(self, request: httpx.Request, rest: str, attrs: list[str]) -> httpx.Response:
        fqn, _, raw = rest.partition("/")
        fqn = unquote(fqn)
        cls = fqn.split("$")[0]
        if cls in self.behaviour.forbidden:
            return text_response(403, "Access denied")
        if cls not in self.objects:
            return text_response(400, f"Metaclass with fqn '{fqn}' does not exist")
        if raw:
            conditions = _decode(unquote(raw))
        elif request.method == "POST" and request.content:
            conditions = json.loads(request.content)
        else:
            conditions = {}
        pool = self.objects[cls]
        if set(conditions) == {"source"} and self.behaviour.source_filter:  # an index, so large tenants stay quick
            pool = self._owned(cls).get(str(conditions["source"]), [])
        found = [o for o in pool if ("$" not in fqn or o["metaClass"] == fqn) and self._matches(o, conditions)]
        if self.behaviour.max_results is not None:
            found = found[: self.behaviour.max_results]
        rows = [self._project(o, attrs) for o in found]
        return json_response(200, {"value": rows, "Count": len(rows)} if self.behaviour.envelope else rows)

    def _owned(self, cls: str) -> dict[str, list[dict]]:
        if cls not in self._by_source:
            index: dict[str, list[dict]] = {}
            for obj in self.objects[cls]:
                index.setdefault(str(obj.get("source")), []).append(obj)
            self._by_source[cls] = index
        return self._by_source[cls]

    def _matches(self, obj: dict, conditions: dict) -> bool:
        for attr, expected in conditions.items():
            if attr == "source" and not self.behaviour.source_filter:
                continue
            value = obj.get(attr)
            between = _BETWEEN.match(expected) if isinstance(expected, str) and self.behaviour.date_filter else None
            if between:
                if not value:
                    return False
                low, high = (_parse(x.strip()) for x in between.groups())
                if not low <= _parse(value) <= high:
                    return False
                continue
            if isinstance(value, dict):
                value = value.get("UUID")
            elif isinstance(value, list):
                if str(expected) not in {str(v.get("UUID") if isinstance(v, dict) else v) for v in value}:
                    return False
                continue
            if str(value) != str(expected) and not (isinstance(value, bool) and str(value).lower() == str(expected).lower()):
                return False
        return True

    @staticmethod
    def _project(obj: dict, attrs: list[str]) -> dict:
        if not attrs:
            return dict(obj)
        out = {"UUID": obj["UUID"]}
        out.update({a: obj[a] for a in attrs if a in obj})
        return out


@functools.lru_cache(maxsize=65536)
def _parse(value: str) -> datetime:
    return datetime.strptime(value, DATE)


def _decode(raw: str) -> dict:
    if raw.startswith("40x"):
        data = raw[3:]
        raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode("utf-8")
    return json.loads(raw)

