"""A sample Track-It! help desk: dbo.tasks, dbo.TaskNote and the vTASKS_BROWSE view in SQLite,
one attachment folder per work order, times written in the server's local time.

Public sources show only tasks, TaskNote and the view's columns (sources.md section 2);
the view's own sources are not public, so it is built here over two stand-in tables
(`Requestors`, `WorkOrderStatus`) that the connector never reads. TaskNote's columns
mirror the Web API's note fields. HDUsers, HDGroups, KBArticles and Assets are the
vendor-page tables, present here so the connector's handling of optional tables runs;
ConfigItems and ChangeRequests are left out on purpose.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.samples.fake import Fake, sql_time
from connectors.samples.manifest import Manifest
from connectors.samples.messy_rows import KeyedTable, plant_messy_rows
from connectors.samples.writer import SampleWriter

DDL = """
CREATE TABLE Requestors (RequestorId INTEGER PRIMARY KEY, FirstName NVARCHAR(50), LastName NVARCHAR(50),
    Email NVARCHAR(255));
CREATE TABLE WorkOrderStatus (WorkOrderStatusId INTEGER PRIMARY KEY, Name NVARCHAR(50));
CREATE TABLE tasks (WOID INTEGER PRIMARY KEY, WO_NUM INTEGER, TASK NVARCHAR(255), DESCRIPT TEXT, NOTE TEXT,
    REQUEST NVARCHAR(100), RESPONS NVARCHAR(100), PRIORITY NVARCHAR(20), TYPE NVARCHAR(50), WOTYPE2 NVARCHAR(50),
    WOTYPE3 NVARCHAR(50), DEPT NVARCHAR(50), LOOKUP1 NVARCHAR(100), LOOKUP2 NVARCHAR(100), REQDATE DATETIME,
    DUEDATE DATETIME, MODIDATE DATETIME, CLSDDATE DATETIME, WorkOrderStatusId INTEGER, RequestorId INTEGER,
    WO_TEXT1 NVARCHAR(255), WO_TEXT2 NVARCHAR(255), HOURS FLOAT);
CREATE UNIQUE INDEX ix_tasks_wonum ON tasks (WO_NUM);
CREATE TABLE TaskNote (TaskNoteId INTEGER PRIMARY KEY, WOID INTEGER, CreatedDate DATETIME, CreatedBy NVARCHAR(100),
    FullText TEXT, IsPrivate BOOLEAN, WorkOrderNoteTypeId INTEGER, ActivityCode NVARCHAR(20), MessageType INTEGER);
CREATE INDEX ix_tasknote_woid ON TaskNote (WOID);
CREATE VIEW vTASKS_BROWSE AS
    SELECT t.WO_NUM AS WO_NUM, t.WOID AS woid, t.TASK AS task,
           r.FirstName || ' ' || r.LastName AS request_fullname, r.Email AS request_email,
           t.RESPONS AS RESPONS, s.Name AS WorkOrderStatusName,
           CASE WHEN s.Name = 'Closed' THEN 'Completed' ELSE 'Open' END AS Status,
           t.LOOKUP1 AS LOOKUP1, t.LOOKUP2 AS LOOKUP2, NULL AS TaskLookup3, NULL AS TaskLookup4, t.WO_TEXT2 AS WO_TEXT2
    FROM tasks t
    LEFT JOIN Requestors r ON r.RequestorId = t.RequestorId
    LEFT JOIN WorkOrderStatus s ON s.WorkOrderStatusId = t.WorkOrderStatusId;
CREATE TABLE HDUsers (UserId INTEGER PRIMARY KEY, LoginId NVARCHAR(50), FullName NVARCHAR(100), Email NVARCHAR(255),
    Password NVARCHAR(100), GroupId INTEGER, IsTechnician BOOLEAN, LastLogin DATETIME);
CREATE TABLE HDGroups (GroupId INTEGER PRIMARY KEY, GroupName NVARCHAR(100), Description NVARCHAR(255));
CREATE TABLE KBArticles (ArticleId INTEGER PRIMARY KEY, Title NVARCHAR(255), Body TEXT, Category NVARCHAR(100),
    CreatedDate DATETIME, ModifiedDate DATETIME, IsPublished BOOLEAN);
CREATE TABLE Assets (AssetId INTEGER PRIMARY KEY, AssetName NVARCHAR(100), SerialNumber NVARCHAR(50),
    Model NVARCHAR(100), Location NVARCHAR(100), PurchaseDate DATETIME);
"""

START, END = datetime(2019, 1, 1), datetime(2024, 6, 30)
SENTINEL = datetime(1900, 1, 1)
FUTURE = datetime(2099, 1, 1, 9, 30)
STATUSES = [(1, "Open"), (2, "Escalated"), (3, "Paused"), (4, "Closed"), (5, "Cancelled")]
PRIORITIES = ("Routine", "High", "Urgent", "Critical")
NOTE_TYPES = ((1, "Technician Note"), (2, "Ticket Description"), (3, "Ticket Resolution"))
DEPARTMENTS = ("Finance", "Sales", "Warehouse", "HR", "IT")
CATEGORIES = ("Hardware", "Software", "Network", "Access", "Email")
MIN_TICKETS = 30
DEFAULT_ZONE = "Europe/Berlin"


class _Desk:
    def __init__(self, folder: Path, size: int, seed: int, zone: str, large_body: int, files: bool) -> None:
        self.fake = Fake(seed)
        self.rng = self.fake.rng
        self.size = size
        ZoneInfo(zone)  # fail early on a bad name; the times written are wall-clock times in it
        self.large_body = large_body
        self.db = folder / "trackit.db"
        self.root = folder / "IncidentRepository"
        self.out = SampleWriter(self.db, DDL, self.root, write_files=files)
        self.manifest = Manifest(
            platform="trackit",
            seed=seed,
            size=size,
            database=str(self.db),
            attachments=str(self.root),
            options={"sqlite": str(self.db), "attachments": str(self.root), "timezone": zone},
        )

    def add(self, table: str, *rows: tuple) -> None:
        for row in rows:
            self.out.add(table, row)

    def people(self) -> None:
        m = self.manifest
        self.add("WorkOrderStatus", *STATUSES)
        self.technicians = []
        for _ in range(max(3, min(25, self.size // 150))):
            first, last = self.fake.person()
            self.technicians.append(f"{first} {last}")
        self.add(
            "HDGroups",
            (1, "Service Desk", "first line"),
            (2, "Infrastructure", "servers and network"),
            (3, "Applications", "business software"),
        )
        for i, name in enumerate(self.technicians, 1):
            first, last = name.split()
            self.add(
                "HDUsers",
                (
                    i,
                    f"{first[0]}{last}".upper(),
                    name,
                    f"{first}.{last}@corp.example".lower(),
                    f"hash{i}",
                    1 + i % 3,
                    1,
                    sql_time(self.fake.when(START, END)),
                ),
            )
        twin = len(self.technicians) + 1
        first, last = self.technicians[0].split()
        first_email = f"{first}.{last}@corp.example".lower()
        self.add(
            "HDUsers",
            (twin, "HELPDESK2", self.technicians[0] + " (second login)", first_email.upper(), "hash", 1, 1, None),
        )
        m.plant("duplicate_email_case", "hd_users", 1)
        m.plant("duplicate_email_case", "hd_users", twin)
        m.counts.update(hd_users=twin, hd_groups=3)

        self.requestors: list[tuple[int, str, str | None]] = []  # (id, full name, email)
        n = max(20, self.size // 4)
        for i in range(n):
            first, last = self.fake.person()
            email = f"{first.lower()}.{last.lower()}{i}@corp.example"
            self.add("Requestors", (i + 1, first, last, email))
            self.requestors.append((i + 1, f"{first} {last}", email))
        self.special: list[tuple[int, str, str | None]] = []  # requestors each given one work order
        extra = [
            ("contact_no_email", "Walk", f"In{n}", None),
            ("contact_no_email", "Phone", f"Caller{n}", ""),
            ("contact_invalid_email", "Bad", "Address", "bad.address(at)corp.example"),
            ("contact_invalid_email", "Half", "Typed", "half.typed@"),
        ]
        for case, first, last, email in extra:
            rid = len(self.requestors) + len(self.special) + 1
            self.add("Requestors", (rid, first, last, email))
            self.special.append((rid, f"{first} {last}", email))
            m.plant(case, "requesters", email.lower() if email else f"name:{first.lower()} {last.lower()}")
        base = self.requestors[0]
        rid = len(self.requestors) + len(self.special) + 1
        self.add("Requestors", (rid, *base[1].split(), base[2].upper()))
        self.special += [base, (rid, base[1], base[2].upper())]
        m.plant("requester_case_merged", "requesters", base[2].lower())

    def tickets(self) -> None:
        m = self.manifest
        ids = list(range(1, self.size + 1))
        roles = self.rng.sample(ids, 20)
        orphans, empty, huge, large = roles[0:2], roles[2:4], roles[4], roles[5]
        nul_ticket, nul_note, moji_ticket, moji_note = roles[6:10]
        null_date, sentinel, future, null_note = roles[10:14]
        many_files, odd_files, long_cf, longer_cf = roles[14], roles[15], roles[16:18], roles[18]
        zero_padded = roles[19]
        forced = dict(
            zip(self.rng.sample([i for i in ids if i not in roles], len(self.special)), self.special, strict=True)
        )
        used_requesters: set[str] = set()
        used_technicians: set[str] = set()
        used_companies: set[str] = set()
        statuses: set[int] = set()
        priorities: set[str] = set()
        note_count = 0
        note_id = 0
        for woid in ids:
            wo_num = 1000 + woid
            rid, name, email = forced.get(woid) or self.requestors[self.rng.randrange(len(self.requestors))]
            request = name
            if woid in orphans:
                rid, request = 90000 + woid, f"Unknown Person {woid}"
                m.plant("orphan_ticket", "tickets", woid)
            else:
                used_requesters.add(email.lower() if email else f"name:{name.lower()}")
            technician = (
                self.technicians[self.rng.randrange(len(self.technicians))] if self.rng.random() > 0.1 else None
            )
            if technician:
                used_technicians.add(technician.lower())
            status = STATUSES[self.rng.randrange(len(STATUSES))][0]
            statuses.add(status)
            priority = PRIORITIES[self.rng.randrange(len(PRIORITIES))] if self.rng.random() > 0.05 else None
            if priority:
                priorities.add(priority)
            opened = self.fake.when(START, END)
            shown: datetime | None = opened
            subject = self.fake.subject()
            if woid == null_date:
                shown = None
                m.plant("null_date", "tickets", woid)
            elif woid == sentinel:
                shown = SENTINEL
                m.plant("sentinel_date", "tickets", woid)
            elif woid == future:
                shown = FUTURE
                m.plant("future_date", "tickets", woid)
            if woid == nul_ticket:
                subject = "Scanner\x00 offline"
                m.plant("nul_characters", "tickets", woid)
            if woid == moji_ticket:
                subject = "Zugriff fÃ¼r neue Mitarbeiterin"
                m.plant("mojibake", "tickets", woid)
            description = "" if woid in empty else self.fake.paragraph(2)
            notes = 0 if woid in empty else 505 if woid == huge else self.rng.randint(1, 5)
            if woid in empty:
                m.plant("ticket_without_messages", "tickets", woid)
            if woid == huge:
                m.plant("over_500_parts", "tickets", woid)
            moment = opened
            for j in range(notes):
                note_id += 1
                moment = self.fake.later(moment, 30)
                text = self.fake.paragraph(self.rng.randint(1, 3))
                created: datetime | None = moment
                if j == 0:
                    if woid == large:
                        unit = "Trace: " + self.fake.paragraph(4) + "\n"
                        text = unit * (self.large_body // len(unit) + 1)
                        m.plant("large_body", "notes", note_id)
                    if woid == nul_note:
                        text = "Memory dump\x00\x00 attached"
                        m.plant("nul_characters", "notes", note_id)
                    if woid == moji_note:
                        text = "Der Drucker im BÃ¼ro ist defekt"
                        m.plant("mojibake", "notes", note_id)
                    if woid == null_note:
                        created = None
                        m.plant("null_date", "notes", note_id)
                kind = NOTE_TYPES[0 if j else 1][0]
                self.add(
                    "TaskNote",
                    (
                        note_id,
                        woid,
                        sql_time(created),
                        technician or "HELPDESK",
                        text,
                        int(self.rng.random() < 0.3),
                        kind,
                        "NOTE",
                        0,
                    ),
                )
                note_count += 1
            closed = self.fake.later(moment) if status in (4, 5) else None
            text1 = None
            if woid in long_cf:
                text1 = ("Asset history: " + "a" * 300)[:300]
                m.plant("custom_field_over_255", "tickets", woid)
            elif woid == longer_cf:
                text1 = ("Contract: " + "b" * 600)[:600]
                m.plant("custom_field_over_255", "tickets", woid)
                m.plant("custom_field_over_512", "tickets", woid)
            elif self.rng.random() < 0.2:
                text1 = f"PC-{self.rng.randint(1000, 9999)}"
            self.add(
                "tasks",
                (
                    woid,
                    wo_num,
                    subject,
                    description,
                    self.fake.paragraph(1) if self.rng.random() < 0.3 else None,
                    request,
                    technician,
                    priority,
                    "Incident" if woid % 4 else "Request",
                    CATEGORIES[woid % len(CATEGORIES)],
                    CATEGORIES[(woid * 3) % len(CATEGORIES)],
                    DEPARTMENTS[woid % len(DEPARTMENTS)],
                    self._company(woid, used_companies),
                    None,
                    sql_time(shown),
                    sql_time(opened + timedelta(days=3)),
                    sql_time(moment),
                    sql_time(closed),
                    status,
                    rid,
                    text1,
                    None,
                    round(self.rng.random() * 4, 2),
                ),
            )
            self._attachments(woid, wo_num, many_files, odd_files, zero_padded)
        for k in range(2):  # notes of work orders that do not exist
            note_id += 1
            self.add(
                "TaskNote",
                (note_id, 70000 + k, sql_time(self.fake.when(START, END)), "HELPDESK", "stray note", 0, 1, "NOTE", 0),
            )
            note_count += 1
            m.plant("orphan_note", "notes", note_id)
        self.out.file(Path("99999") / "stray.txt", b"no such work order")
        m.plant("orphan_attachment_folder", "tickets", "99999")
        # requesters are read from the view: the requestors some work order names
        m.counts.update(
            tickets=self.size,
            notes=note_count,
            requesters=len(used_requesters),
            companies=len(used_companies),
            technicians=len(used_technicians),
            statuses=len(statuses),
            priorities=len(priorities),
        )

    def _company(self, woid: int, used: set[str]) -> str:
        name = self.fake.company(woid % 40)[0]
        used.add(name.strip().casefold())
        return name

    def _attachments(self, woid: int, wo_num: int, many: int, odd: int, padded: int) -> None:
        m = self.manifest
        if woid == many:
            for i in range(12):
                self.out.file(Path(str(wo_num)) / f"photo-{i + 1:02d}.jpg", self.rng.randbytes(300))
            m.plant("over_10_attachments", "tickets", woid)
            m.attachment_counts["tickets"] = m.attachment_counts.get("tickets", 0) + 12
        elif woid == odd:
            for name, size in (("tool.exe", 400), ("saver.scr", 300), ("empty.log", 0), ("sub/notes.txt", 50)):
                self.out.file(Path(str(wo_num)) / name, self.rng.randbytes(size))
                m.attachment_counts["tickets"] = m.attachment_counts.get("tickets", 0) + 1
            m.plant("restricted_attachment", "tickets", f"{woid}/tool.exe")
            m.plant("restricted_attachment", "tickets", f"{woid}/saver.scr")
            m.plant("zero_byte_attachment", "tickets", f"{woid}/empty.log")
        elif woid == padded or self.rng.random() < 0.08:
            name = f"{wo_num:08d}" if woid == padded else str(wo_num)
            self.out.file(Path(name) / "screenshot.png", self.rng.randbytes(self.rng.randint(100, 3000)))
            m.attachment_counts["tickets"] = m.attachment_counts.get("tickets", 0) + 1
            if woid == padded:
                m.plant("zero_padded_folder", "tickets", woid)

    def optional_tables(self) -> None:
        for i in range(1, 9):
            created = self.fake.when(START, END)
            self.add(
                "KBArticles",
                (
                    i,
                    f"How to: {self.fake.subject().lower()}",
                    self.fake.html(self.fake.paragraph(4)),
                    CATEGORIES[i % len(CATEGORIES)],
                    sql_time(created),
                    sql_time(self.fake.later(created, 900)),
                    int(i != 8),
                ),
            )
        for i in range(1, 13):
            self.add(
                "Assets",
                (
                    i,
                    f"PC-{1000 + i}",
                    f"SN{self.fake.hexname(8).upper()}",
                    "Latitude 7420",
                    DEPARTMENTS[i % len(DEPARTMENTS)],
                    sql_time(self.fake.when(START, END)),
                ),
            )
        self.manifest.counts.update(kb_articles=8, assets=12)

    def write(self) -> None:
        self.out.close()


def generate_trackit(
    folder: str | Path,
    *,
    tickets: int = 200,
    seed: int = 11,
    timezone: str = DEFAULT_ZONE,
    large_body: int = 1_100_000,
    attachment_files: bool = True,
    messy_rows: bool = False,
) -> Manifest:
    """Write `trackit.db` and `IncidentRepository/` into `folder`; return the ground truth.

    Work-order dates are wall-clock times in `timezone` (the manifest's options carry it).
    `messy_rows`: work orders and notes with NULL, blank and malformed keys and undecodable
    text too.
    """
    desk = _Desk(Path(folder), max(MIN_TICKETS, tickets), seed, timezone, large_body, attachment_files)
    desk.people()
    desk.tickets()
    desk.optional_tables()
    desk.write()
    if messy_rows:
        plant_messy_rows(str(desk.db), desk.manifest, [KeyedTable("tasks", "WOID", "tickets", "DESCRIPT", ("WO_NUM",)),
                                                       KeyedTable("TaskNote", "TaskNoteId", "notes", "FullText")])
    desk.manifest.sort()
    return desk.manifest
