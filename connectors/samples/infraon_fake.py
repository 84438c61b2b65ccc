"""A fake Infraon Desk: deterministic data in the documented shapes, both auth styles, hostile switches.

Lists answer `{count, next, previous, results, max_page_limit}` with `items_per_page`
and `page`; incident details carry `options` with the tenant's own priority, urgency
and status names; conversations and notes are listed per incident with `ref_id`.
Routes other than incidents and conversations follow the connector's assumed
defaults (connectors/infraon/endpoints.py). `ground_truth` says what a correct
connector reads.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from connectors.infraon.endpoints import DEFAULT_ENDPOINTS
from connectors.samples.fake_http import INVALID_BYTE, InProcess, json_response, text_response
from connectors.samples.ground_truth import GroundTruth

TOKEN_PATH = "/ux/api-token-auth/"
ATTACHMENT_PATH = "/ux/common/attachment/"
FOREIGN_HOST = "files.example-cdn.test"
TENANT_PRIORITIES = [{"id": n + 1, "name": f"P{n + 1} - {t}"} for n, t in enumerate(["Critical", "High", "Medium", "Low", "Planning"])]
TENANT_URGENCIES = [{"id": 1, "name": "Urgent"}, {"id": 2, "name": "Normal"}, {"id": 3, "name": "Whenever"}]
TENANT_STATUSES = [{"id": n + 1, "name": t} for n, t in enumerate(["New", "Open", "In Progress", "Resolved", "Closed"])]
TENANT_SEVERITIES = [{"id": n + 1, "name": t} for n, t in enumerate(["Sev1", "Sev2", "Sev3", "Sev4"])]
BASE = datetime(2024, 1, 1, 9, 0, 0)


@dataclass(frozen=True)
class InfraonFaults:
    auth_style: str = "api_key"  # what the server accepts: api_key | api_key_prefixed | token
    max_page_limit: int = 50  # items_per_page above this is cut down
    rate_limit_every: int = 0  # every Nth request answers 429 (Retry-After: 2)
    rate_limit_storm: int = 0  # the first N requests answer 429
    unavailable_every: int = 0  # every Nth request answers 503
    endless: frozenset[str] = frozenset()  # objects whose next never ends; past the end the last page comes again
    ignores_page: frozenset[str] = frozenset()  # objects whose list always answers page 1
    malformed: frozenset[str] = frozenset()  # objects answering an HTML page with status 200
    wrong_shape: frozenset[str] = frozenset()  # objects answering JSON without results
    forbidden: frozenset[str] = frozenset()  # objects answering 403
    missing: frozenset[str] = frozenset()  # objects answering 404
    ignores_parent_filter: bool = False  # conversations ignore ref_id
    token_lifetime: int = 0  # a token stops working after this many requests (0: forever)
    down: bool = False


@dataclass
class FakeInfraon(InProcess):
    size: int = 30  # incidents
    seed: int = 1
    api_key: str = "infraon-api-key-7c3b"
    username: str = "migrator"
    password: str = "pa55-word!"
    host: str = "acme.infraon.test"
    faults: InfraonFaults = field(default_factory=InfraonFaults)
    messy_rows: bool = False  # also an incident without an id, text that is not UTF-8, a 1.1 MB description

    def __post_init__(self) -> None:
        self.lists: dict[str, list[dict]] = {}
        self.parts: dict[str, dict[str, list[dict]]] = {"conversations": {}, "notes": {}}
        self.details: dict[str, dict] = {}
        self.files: dict[str, bytes] = {}
        self.requests: list[httpx.Request] = []
        self.tokens: dict[str, int] = {}
        self.ground_truth = GroundTruth("infraon")
        self._generate(random.Random(self.seed))
        self._paths = {spec["path"]: name for name, spec in DEFAULT_ENDPOINTS.items()}

    @property
    def base_url(self) -> str:
        return f"https://{self.host}"

    def options(self, **overrides: Any) -> dict[str, Any]:
        opts: dict[str, Any] = {"base_url": self.base_url, "time_zone": "Asia/Kolkata"}
        if self.faults.auth_style == "token":
            opts["username"] = self.username
        return {**opts, **overrides}

    def secret(self, name: str) -> str | None:
        if name == "infraon_api_key":
            return self.api_key
        if name == "infraon_password":
            return self.password
        return None

    def source(self, *, sleep: Callable[[float], None] = lambda _s: None, options: dict | None = None,
               secret: Callable[[str], str | None] | None = None, **kwargs: Any):
        """An InfraonSource wired to this fake in process."""
        from connectors.infraon import InfraonSource

        return InfraonSource.from_options(options if options is not None else self.options(), secret or self.secret,
                                          transport=self.transport(), sleep=sleep, **kwargs)

    # -- data ---------------------------------------------------------------------

    def _generate(self, rnd: random.Random) -> None:
        truth = self.ground_truth
        counts = truth.counts
        companies = [{"organization_id": 500 + n, "name": f"Org {n}", "domain": f"org{n}.example.com",
                      "address": f"{n} Main Road", "created_on": (BASE - timedelta(days=400 - n)).isoformat()} for n in range(4)]
        self.lists["companies"] = companies
        requesters = []
        for n in range(self.size // 2 + 10):
            org = companies[n % len(companies)]
            requesters.append({"requester_id": 1000 + n, "full_name": f"Requester {n}", "email": f"req{n}@org{n % 4}.example.com",
                               "phone": f"+91 98{n:08d}", "username": f"req{n}", "requester_type": "Employee",
                               "department": {"id": 7, "name": "Finance"}, "organization": {"id": org["organization_id"], "name": org["name"]},
                               "is_active": n % 9 != 0, "created_on": (BASE - timedelta(days=300 - n)).isoformat()})
        requesters[3]["email"] = ""
        truth.add_messy("requester_without_email", "1003")
        requesters[5]["email"] = requesters[4]["email"].upper()
        truth.add_messy("requester_duplicate_email", "1005")
        requesters.append({"full_name": "Ghost without id", "email": "ghost@example.com"})
        truth.rejected["requesters"] = 1
        self.lists["requesters"] = requesters
        counts["requesters"] = len(requesters) - 1
        counts["companies"] = len(companies)
        technicians = [{"profile_id": 90 + n, "full_name": f"Tech {n}", "email": f"tech{n}@acme.example.com",
                        "role": "Technician", "teams": ["L1"], "is_active": True} for n in range(6)]
        technicians[5]["email"] = None
        truth.add_messy("technician_without_email", "95")
        self.lists["technicians"] = technicians
        counts["technicians"] = 6
        self.lists["teams"] = [{"id": 70 + n, "name": t, "owner": {"id": 90, "name": "Tech 0"}} for n, t in enumerate(["L1", "L2", "Network"])]
        counts["teams"] = 3
        self.lists["kb_articles"] = [{"id": 300 + n, "title": f"How to {n}", "content": f"<p>Steps {n}</p>",
                                      "category": {"id": 1, "name": "General"}, "folder": None if n == 0 else {"id": 2, "name": "Printers"},
                                      "status": "Published", "creation_time": (BASE + timedelta(days=n)).isoformat()} for n in range(5)]
        truth.add_messy("kb_article_without_folder", "300")
        counts["kb_articles"] = 5
        for name, prefix in (("cis", "CI"), ("assets", "AST"), ("problems", "PRB"), ("changes", "CHG"), ("releases", "REL")):
            rows = [{"id": f"{prefix.lower()}-{n}", "display_id": f"{prefix}-{n:04d}", "name": f"{name} {n}",
                     "status": {"id": 1, "name": "Active"}, "cf_rack": f"R{n}" if name == "cis" else None,
                     "creation_time": (BASE + timedelta(days=n)).isoformat()} for n in range(max(2, self.size // 10))]
            self.lists[name] = rows
            counts[name] = len(rows)
        self.lists["service_catalogue"] = [{"id": n, "name": f"Catalogue item {n}", "workflow": "Approval"} for n in range(3)]
        self.lists["sla_policies"] = [{"id": n, "name": f"SLA {n}", "response_minutes": 30 * (n + 1)} for n in range(2)]
        counts.update(service_catalogue=3, sla_policies=2)

        incidents = []
        conv_children: dict[str, int] = {}
        note_children: dict[str, int] = {}
        attachments = {"conversations": 0, "notes": 0, "incidents": 0}
        file_no = 0
        for n in range(self.size):
            ident = str(20000 + n)
            req = requesters[n % (len(requesters) - 1)]
            created = BASE + timedelta(hours=7 * n)
            priority = TENANT_PRIORITIES[n % 5]
            row = {"incident_id": ident, "display_id": f"INC-{n + 1:05d}", "summary": f"Laptop {n} will not boot",
                   "description": f"<p>Details of {n}</p>", "status": {"id": TENANT_STATUSES[n % 5]["id"], "name": TENANT_STATUSES[n % 5]["name"]},
                   "state_name": "Open" if n % 5 < 3 else "Closed", "priority": priority["id"], "priority_name": priority["name"],
                   "urgency": TENANT_URGENCIES[n % 3]["id"], "urgency_name": TENANT_URGENCIES[n % 3]["name"],
                   "impact": (n % 5) + 1, "severity_name": TENANT_SEVERITIES[n % 4]["name"],
                   "requester": {"id": req.get("requester_id"), "name": req.get("full_name"), "email": req.get("email"),
                                 "organization_name": req["organization"]["name"]},
                   "requester_email": req.get("email"), "requester_name": req.get("full_name"), "source_name": "Email" if n % 2 else "Portal",
                   "basic_info": {"catalogue_name": "Hardware"}, "is_merge_incident": n == 7, "is_archive": n == 8,
                   "creation_time": created.isoformat() + "+05:30",
                   "last_update_time": (created + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S"),
                   "sla_info": {"response_due": (created + timedelta(hours=4)).isoformat()}, "impacted_asset": []}
            if n == 1:
                row.pop("priority_name")
                row.pop("urgency_name")
                truth.add_messy("priority_code_only", ident)
            if n == 2:
                row.pop("description")
                truth.add_messy("description_only_in_detail", ident)
            if n == 3:
                row["requester_email"] = None
                row["requester"]["email"] = None
                truth.add_messy("incident_without_requester_email", ident)
            incidents.append(row)
            self.details[ident] = {
                "incident": {"incident_id": ident, "display_id": row["display_id"], "creation_time": row["creation_time"],
                             "basic_info": {"summary": row["summary"], "description": f"<p>Details of {n}</p>",
                                                                  "status": row["status"], "priority": priority},
                             "current_assignment_info": {"group": 70, "group_name": "L1", "assignee": 90 + n % 5,
                                                         "assignee_profile": {"profile_id": 90 + n % 5, "full_name": f"Tech {n % 5}",
                                                                              "email": f"tech{n % 5}@acme.example.com"}}},
                "options": {"status": TENANT_STATUSES, "urgency": TENANT_URGENCIES, "severity": TENANT_SEVERITIES,
                            "priority_matrix": {str(p["id"]): p for p in TENANT_PRIORITIES}, "teams": [], "users": []},
            }
            n_conv = rnd.randint(0, 3) if n != 4 else 120
            if n in (8, 12):
                n_conv = max(1, n_conv)  # they carry the messy attachments
            if n == 4:
                truth.add_messy("conversation_longer_than_a_page", ident)
            convs = []
            for c in range(n_conv):
                conv = {"id": f"{ident}-c{c}", "ref_id": ident, "type": "Email" if c % 2 == 0 else "Reply",
                        "content": f"<p>Message {c}</p>", "is_private": False,
                        "created_by": {"full_name": req.get("full_name"), "email": req.get("email")},
                        "creation_time": (created + timedelta(minutes=10 * (c + 1))).isoformat() + "+05:30", "attachments": []}
                if c == 0 and n % 4 == 0:
                    file_no += 1
                    self.files[str(file_no)] = f"file {file_no} of {ident}".encode()
                    conv["attachments"] = [{"file_name": f"shot{file_no}.png", "file_url": f"{ATTACHMENT_PATH}{file_no}/", "size": 16}]
                    attachments["conversations"] += 1
                if c == 0 and n == 8:
                    conv["attachments"].append({"file_name": "cdn.pdf", "file_url": f"https://{FOREIGN_HOST}/f/cdn.pdf"})
                    self.files["cdn"] = b"cdn bytes"
                    attachments["conversations"] += 1
                    truth.add_messy("attachment_on_other_host", conv["id"])
                if c == 0 and n == 12:
                    conv["attachments"].append({"file_name": "lost.txt", "file_url": f"{ATTACHMENT_PATH}999999/"})
                    attachments["conversations"] += 1
                    truth.missing_attachments += 1
                    truth.add_messy("attachment_missing", conv["id"])
                convs.append(conv)
            self.parts["conversations"][ident] = convs
            if convs:
                conv_children[ident] = len(convs)
            notes = [{"id": f"{ident}-n{k}", "ref_id": ident, "type": "Add Notes", "content": f"<p>Note {k}</p>",
                      "is_private": True, "created_by": {"full_name": "Tech 0", "email": "tech0@acme.example.com"},
                      "creation_time": (created + timedelta(hours=1, minutes=k)).isoformat() + "+05:30"} for k in range(n % 3)]
            self.parts["notes"][ident] = notes
            if notes:
                note_children[ident] = len(notes)
        if self.messy_rows:
            odd, huge = incidents[-1], incidents[-2]
            odd["summary"] = f"Caf{INVALID_BYTE} machine"
            odd["description"] = f"<p>Caf{INVALID_BYTE} au lait</p>"
            truth.add_messy("undecodable_text", odd["incident_id"])
            huge["description"] = "<p>" + "A log line that goes on. " * 44_000 + "</p>"
            truth.add_messy("large_body", huge["incident_id"])
            incidents.append({**incidents[0], "incident_id": None, "display_id": "INC-99999"})
            truth.add_messy("record_without_id", "")
        self.lists["incidents"] = incidents
        counts["incidents"] = len(incidents) - self.messy_rows  # the one without an id is not read
        counts["conversations"] = sum(conv_children.values())
        counts["notes"] = sum(note_children.values())
        truth.children = {"conversations": conv_children, "notes": note_children}
        truth.attachments = attachments
        counts.update(statuses=5, priorities=5, urgencies=3, impacts=5, severities=4)

    # -- HTTP ---------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        n = len(self.requests)
        faults = self.faults
        if faults.down:
            raise httpx.ConnectTimeout("timed out", request=request)
        if request.url.host == FOREIGN_HOST:
            return httpx.Response(200, content=self.files["cdn"])
        if n <= faults.rate_limit_storm or (faults.rate_limit_every and n % faults.rate_limit_every == 0):
            return json_response(429, {"detail": "Request was throttled."}, {"Retry-After": "2"})
        if faults.unavailable_every and n % faults.unavailable_every == 0:
            return text_response(503, "Service Unavailable")
        path = request.url.path
        if path == TOKEN_PATH and request.method == "POST":
            return self._login(request)
        if not self._authorized(request.headers.get("Authorization", "")):
            return json_response(401, {"detail": "Invalid token."})
        if path.startswith(ATTACHMENT_PATH):
            key = path[len(ATTACHMENT_PATH):].strip("/")
            return httpx.Response(200, content=self.files[key]) if key in self.files else json_response(404, {"detail": "Not found."})
        if path.startswith("/ux/sd/inci/incident/") and path.count("/") == 6 and path != DEFAULT_ENDPOINTS["notes"]["path"]:
            ident = path.rstrip("/").rsplit("/", 1)[-1]
            if "incidents" in faults.forbidden:
                return json_response(403, {"detail": "You do not have permission to perform this action."})
            return json_response(200, self.details[ident]) if ident in self.details else json_response(404, {"detail": "Not found."})
        name = self._paths.get(path)
        if name is None or name not in self.lists and name not in self.parts:  # a module this tenant lacks
            return json_response(404, {"detail": "Not found."})
        if name in faults.missing:
            return json_response(404, {"detail": "Not found."})
        if name in faults.forbidden:
            return json_response(403, {"detail": "You do not have permission to perform this action."})
        if name in faults.malformed:
            return text_response(200, "<html>Gateway</html>", "text/html")
        if name in faults.wrong_shape:
            return json_response(200, {"data": []})
        if name in self.parts:
            ref = request.url.params.get("ref_id", "")
            items = [i for rows in self.parts[name].values() for i in rows] if faults.ignores_parent_filter else self.parts[name].get(ref, [])
        else:
            items = self.lists[name]
        return self._page(request, name, items)

    def _login(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            body = {}
        if body.get("username") != self.username or body.get("password") != self.password:
            return json_response(400, {"non_field_errors": ["Unable to log in with provided credentials."]})
        token = f"tok{len(self.tokens) + 1:04d}{self.seed}"
        self.tokens[token] = len(self.requests)
        return json_response(200, {"token": token})

    def _authorized(self, header: str) -> bool:
        style = self.faults.auth_style
        if style == "api_key":
            return header == self.api_key
        if style == "api_key_prefixed":
            return header == f"ApiKey {self.api_key}"
        issued = self.tokens.get(header)
        if issued is None:
            return False
        return not self.faults.token_lifetime or len(self.requests) - issued <= self.faults.token_lifetime

    def _page(self, request: httpx.Request, name: str, items: list[dict]) -> httpx.Response:
        per_page = max(1, min(int(request.url.params.get("items_per_page", 10)), self.faults.max_page_limit))
        page = max(1, int(request.url.params.get("page", 1)))
        if name in self.faults.ignores_page:
            page = 1
        last = max(1, -(-len(items) // per_page))
        endless = name in self.faults.endless
        shown = min(page, last) if endless else page
        chunk = items[(shown - 1) * per_page: shown * per_page]
        more = endless or page < last or name in self.faults.ignores_page
        url = request.url
        nxt = str(url.copy_set_param("page", page + 1)) if more else None
        prev = str(url.copy_set_param("page", page - 1)) if page > 1 else None
        return json_response(200, {"count": len(items), "next": nxt, "previous": prev, "results": chunk,
                                   "max_page_limit": self.faults.max_page_limit})
