"""A sample SmarterTrack help desk: a SQLite file on the real st_* layout, App_Data files beside it.

Realistic in shape (agents in groups, queues, customers in organizations, threads that
alternate customer and agent, KB in three levels, chats, call logs) and planted with the
messy cases an audit must find; the manifest names every one of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from connectors.samples.fake import Fake, sql_time
from connectors.samples.manifest import Manifest
from connectors.samples.messy_rows import KeyedTable, plant_messy_rows
from connectors.samples.writer import SampleWriter

DDL = """
CREATE TABLE st_Brands (BrandId INTEGER PRIMARY KEY, BrandName NVARCHAR(100), HostHeaderValue NVARCHAR(255),
    IsDefaultBrand BOOLEAN);
CREATE TABLE st_Departments (DepartmentId INTEGER PRIMARY KEY, DisplayName NVARCHAR(100), IsDeleted BOOLEAN,
    IsInternal BOOLEAN, BrandId INTEGER);
CREATE TABLE st_Groups (GroupId INTEGER PRIMARY KEY, DepartmentId INTEGER, GroupName NVARCHAR(100),
    GroupDescription NVARCHAR(255), IsDeleted BOOLEAN);
CREATE TABLE st_Users (UserId INTEGER PRIMARY KEY, UserName NVARCHAR(100), Email NVARCHAR(255),
    DisplayName NVARCHAR(100), Password NVARCHAR(255), AuthenticationType INTEGER, Language NVARCHAR(10),
    TimeZone INTEGER, DateCreatedUtc DATETIME, DateLastLoginUtc DATETIME, IsDeleted BOOLEAN,
    IsEmailVerified BOOLEAN, IsLockedOut BOOLEAN, IsPrimaryAdmin BOOLEAN, IsQueue BOOLEAN);
CREATE TABLE st_Roles (RoleId INTEGER PRIMARY KEY, RoleName NVARCHAR(100), RoleCategory INTEGER);
CREATE TABLE st_UsersInRoles (UserId INTEGER, RoleId INTEGER, PRIMARY KEY (UserId, RoleId));
CREATE TABLE st_UsersInGroups (DepartmentId INTEGER, GroupId INTEGER, UserId INTEGER, IsGroupAdmin BOOLEAN,
    PRIMARY KEY (GroupId, UserId));
CREATE INDEX ix_usersingroups_user ON st_UsersInGroups (UserId);
CREATE TABLE st_Organizations (OrganizationId INTEGER PRIMARY KEY, OrganizationName NVARCHAR(255),
    Website NVARCHAR(255), PhoneNumber NVARCHAR(50));
CREATE TABLE st_OrganizationFilters (OrganizationFilterId INTEGER PRIMARY KEY, OrganizationId INTEGER,
    FilterType INTEGER, FilterValue NVARCHAR(255), UserId INTEGER);
CREATE TABLE st_TicketStatuses (TicketStatusId INTEGER PRIMARY KEY, EnglishName NVARCHAR(50),
    DisplayName NVARCHAR(50), SortOrder INTEGER, IsOpen BOOLEAN, IsActive BOOLEAN, IsLocked BOOLEAN);
CREATE TABLE st_TicketPriorities (TicketPriorityId INTEGER PRIMARY KEY, EnglishName NVARCHAR(50),
    DisplayName NVARCHAR(50), SortOrder INTEGER);
CREATE TABLE st_Tickets (TicketId INTEGER PRIMARY KEY, TicketNumber NVARCHAR(50), DateOpenedUtc DATETIME,
    TicketPriorityId INTEGER, TicketStatusId INTEGER, DepartmentId INTEGER, GroupId INTEGER, UserId INTEGER,
    UserIdCustomer INTEGER, Subject NVARCHAR(255), CustomerEmailAddress NVARCHAR(255),
    IdleStartTimeUtc DATETIME, ReplyCountIn INTEGER, ReplyCountOut INTEGER, IsDeleted BOOLEAN, IsSpam BOOLEAN,
    IsPinnedToAgent BOOLEAN, DateDeletedUtc DATETIME, RequiresFollowUp BOOLEAN, DateFollowUpUtc DATETIME,
    AverageSurveyRating FLOAT, DateClosedUtc DATETIME, TicketCommentIdFollowUp INTEGER);
CREATE TABLE st_TicketMessages (TicketMessageId INTEGER PRIMARY KEY, TicketId INTEGER, DateReceivedUtc DATETIME,
    UserIdFrom INTEGER, Subject NVARCHAR(255), BodyText TEXT, BodyHtml TEXT, MessageDirection INTEGER,
    FromAddress NVARCHAR(255), ToAddress NVARCHAR(255), CcAddresses NVARCHAR(1000), DeliveryStatus INTEGER,
    LastDeliveryError NVARCHAR(255), FileIdRawContent INTEGER, SmtpMessageGuid NVARCHAR(100),
    IsFirstMessageOfTicket BOOLEAN, IsDraft BOOLEAN);
CREATE INDEX ix_messages_ticket ON st_TicketMessages (TicketId);
CREATE TABLE st_CommentTypes (CommentTypeId INTEGER PRIMARY KEY, EnglishName NVARCHAR(50),
    DisplayName NVARCHAR(50), ShowInlineWithEmails BOOLEAN);
CREATE TABLE st_TicketComments (TicketCommentId INTEGER PRIMARY KEY, TicketId INTEGER, CommentTypeId INTEGER,
    UserId INTEGER, DateEnteredUtc DATETIME, CommentText TEXT);
CREATE INDEX ix_comments_ticket ON st_TicketComments (TicketId);
CREATE TABLE st_TicketAttachments (TicketAttachmentId INTEGER PRIMARY KEY, TicketId INTEGER,
    TicketMessageId INTEGER, FileNameOriginal NVARCHAR(255), FileNameOnDisk NVARCHAR(255),
    CidTagName NVARCHAR(255), Length INTEGER, Crc INTEGER, CreationDateUtc DATETIME, IsDeleted BOOLEAN,
    UserId INTEGER);
CREATE INDEX ix_attachments_message ON st_TicketAttachments (TicketMessageId);
CREATE INDEX ix_attachments_ticket ON st_TicketAttachments (TicketId);
CREATE TABLE st_CustomDataFields (CustomFieldId INTEGER PRIMARY KEY, DisplayName NVARCHAR(100),
    DataType INTEGER, DefaultValue NVARCHAR(255), Options TEXT, IsGlobal BOOLEAN);
CREATE TABLE st_CustomDataFieldsInTickets (TicketId INTEGER, CustomFieldId INTEGER, DataContent TEXT,
    PRIMARY KEY (TicketId, CustomFieldId));
CREATE INDEX ix_cf_tickets_field ON st_CustomDataFieldsInTickets (CustomFieldId);
CREATE TABLE st_CustomDataFieldsForUsers (UserId INTEGER, CustomFieldId INTEGER, DataContent TEXT,
    PRIMARY KEY (UserId, CustomFieldId));
CREATE INDEX ix_cf_users_field ON st_CustomDataFieldsForUsers (CustomFieldId);
CREATE TABLE st_KbCategories (KbCategoryId INTEGER PRIMARY KEY, KbCategoryIdParent INTEGER,
    CategoryName NVARCHAR(255), IsPrivate BOOLEAN, IsVisible BOOLEAN);
CREATE TABLE st_KbArticles (KbArticleId INTEGER PRIMARY KEY, KbCategoryId INTEGER, Subject NVARCHAR(255),
    Body TEXT, Summary TEXT, DateCreatedUtc DATETIME, DateModifiedUtc DATETIME, IsPrivate BOOLEAN,
    IsDraft BOOLEAN, IsDeleted BOOLEAN, LanguageId INTEGER, UserId INTEGER);
CREATE TABLE st_Chats (ChatId INTEGER PRIMARY KEY, ChatNumber NVARCHAR(50), DepartmentId INTEGER, GroupId INTEGER,
    UserId INTEGER, CustomerUserId INTEGER, CustomerEmailAddress NVARCHAR(255), CustomerDisplayName NVARCHAR(255),
    DateStartedUtc DATETIME, DateEndedUtc DATETIME, InitialQuestion TEXT);
CREATE TABLE st_ChatMessages (ChatMessageId INTEGER PRIMARY KEY, ChatId INTEGER, UserId INTEGER,
    DateSubmittedUtc DATETIME, ChatSenderType INTEGER, TextSubmitted TEXT, IsHtml BOOLEAN);
CREATE INDEX ix_chatmessages_chat ON st_ChatMessages (ChatId);
CREATE TABLE st_ChatAttachments (ChatAttachmentId INTEGER PRIMARY KEY, ChatId INTEGER,
    FileNameOriginal NVARCHAR(255), FileNameOnDisk NVARCHAR(255), Length INTEGER, CreationDateUtc DATETIME);
CREATE TABLE st_CallLogs (CallLogId INTEGER PRIMARY KEY, CallNumber NVARCHAR(50), DepartmentId INTEGER,
    GroupId INTEGER, UserId INTEGER, CustomerUserId INTEGER, CustomerName NVARCHAR(255),
    CustomerPhoneNumber NVARCHAR(50), CustomerEmailAddress NVARCHAR(255), Subject NVARCHAR(255),
    Description TEXT, IsOutgoing BOOLEAN, DateStartUtc DATETIME, DateEndUtc DATETIME, IsDeleted BOOLEAN);
CREATE TABLE st_CallLogAttachments (CallLogAttachmentId INTEGER PRIMARY KEY, CallLogId INTEGER,
    FileNameOriginal NVARCHAR(255), FileNameOnDisk NVARCHAR(255), Length INTEGER, CreationDateUtc DATETIME);
CREATE TABLE st_Tags (TagId INTEGER PRIMARY KEY, Name NVARCHAR(100), DateCreatedUtc DATETIME, IsDeleted BOOLEAN);
"""

START, END = datetime(2019, 1, 1), datetime(2024, 6, 30)
SENTINEL = datetime(1900, 1, 1)
FUTURE = datetime(2099, 1, 1, 9, 30)
STATUSES = [
    (1, "Open", "Open", 1, 1, 1, 0),
    (2, "Waiting", "Waiting on customer", 2, 1, 1, 0),
    (3, "Closed", "Closed", 3, 0, 1, 0),
    (4, "Closed (Locked)", "", 4, 0, 0, 1),
]
PRIORITIES = [(1, "Low", "Low", 1), (2, "Normal", "Normal", 2), (3, "High", "High", 3), (4, "Urgent", "Urgent!", 4)]
ROLES = [(1, "Administrators", 1), (2, "Agents", 1), (3, "Managers", 1), (4, "Users", 2)]
CUSTOM_FIELDS = [
    (1, "Product", 3, "", "Router\nSwitch\nFirewall\nAccess Point", 1),
    (2, "Serial Number", 1, "", None, 1),
    (3, "Contract Notes", 1, "", None, 1),
    (4, "Account Manager", 1, "", None, 1),
    (5, "VIP", 2, "False", None, 1),
    (6, "Legacy Code", 1, "", None, 0),
]
PRODUCTS = ("Router", "Switch", "Firewall", "Access Point")
FREE_MAIL = "gmail.com"
MIN_TICKETS = 30


class _Desk:
    """Writes the desk table by table as it goes, planting the messy cases on the way."""

    def __init__(self, folder: Path, size: int, seed: int, large_body: int, files: bool) -> None:
        self.fake = Fake(seed)
        self.rng = self.fake.rng
        self.size = size
        self.large_body = large_body
        self.root = folder / "App_Data"
        self.db = folder / "smartertrack.db"
        self.out = SampleWriter(self.db, DDL, self.root, write_files=files)
        self.manifest = Manifest(
            platform="smartertrack",
            seed=seed,
            size=size,
            database=str(self.db),
            attachments=str(self.root),
            options={"sqlite": str(self.db), "attachments": str(self.root)},
        )
        self.next_id: dict[str, int] = {}

    def new_id(self, table: str) -> int:
        self.next_id[table] = self.next_id.get(table, 0) + 1
        return self.next_id[table]

    def add(self, table: str, *rows: tuple) -> None:
        for row in rows:
            self.out.add(table, row)

    # -- the help desk ------------------------------------------------------------------

    def lookups(self) -> None:
        self.add("st_Brands", (1, "Acme Support", "support.acme.example", 1), (2, "Acme Pro", "pro.acme.example", 0))
        self.departments = [1, 2, 3]
        self.add(
            "st_Departments",
            (1, "Support", 0, 0, 1),
            (2, "Billing", 0, 0, 1),
            (3, "Pro Desk", 0, 1, 2),
            (4, "Old Department", 1, 0, 1),
        )
        self.groups = {1: [1, 2], 2: [3, 4], 3: [5, 6]}
        self.add(
            "st_Groups",
            *[
                (gid, dept, f"{['First', 'Second'][i % 2]} line {dept}", f"group {gid}", 0)
                for dept, gids in self.groups.items()
                for i, gid in enumerate(gids)
            ],
        )
        self.add("st_Groups", (7, 1, "Retired group", "no longer used", 1))
        self.manifest.skip("groups", "deleted", 7)
        self.manifest.skip("departments", "deleted", 4)
        self.add("st_TicketStatuses", *STATUSES)
        self.add("st_TicketPriorities", *PRIORITIES)
        self.add("st_Roles", *ROLES)
        self.add(
            "st_CommentTypes",
            (1, "Comment", "Comment", 1),
            (2, "Transfer Comment", "Transfer", 0),
            (3, "Resolution Comment", "Resolution", 1),
        )
        self.add("st_CustomDataFields", *CUSTOM_FIELDS)
        self.add(
            "st_Tags",
            *[
                (i, word, sql_time(START + timedelta(days=i)), 0)
                for i, word in enumerate(
                    (
                        "billing",
                        "network",
                        "printer",
                        "vpn",
                        "email",
                        "refund",
                        "urgent",
                        "vip",
                        "hardware",
                        "software",
                        "account",
                        "portal",
                    ),
                    1,
                )
            ],
        )
        self.add("st_Tags", (13, "obsolete", sql_time(START), 1))
        self.manifest.skip("tags", "deleted", 13)

    def _user(
        self,
        name: str,
        email: str | None,
        *,
        created: datetime | None = None,
        deleted: int = 0,
        queue: int = 0,
        admin: int = 0,
    ) -> int:
        uid = self.new_id("st_Users")
        first = name.split()[0].lower()
        self.add(
            "st_Users",
            (
                uid,
                f"{first}{uid}",
                email,
                name,
                f"secret-hash-{uid}",
                0,
                "en",
                4,
                sql_time(created or self.fake.when(START - timedelta(days=400), START)),
                sql_time(self.fake.when(START, END)),
                deleted,
                1,
                0,
                admin,
                queue,
            ),
        )
        return uid

    def people(self) -> None:
        m = self.manifest
        n_agents = max(4, min(40, self.size // 100))
        self.agents: list[int] = []
        for i in range(n_agents):
            first, last = self.fake.person()
            uid = self._user(f"{first} {last}", f"{first.lower()}.{last.lower()}@acme.example", admin=int(i == 0))
            self.agents.append(uid)
            if i == n_agents - 1:  # an agent by role only, in no group
                self.add("st_UsersInRoles", (uid, 2))
                continue
            dept = self.departments[i % 3]
            for gid in self.groups[dept][: 1 + i % 2]:
                self.add("st_UsersInGroups", (dept, gid, uid, int(i % 5 == 0)))
            self.add("st_UsersInRoles", (uid, 1 if i == 0 else 3 if i % 7 == 3 else 2))
        gone = self._user("Former Agent", "former.agent@acme.example", deleted=1)
        self.add("st_UsersInGroups", (1, 1, gone, 0))
        m.skip("agents", "deleted", gone)
        self.queues = [
            self._user("Support Queue", "support@acme.example", queue=1),
            self._user("Billing Queue", "billing@acme.example", queue=1),
        ]
        self.add("st_UsersInGroups", (1, 1, self.queues[0], 0))  # queues sit in groups too
        self.add("st_UsersInGroups", (2, 3, self.queues[1], 0))

        n_orgs = max(6, self.size // 32)
        self.orgs: list[tuple[int, str | None]] = []
        for i in range(n_orgs):
            name, domain = self.fake.company(i)
            oid = self.new_id("st_Organizations")
            self.add("st_Organizations", (oid, name, f"https://www.{domain}", f"+1 555 {1000 + oid}"))
            self.add("st_OrganizationFilters", (self.new_id("st_OrganizationFilters"), oid, 1, domain, None))
            self.orgs.append((oid, domain))
        nodomain = self.new_id("st_Organizations")
        self.add("st_Organizations", (nodomain, "Freelancers Without Domain", None, None))
        m.plant("org_without_domain", "organizations", nodomain)
        shared = self.new_id("st_Organizations")
        self.add("st_Organizations", (shared, "Home Users", None, None))
        self.add("st_OrganizationFilters", (self.new_id("st_OrganizationFilters"), shared, 1, FREE_MAIL, None))
        m.plant("org_shared_domain", "organizations", shared)

        n_customers = max(24, self.size // 4)
        self.customers: list[tuple[int, str | None, str]] = []
        for i in range(n_customers):
            first, last = self.fake.person()
            if i % 7 == 6:
                domain = FREE_MAIL
            else:
                domain = self.orgs[i % len(self.orgs)][1]
            email = self.fake.email(first, last, domain, i)
            uid = self._user(f"{first} {last}", email)
            self.customers.append((uid, email, f"{first} {last}"))
            if i % 5 == 0:
                self.add("st_UsersInRoles", (uid, 4))
            if i % 3 == 0:
                self.add("st_CustomDataFieldsForUsers", (uid, 4, " ".join(self.fake.person())))
            if i % 10 == 0:
                self.add("st_CustomDataFieldsForUsers", (uid, 5, "True"))
        # an organization found by user id and one by full address
        self.add(
            "st_OrganizationFilters",
            (self.new_id("st_OrganizationFilters"), self.orgs[0][0], 0, None, self.customers[1][0]),
        )
        self.add(
            "st_OrganizationFilters",
            (self.new_id("st_OrganizationFilters"), self.orgs[1][0], 2, self.customers[6][1], None),
        )
        messy = [
            ("contact_no_email", None, "No Email"),
            ("contact_no_email", "", "Empty Email"),
            ("contact_invalid_email", "john.smith(at)example.com", "John Smith"),
            ("contact_invalid_email", "mary@", "Mary Incomplete"),
        ]
        for case, email, name in messy:
            uid = self._user(name, email)
            m.plant(case, "customers", uid)
            self.customers.append((uid, email, name))
        base = self.customers[2]
        twin = self._user(base[2], base[1].upper())
        m.plant("duplicate_email_case", "customers", base[0])
        m.plant("duplicate_email_case", "customers", twin)
        self.customers.append((twin, base[1].upper(), base[2]))
        old = self._user("Ancient Account", "ancient.account@northlogistics.example", created=SENTINEL)
        m.plant("sentinel_date", "customers", old)
        self.customers.append((old, "ancient.account@northlogistics.example", "Ancient Account"))
        for name in ("Deleted Customer", "Removed Customer"):
            uid = self._user(name, f"{name.split()[0].lower()}@gone.example", deleted=1)
            m.skip("customers", "deleted", uid)
        m.counts["agents"] = len(self.agents)
        m.counts["queues"] = len(self.queues)
        m.counts["customers"] = len(self.customers)
        m.counts["organizations"] = n_orgs + 2

    # -- tickets --------------------------------------------------------------------------

    def tickets(self) -> None:
        m = self.manifest
        ids = list(range(1, self.size + 1))
        roles = self.rng.sample(ids, 24)
        deleted, spam = roles[0:3], roles[3:5]
        orphans, empty, huge_thread = roles[5:7], roles[7:9], roles[9]
        large, many_files, nul_ticket, nul_message = roles[10], roles[11], roles[12], roles[13]
        moji_ticket, moji_message, null_open, null_message = roles[14], roles[15], roles[16], roles[17]
        sentinel, future, future_message, long_cf = roles[18], roles[19], roles[20], roles[21:23]
        longer_cf, drafts = roles[23], self.rng.sample([i for i in ids if i not in roles], 3)
        skipped = set(deleted) | set(spam)
        counts = {"messages": 0, "comments": 0, "message_attachments": 0}
        for tid in ids:
            uid, email, _ = self.customers[self.rng.randrange(len(self.customers))]
            if tid in orphans:
                uid = 900000 + tid
                m.plant("orphan_ticket", "tickets", tid)
            dept = self.departments[self.rng.randrange(3)]
            group = self.groups[dept][self.rng.randrange(2)]
            status = STATUSES[self.rng.randrange(4)][0]
            owner = self.rng.random()
            agent = (
                self.queues[tid % 2]
                if owner < 0.1
                else None
                if owner < 0.18
                else self.agents[self.rng.randrange(len(self.agents))]
            )
            opened = self.fake.when(START, END)
            subject = self.fake.subject()
            if tid == nul_ticket:
                subject = "Printer\x00 jam on floor 2"
                m.plant("nul_characters", "tickets", tid)
            if tid == moji_ticket:
                subject = "Rechnung fÃ¼r MÃ¤rz"
                m.plant("mojibake", "tickets", tid)
            shown_open: datetime | None = opened
            if tid == null_open:
                shown_open = None
                m.plant("null_date", "tickets", tid)
            if tid == sentinel:
                shown_open = SENTINEL
                m.plant("sentinel_date", "tickets", tid)
            if tid == future:
                shown_open = FUTURE
                m.plant("future_date", "tickets", tid)
            number = f"{tid:03d}-{self.fake.hexname(8).upper()}-{tid % 65536:04X}"
            n_msgs = 0 if tid in empty else 505 if tid == huge_thread else self.rng.randint(1, 6)
            if tid in empty:
                m.plant("ticket_without_messages", "tickets", tid)
            moment = opened
            replies = [0, 0]
            for i in range(n_msgs):
                moment = self.fake.later(moment, 48)
                direction = i % 2
                replies[direction] += 1
                mid = self._message(tid, moment, direction, uid, email, agent, subject, first=i == 0)
                if tid not in skipped:
                    counts["messages"] += 1
                    self._plant_message(mid, tid, large, nul_message, moji_message, null_message, future_message, i)
                    if tid == many_files and i == 0:
                        counts["message_attachments"] += self._attachments(tid, mid, moment, 12, plant=True)
                    elif self.rng.random() < 0.06:
                        counts["message_attachments"] += self._attachments(tid, mid, moment, self.rng.randint(1, 2))
                else:
                    m.skip("messages", "of_skipped_ticket", mid)
            if tid in drafts:
                mid = self._message(tid, self.fake.later(moment), 1, uid, email, agent, subject, draft=True)
                m.skip("messages", "draft", mid)
            n_comments = 3 if tid == huge_thread else (1 if self.rng.random() < 0.3 else 0)
            for _ in range(n_comments):
                moment = self.fake.later(moment, 24)
                cid = self.new_id("st_TicketComments")
                author = self.agents[self.rng.randrange(len(self.agents))]
                self.add(
                    "st_TicketComments",
                    (cid, tid, 1 + self.rng.randrange(3), author, sql_time(moment), self.fake.paragraph(2)),
                )
                if tid in skipped:
                    m.skip("comments", "of_skipped_ticket", cid)
                else:
                    counts["comments"] += 1
            closed = self.fake.later(moment) if status >= 3 else None
            is_deleted, is_spam = int(tid in deleted), int(tid in spam)
            if is_deleted:
                m.skip("tickets", "deleted", tid)
            elif is_spam:
                m.skip("tickets", "spam", tid)
            self.add(
                "st_Tickets",
                (
                    tid,
                    number,
                    sql_time(shown_open),
                    1 + self.rng.randrange(4),
                    status,
                    dept,
                    group,
                    agent,
                    uid,
                    subject,
                    email,
                    sql_time(moment),
                    replies[0],
                    replies[1],
                    is_deleted,
                    is_spam,
                    0,
                    sql_time(moment) if is_deleted else None,
                    0,
                    None,
                    float(self.rng.randint(1, 5)) if self.rng.random() < 0.2 else None,
                    sql_time(closed),
                    None,
                ),
            )
            if tid == huge_thread:
                m.plant("over_500_parts", "tickets", tid)
            self._custom_values(tid, long_cf, longer_cf)
        for i in range(2):  # messages whose ticket does not exist
            moment = self.fake.when(START, END)
            mid = self._message(800000 + i, moment, 0, None, "lost@example.com", None, "Lost message")
            counts["messages"] += 1
            m.plant("orphan_message", "messages", mid)
        ticket_file = self._file("Attachments/2021/03", 2048)
        owner = next(tid for tid in ids if tid not in skipped)
        self.add(
            "st_TicketAttachments",
            (
                self.new_id("st_TicketAttachments"),
                owner,
                None,
                "contract.pdf",
                ticket_file,
                None,
                2048,
                0,
                sql_time(START),
                0,
                None,
            ),
        )
        m.counts.update(tickets=self.size - len(skipped), messages=counts["messages"], comments=counts["comments"])
        m.attachment_counts.update(messages=counts["message_attachments"], tickets=1)

    def _message(
        self,
        tid: int,
        moment: datetime,
        direction: int,
        customer: int | None,
        email: str | None,
        agent: int | None,
        subject: str,
        *,
        first: bool = False,
        draft: bool = False,
    ) -> int:
        mid = self.new_id("st_TicketMessages")
        text = self.fake.paragraph(self.rng.randint(1, 3))
        sender = customer if direction == 0 else agent
        self.add(
            "st_TicketMessages",
            (
                mid,
                tid,
                sql_time(moment),
                sender,
                ("RE: " if not first else "") + subject,
                text,
                self.fake.html(text),
                direction,
                email if direction == 0 else "support@acme.example",
                "support@acme.example" if direction == 0 else email,
                None,
                1,
                None,
                None,
                f"{self.fake.hexname(8)}-{mid}",
                int(first),
                int(draft),
            ),
        )
        return mid

    def _plant_message(
        self, mid: int, tid: int, large: int, nul: int, moji: int, null: int, future: int, index: int
    ) -> None:
        if index != 0:
            return
        row = list(self.out.last("st_TicketMessages"))
        m = self.manifest
        if tid == large:
            unit = "<p>" + self.fake.paragraph(4) + "</p>\n"
            row[6] = "<html><body>" + unit * (self.large_body // len(unit) + 1) + "</body></html>"
            m.plant("large_body", "messages", mid)
        if tid == nul:
            row[5] = "Log excerpt:\x00\x00 end of dump"
            m.plant("nul_characters", "messages", mid)
        if tid == moji:
            row[5] = "CafÃ© order was charged twice â€“ please check"
            m.plant("mojibake", "messages", mid)
        if tid == null:
            row[2] = None
            m.plant("null_date", "messages", mid)
        if tid == future:
            row[2] = sql_time(FUTURE)
            m.plant("future_date", "messages", mid)
        self.out.replace_last("st_TicketMessages", tuple(row))

    def _custom_values(self, tid: int, long_cf: list[int], longer_cf: int) -> None:
        if self.rng.random() < 0.6:
            self.add("st_CustomDataFieldsInTickets", (tid, 1, PRODUCTS[self.rng.randrange(len(PRODUCTS))]))
        if self.rng.random() < 0.3:
            self.add("st_CustomDataFieldsInTickets", (tid, 2, f"SN-{self.fake.hexname(10).upper()}"))
        notes = None
        if tid in long_cf:
            notes = ("Contract terms: " + "x" * 300)[:300]
            self.manifest.plant("custom_field_over_255", "tickets", tid)
        elif tid == longer_cf:
            notes = ("Contract history: " + "y" * 600)[:600]
            self.manifest.plant("custom_field_over_255", "tickets", tid)
            self.manifest.plant("custom_field_over_512", "tickets", tid)
        elif self.rng.random() < 0.05:
            notes = self.fake.paragraph(1)
        if notes is not None:
            self.add("st_CustomDataFieldsInTickets", (tid, 3, notes))

    # -- attachments on disk ----------------------------------------------------------------

    def _file(self, folder: str, size: int, *, write: bool = True) -> str:
        """A random name on disk under `folder` (written unless it is to be missing)."""
        name = f"{self.fake.hexname()}.dat"
        if write:
            self.out.file(Path(folder) / name, self.rng.randbytes(size))
        return name

    def _attachments(self, tid: int, mid: int, moment: datetime, count: int, *, plant: bool = False) -> int:
        m = self.manifest
        for i in range(count):
            original = f"screenshot-{i + 1}.png" if i % 3 else f"log-{i + 1}.txt"
            size = self.rng.randint(200, 4000)
            folder = f"Attachments/{moment.year}/{moment.month:02d}" if i % 4 else f"Attachments/Archive/{moment.year}"
            name = self._file(folder, size)
            self.add(
                "st_TicketAttachments",
                (
                    self.new_id("st_TicketAttachments"),
                    tid,
                    mid,
                    original,
                    name,
                    None,
                    size,
                    0,
                    sql_time(moment),
                    0,
                    None,
                ),
            )
        if plant:
            m.plant("over_10_attachments", "messages", mid)
            self._special_files(tid, mid, moment)
            return count + 7
        return count

    def _special_files(self, tid: int, mid: int, moment: datetime) -> None:
        """Restricted types, missing and empty files, a deleted row, a name found twice."""
        m = self.manifest
        rows = []
        for original in ("setup.exe", "screensaver.scr"):
            rows.append((original, self._file(f"Attachments/{moment.year}", 512), 512))
            m.plant("restricted_attachment", "messages", f"{mid}/{original}")
        for original in ("missing-report.pdf", "missing-photo.jpg"):
            rows.append((original, self._file("Attachments", 999, write=False), 999))
            m.plant("missing_attachment", "messages", f"{mid}/{original}")
        for original in ("empty.txt", "blank.csv"):
            rows.append((original, self._file(f"Attachments/{moment.year}/{moment.month:02d}", 0), 0))
            m.plant("zero_byte_attachment", "messages", f"{mid}/{original}")
        twin = self._file("Attachments/2020/01", 1500)
        self.out.file(Path("Attachments/Archive/decoy") / twin, self.rng.randbytes(333))
        rows.append(("twin.log", twin, 1500))
        m.plant("same_name_files", "messages", f"{mid}/twin.log")
        for original, name, size in rows:
            self.add(
                "st_TicketAttachments",
                (
                    self.new_id("st_TicketAttachments"),
                    tid,
                    mid,
                    original,
                    name,
                    None,
                    size,
                    0,
                    sql_time(moment),
                    0,
                    None,
                ),
            )
        gone = self.new_id("st_TicketAttachments")
        self.add(
            "st_TicketAttachments",
            (gone, tid, mid, "old.doc", self._file("Attachments", 10), None, 10, 0, sql_time(moment), 1, None),
        )

    # -- knowledge base, chats, call logs ---------------------------------------------------------

    def knowledge_base(self) -> None:
        m = self.manifest
        categories: list[int] = []
        for top in ("Getting started", "Billing", "Troubleshooting"):
            tid = self.new_id("st_KbCategories")
            self.add("st_KbCategories", (tid, None, top, 0, 1))
            categories.append(tid)
            for j, sub in enumerate(("Basics", "Advanced")):
                sid = self.new_id("st_KbCategories")
                self.add("st_KbCategories", (sid, tid, f"{top}: {sub}", int(j == 1), 1))
                categories.append(sid)
                for k in range(1 + j):
                    gid = self.new_id("st_KbCategories")
                    self.add("st_KbCategories", (gid, sid, f"{top}: {sub} {k + 1}", 0, 1))
                    categories.append(gid)
        m.counts["kb_categories"] = len(categories)
        n = max(10, self.size // 20)
        for i in range(n + 4):
            aid = self.new_id("st_KbArticles")
            category = categories[i % len(categories)]
            draft = deleted = 0
            if i == n:
                category = 9999
                m.plant("article_missing_category", "kb_articles", aid)
            elif i in (n + 1, n + 2):
                draft = 1
                m.skip("kb_articles", "draft", aid)
            elif i == n + 3:
                deleted = 1
                m.skip("kb_articles", "deleted", aid)
            created = self.fake.when(START, END)
            self.add(
                "st_KbArticles",
                (
                    aid,
                    category,
                    f"How to: {self.fake.subject().lower()}",
                    self.fake.html(self.fake.paragraph(4)),
                    self.fake.paragraph(1),
                    sql_time(created),
                    sql_time(self.fake.later(created, 2000)),
                    int(i % 9 == 0),
                    draft,
                    deleted,
                    1,
                    self.agents[i % len(self.agents)],
                ),
            )
        m.counts["kb_articles"] = n + 1

    def chats_and_calls(self) -> None:
        m = self.manifest
        n_chats = max(4, self.size // 5)
        messages = 0
        for i in range(n_chats):
            cid = self.new_id("st_Chats")
            uid, email, name = self.customers[self.rng.randrange(len(self.customers))]
            started = self.fake.when(START, END)
            moment = started
            dept = self.departments[i % 3]
            for j in range(self.rng.randint(2, 8)):
                moment += timedelta(seconds=self.rng.randint(10, 300))
                self.add(
                    "st_ChatMessages",
                    (
                        self.new_id("st_ChatMessages"),
                        cid,
                        uid if j % 2 == 0 else self.agents[0],
                        sql_time(moment),
                        j % 2,
                        self.fake.paragraph(1),
                        0,
                    ),
                )
                messages += 1
            self.add(
                "st_Chats",
                (
                    cid,
                    f"C{cid:06d}",
                    dept,
                    self.groups[dept][0],
                    self.agents[i % len(self.agents)],
                    uid,
                    email,
                    name,
                    sql_time(started),
                    sql_time(moment),
                    self.fake.subject(),
                ),
            )
        for original in ("chat-shot.png", "chat-log.txt"):
            size = 700
            self.add(
                "st_ChatAttachments",
                (
                    self.new_id("st_ChatAttachments"),
                    1,
                    original,
                    self._file("ChatAttachments/2022", size),
                    size,
                    sql_time(START),
                ),
            )
        n_calls = max(4, self.size // 10)
        for i in range(n_calls + 1):
            lid = self.new_id("st_CallLogs")
            uid, email, name = self.customers[self.rng.randrange(len(self.customers))]
            started = self.fake.when(START, END)
            deleted = int(i == n_calls)
            if deleted:
                m.skip("call_logs", "deleted", lid)
            dept = self.departments[i % 3]
            self.add(
                "st_CallLogs",
                (
                    lid,
                    f"L{lid:06d}",
                    dept,
                    self.groups[dept][1],
                    self.agents[i % len(self.agents)],
                    uid,
                    name,
                    f"+1 555 {2000 + i}",
                    email,
                    self.fake.subject(),
                    self.fake.paragraph(2),
                    i % 2,
                    sql_time(started),
                    sql_time(started + timedelta(minutes=self.rng.randint(1, 40))),
                    deleted,
                ),
            )
        self.add(
            "st_CallLogAttachments",
            (1, 1, "call-recording.wav", self._file("CallLogAttachments", 1200), 1200, sql_time(START)),
        )
        m.counts.update(chats=n_chats, chat_messages=messages, call_logs=n_calls)
        m.attachment_counts.update(chats=2, call_logs=1)

    def finish_counts(self) -> None:
        self.manifest.counts.update(
            departments=3,
            groups=6,
            statuses=len(STATUSES),
            priorities=len(PRIORITIES),
            custom_fields=len(CUSTOM_FIELDS),
            brands=2,
            tags=12,
        )

    def write(self) -> None:
        self.out.close()


def generate_smartertrack(
    folder: str | Path, *, tickets: int = 200, seed: int = 7, large_body: int = 1_100_000, attachment_files: bool = True,
    messy_rows: bool = False,
) -> Manifest:
    """Write `smartertrack.db` and `App_Data/` into `folder`; return the ground truth.

    `tickets` rows go into st_Tickets (at least 30: the messy cases need them). `messy_rows`:
    tickets and messages with NULL, blank and malformed keys and undecodable text too.
    """
    desk = _Desk(Path(folder), max(MIN_TICKETS, tickets), seed, large_body, attachment_files)
    desk.lookups()
    desk.people()
    desk.tickets()
    desk.knowledge_base()
    desk.chats_and_calls()
    desk.finish_counts()
    desk.write()
    if messy_rows:
        plant_messy_rows(str(desk.db), desk.manifest, [KeyedTable("st_Tickets", "TicketId", "tickets", "Subject"),
                                                       KeyedTable("st_TicketMessages", "TicketMessageId", "messages",
                                                                  "BodyHtml")])
    desk.manifest.sort()
    return desk.manifest
