"""An Infraon Desk tenant, written from sources.md §4 and the FortiSOAR connector it cites.

Documented behaviour it follows:
- auth: an API key in `Authorization` (raw, or `ApiKey <key>`), or a token from
  `POST /ux/api-token-auth/` sent raw;
- `GET /ux/sd/inci/incident/?items_per_page=&page=` answers `{count, next, previous,
  results, max_page_limit}`; items carry `incident_id`, `display_id`, `requester{}`,
  `basic_info{}`, `source_info{}`, `close_info{}`, `is_archive`, `is_merge_incident`;
- `GET /ux/sd/inci/incident/{id}/` answers `{incident{basic_info{summary, description,
  status, urgency, severity, priority}, current_assignment_info{group, group_name,
  assignee, assignee_profile{profile_id, full_name, email}}}, options{teams[{team_id,
  name, staffs[], owner[]}], users[{profile_id, full_name, email}], status[], urgency[],
  severity[], priority_matrix{}}, status, transition_status, stage_state_option_map}`;
- `GET /ux/sd/inci/conversation/` lists conversation entries; an entry belongs to an
  incident through `ref_id`; notes are entries of type "Add Notes" with `is_private`,
  and a priority change writes an entry of type "Priority Change".

Choices of its own where nothing is documented:
- only the incident and conversation routes exist; requesters are listed at
  `requesters_path` (None: nowhere), technicians and companies at no route we know
  (the users come from the incident options), and `forbidden` paths answer 403;
- list items leave the description out (it is in the detail); ids are numbers; a page
  past the end answers 404 "Invalid page", as Django REST Framework does;
- an entry names its writer in `creator_info{id, name, email, user_type}`, its text in
  `description` (HTML, sometimes `<p></p>` when only files were sent) and its files in
  `attachments[{file_name, file_path, formatted_size}]`, downloaded from this host with
  the same authorization; status changes write "Status Change" entries;
- `ref_id_filter=False`: the conversation list ignores `ref_id` and lists everything;
- throttling answers 429 with `Retry-After`;
- a second ticket module, "Request Process" (named in the API guide's module list, with no
  route or schema documented), is offered only when `requests_path` is set; the route is
  this tenant's own choice, and its items carry `request_id`, `display_id`, `requester{}`
  and `basic_info{}` like incidents do.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from connectors.samples.fake_http import InProcess, json_response, text_response
from connectors.samples.ground_truth import GroundTruth

INCIDENTS = "/ux/sd/inci/incident/"
CONVERSATIONS = "/ux/sd/inci/conversation/"
TOKEN = "/ux/api-token-auth/"
FILES = "/ux/common/attachment/download/"
START = datetime(2021, 1, 4, 9, 0, 0)
SYSTEM_TYPES = ("Status Change", "Priority Change")
STATUSES = [{"id": n + 1, "name": t} for n, t in enumerate(["New", "Assigned", "In Progress", "Resolved", "Closed"])]
PRIORITIES = {str(n + 1): {"id": n + 1, "name": t} for n, t in enumerate(["Critical", "High", "Medium", "Low", "Very Low"])}
URGENCIES = [{"id": 1, "name": "High"}, {"id": 2, "name": "Medium"}, {"id": 3, "name": "Low"}]
SEVERITIES = [{"id": 1, "name": "Major"}, {"id": 2, "name": "Minor"}]


@dataclass(frozen=True)
class InfraonBehaviour:
    auth: str = "api_key"  # api_key (raw) | api_key_prefixed | token
    max_page_limit: int = 100
    ref_id_filter: bool = True
    requesters_path: str | None = "/ux/common/requester/requester/"
    forbidden: frozenset[str] = frozenset({"/ux/common/org/organization/"})
    requests_path: str | None = None  # e.g. "/ux/sd/request/request/": undocumented, the tenant's choice
    service_requests: int = 7
    throttle_every: int = 0
    retry_after: str = "1"


@dataclass
class InfraonTenant(InProcess):
    tickets: int = 300
    seed: int = 5
    api_key: str = "tenant-api-key-c1d2e3"
    username: str = "migration.bot"
    password: str = "s3cret-pass"
    host: str = "tenant.infraon.test"
    behaviour: InfraonBehaviour = field(default_factory=InfraonBehaviour)

    def __post_init__(self) -> None:
        self.incidents: list[dict] = []
        self.details: dict[str, dict] = {}
        self.entries: list[dict] = []
        self.requesters: list[dict] = []
        self.users: list[dict] = []
        self.teams: list[dict] = []
        self.files: dict[str, bytes] = {}
        self.requests: list[httpx.Request] = []
        self.tokens: set[str] = set()
        self.truth = GroundTruth("infraon")
        self._generate(random.Random(self.seed))

    # -- wiring -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"https://{self.host}"

    def options(self, **overrides: Any) -> dict[str, Any]:
        opts: dict[str, Any] = {"base_url": self.base_url, "time_zone": "Asia/Kolkata"}
        if self.behaviour.auth == "token":
            opts["username"] = self.username
        return {**opts, **overrides}

    def secret(self, name: str) -> str | None:
        return {"infraon_api_key": self.api_key, "infraon_password": self.password}.get(name)

    # -- data ---------------------------------------------------------------------

    def _generate(self, rnd: random.Random) -> None:
        truth, counts = self.truth, self.truth.counts
        self.users = [{"profile_id": 300 + n, "full_name": f"Agent {n}", "email": f"agent{n}@tenant.example"} for n in range(6)]
        staff_only = {"profile_id": 399, "full_name": "Night Shift", "email": "night@tenant.example"}
        self.teams = [
            {"team_id": 41, "name": "Service Desk", "staffs": self.users[:4], "owner": [self.users[0]]},
            {"team_id": 42, "name": "Infrastructure", "staffs": [*self.users[4:], staff_only], "owner": [self.users[4]]},
        ]
        technicians = [*self.users, staff_only]
        counts["technicians"] = len(technicians)
        counts["teams"] = len(self.teams)
        orgs = ["Alpha Ltd", "Beta Pvt", "Gamma Inc"]
        for n in range(self.tickets // 3 + 8):
            self.requesters.append({"requester_id": 900 + n, "full_name": f"Requester {n}",
                                    "email": f"r{n}@customer{n % 3}.example", "phone": f"+91 99{n:08d}",
                                    "organization": {"id": 60 + n % 3, "name": orgs[n % 3]}})
        self.requesters[2]["email"] = ""
        truth.add_messy("requester_without_email", "902")
        self.requesters[5]["email"] = self.requesters[4]["email"].upper()
        truth.add_messy("requester_duplicate_email", "905")
        used: set[int] = set()
        entry_id = 70000
        notes = system = empty_with_files = files = 0
        for i in range(self.tickets):
            ident = 10000 + i
            req = self.requesters[rnd.randrange(len(self.requesters))]
            used.add(req["requester_id"])
            created = START + timedelta(hours=9 * i)
            agent = technicians[i % len(technicians)]
            status, priority = STATUSES[i % 5], PRIORITIES[str(i % 5 + 1)]
            basic = {"summary": f"VPN drops on site {i % 9}", "status": status, "priority": priority,
                     "urgency": URGENCIES[i % 3], "severity": SEVERITIES[i % 2]}
            self.incidents.append({
                "incident_id": ident, "display_id": f"IM-{i + 1:05d}", "is_merge_incident": False,
                "is_archive": i % 50 == 49,
                "requester": {"requester_id": req["requester_id"], "full_name": req["full_name"], "email": req["email"],
                              "organization_name": req["organization"]["name"]},
                "reporter_info": {}, "basic_info": basic, "source_info": {"name": "Email" if i % 2 else "Portal"},
                "impacted_asset": [], "close_info": {"closed_on": None},
                "creation_time": created.isoformat() + "+05:30",
            })
            self.details[str(ident)] = {
                "incident": {"incident_id": ident, "display_id": f"IM-{i + 1:05d}",
                             "basic_info": {**basic, "description": f"<p>Site {i % 9} loses VPN every hour ({i})</p>"},
                             "current_assignment_info": {"group": self.teams[i % 2]["team_id"],
                                                         "group_name": self.teams[i % 2]["name"],
                                                         "assignee": agent["profile_id"], "assignee_profile": agent}},
                "options": {"teams": self.teams, "users": self.users, "status": STATUSES, "urgency": URGENCIES,
                            "severity": SEVERITIES, "priority_matrix": PRIORITIES},
                "status": status, "transition_status": [], "stage_state_option_map": {},
            }
            for c in range(rnd.randint(0, 5)):
                entry_id += 1
                when = created + timedelta(minutes=30 * (c + 1))
                kind = ["Email", "Reply", "Add Notes", "Email", "Status Change", "Reply"][c]
                from_requester = kind == "Email"
                if i % 13 == 6 and c == 1:
                    kind = "Priority Change"
                who = req if from_requester else agent
                entry = {"id": entry_id, "ref_id": ident, "type": kind, "is_private": kind == "Add Notes",
                         "description": f"<p>{kind} {c} on IM-{i + 1:05d}</p>",
                         "created_by": who.get("profile_id", who.get("requester_id")),
                         "creator_info": {"id": who.get("profile_id", who.get("requester_id")), "name": who["full_name"],
                                          "email": who["email"], "user_type": "requester" if from_requester else "user"},
                         "creation_time": when.isoformat() + "+05:30", "attachments": []}
                if kind in SYSTEM_TYPES:
                    entry["description"] = "<p></p>" if c % 2 else f"<p>{kind}: {status['name']}</p>"
                    system += 1
                if kind == "Add Notes":
                    notes += 1
                if from_requester and i % 10 == 3:
                    entry["description"] = "<p></p>"  # the mail held only files
                    empty_with_files += 1
                    truth.add_messy("entry_without_text_but_files", str(entry_id))
                    for k in range(2):
                        token = f"{entry_id}-{k}"
                        self.files[token] = f"bytes of file {token}".encode()
                        entry["attachments"].append({"file_name": f"photo{k}.jpg", "file_path": f"{FILES}?file={token}",
                                                     "formatted_size": "0.1 KB"})
                        files += 1
                self.entries.append(entry)
        counts["incidents"] = self.tickets
        self.service_requests = [
            {"request_id": 50000 + n, "display_id": f"SR-{n + 1:05d}",
             "requester": {"requester_id": self.requesters[n]["requester_id"], "full_name": self.requesters[n]["full_name"],
                           "email": self.requesters[n]["email"]},
             "basic_info": {"summary": f"New laptop for desk {n}", "status": STATUSES[n % 5], "priority": PRIORITIES["3"]},
             "creation_time": (START + timedelta(days=n)).isoformat() + "+05:30"}
            for n in range(self.behaviour.service_requests if self.behaviour.requests_path else 0)
        ]
        counts["service_requests"] = len(self.service_requests)
        counts["conversations"] = len(self.entries)
        counts["requesters"] = len(self.requesters)
        counts["requesters_of_incidents"] = len(used)
        truth.children = {"conversations": {}}
        for entry in self.entries:
            key = str(entry["ref_id"])
            truth.children["conversations"][key] = truth.children["conversations"].get(key, 0) + 1
        truth.attachments = {"conversations": files}
        counts["notes_in_conversations"] = notes
        counts["system_entries"] = system
        counts["entries_without_text_with_files"] = empty_with_files

    # -- HTTP ---------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        b = self.behaviour
        if b.throttle_every and len(self.requests) % b.throttle_every == 0:
            return json_response(429, {"detail": "Request was throttled. Expected available in 1 second."},
                                 {"Retry-After": b.retry_after})
        path = request.url.path
        if path == TOKEN and request.method == "POST":
            body = json.loads(request.content or b"{}")
            if body.get("username") != self.username or body.get("password") != self.password:
                return json_response(400, {"non_field_errors": ["Unable to log in with provided credentials."]})
            token = f"t{len(self.tokens) + 1}x{self.seed}"
            self.tokens.add(token)
            return json_response(200, {"token": token})
        if not self._authorized(request.headers.get("Authorization", "")):
            return json_response(401, {"detail": "Authentication credentials were not provided."})
        if any(path.startswith(p) for p in b.forbidden):
            return json_response(403, {"detail": "You do not have permission to perform this action."})
        if path == FILES:
            data = self.files.get(request.url.params.get("file", ""))
            return httpx.Response(200, content=data) if data is not None else json_response(404, {"detail": "Not found."})
        if path == INCIDENTS:
            return self._page(request, self.incidents)
        if path.startswith(INCIDENTS) and path.count("/") == 6:
            detail = self.details.get(path.rstrip("/").rsplit("/", 1)[-1])
            return json_response(200, detail) if detail else json_response(404, {"detail": "Not found."})
        if path == CONVERSATIONS:
            ref = request.url.params.get("ref_id")
            rows = self.entries if ref is None or not b.ref_id_filter else [e for e in self.entries if str(e["ref_id"]) == ref]
            return self._page(request, rows)
        if b.requests_path and path == b.requests_path:
            return self._page(request, self.service_requests)
        if b.requesters_path and path == b.requesters_path:
            return self._page(request, self.requesters)
        return text_response(404, "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>",
                             "text/html")

    def _authorized(self, header: str) -> bool:
        auth = self.behaviour.auth
        if auth == "api_key":
            return header == self.api_key
        if auth == "api_key_prefixed":
            return header == f"ApiKey {self.api_key}"
        return header in self.tokens

    def _page(self, request: httpx.Request, rows: list[dict]) -> httpx.Response:
        try:
            per_page = min(int(request.url.params.get("items_per_page", 10)), self.behaviour.max_page_limit)
            page = int(request.url.params.get("page", 1))
        except ValueError:
            return json_response(400, {"detail": "Invalid page."})
        if page < 1 or per_page < 1 or (page - 1) * per_page >= max(1, len(rows)) and page > 1:
            return json_response(404, {"detail": "Invalid page."})
        chunk = rows[(page - 1) * per_page: page * per_page]
        more = page * per_page < len(rows)
        return json_response(200, {
            "count": len(rows), "results": chunk, "max_page_limit": self.behaviour.max_page_limit,
            "next": str(request.url.copy_set_param("page", page + 1)) if more else None,
            "previous": str(request.url.copy_set_param("page", page - 1)) if page > 1 else None,
        })
