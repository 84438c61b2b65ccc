"""SmarterTrack's objects declared on its st_* tables (sources.md section 1).

Ids of statuses, priorities, departments and groups are per install, so records carry
their names (joined here) next to the ids. Dates are the *Utc columns; a date column whose
name does not say UTC (an install's own, another version's) is a zone-less local time,
read in the source's time zone. Deleted, spam and
draft rows are filtered out by default and counted as skips. Users are one table:
agents (group or agent-role membership), queues (IsQueue) and customers (the rest).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, exists, false, func, literal_column, null, or_, select
from sqlalchemy.sql.elements import ColumnElement

from connectors.base import FieldType, ObjectRole, Severity
from connectors.sql.builder import Columns, SchemaGap, columns_read, gap_finding, typed_field, unread_fields
from connectors.sql.catalog import Catalog
from connectors.sql.objects import Pivot, Skip, SqlField, SqlObject
from connectors.sql.portable import is_set, is_unset, lower_text, nstr
from connectors.sql.source import decode_text
from connectors.sql.values import flag, lines, utc

if TYPE_CHECKING:
    from connectors.smartertrack.source import SmarterTrackSource

DEFAULT_AGENT_ROLES = (
    "agent",
    "agents",
    "manager",
    "managers",
    "administrator",
    "administrators",
    "admin",
    "admins",
    "supervisor",
    "supervisors",
)


def slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_") or "field"


def snake(column_name: str) -> str:
    """A column's name as a field name: IsPinnedToAgent -> is_pinned_to_agent."""
    return slug(re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", column_name))


def utc_named(column_name: str) -> bool:
    """SmarterTrack names its UTC columns *Utc (DateOpenedUtc, IdleStartTimeUtc)."""
    return column_name.lower().endswith("utc")


def display_name(c: Columns, field: str = "name") -> ColumnElement:
    """DisplayName when filled, else EnglishName (the install's own wording first)."""
    usable = [col for col in (c.get("DisplayName"), c.get("EnglishName")) if col is not None]
    if not usable:
        return c.col("DisplayName", field=field)
    if len(usable) == 1:
        return usable[0]
    return func.coalesce(*[func.nullif(col, nstr("")) for col in usable])


class SmarterTrackSchema:
    """Builds the SqlObjects for one database; one instance per connector."""

    def __init__(self, source: SmarterTrackSource, catalog: Catalog) -> None:
        self.source = source
        self.catalog = catalog
        self.prefix = source.prefix
        self.all_rows = source.include_deleted
        self.agent_roles = tuple(role.lower() for role in source.agent_roles)

    # -- helpers --------------------------------------------------------------------

    def table(self, name: str) -> Any:
        return self.catalog.table(self.prefix + name)

    def cols(self, table: Any, object_name: str, name: str) -> Columns:
        return Columns(self.source, table, object_name=object_name, table_name=self.prefix + name)

    def unread(self, table: Any, fields: list[SqlField], *exprs: Any) -> list[SqlField]:
        """The table's columns no field (nor filter) reads: another version's or an install's own."""
        used = columns_read(table, *(f.expr for f in fields), *exprs)
        return unread_fields(table, used, {f.name for f in fields}, name=snake, dates=self._dates)

    def _dates(self, column_name: str) -> tuple[Any, bool]:
        return (utc, False) if utc_named(column_name) else (self.source.local_time, True)

    def build(self) -> list[SqlObject]:
        tickets = self.table("Tickets")
        if tickets is None:
            found = [n for n in self.catalog.table_names if n.lower().endswith("tickets")]
            raise SchemaGap(
                f"no {self.prefix}Tickets table" + (f" (tables ending in Tickets: {', '.join(found)})" if found else "")
            )
        builders = [
            self.tickets,
            self.messages,
            self.comments,
            self.customers,
            self.agents,
            self.queues,
            self.organizations,
            self.departments,
            self.groups,
            self.statuses,
            self.priorities,
            self.custom_fields,
            self.kb_categories,
            self.kb_articles,
            self.chats,
            self.chat_messages,
            self.call_logs,
            self.brands,
            self.tags,
        ]
        objects = []
        for build in builders:
            name = build.__name__
            try:
                obj = build()
            except SchemaGap as gap:
                if name == "tickets":
                    raise
                self.source.report(
                    gap_finding(
                        "SmarterTrack",
                        name,
                        str(gap),
                        severity=Severity.WARNING if name in ("messages", "customers", "agents") else Severity.INFO,
                    )
                )
                continue
            if obj is not None:
                objects.append(obj)
        return objects

    def _required(self, name: str) -> Any:
        table = self.table(name)
        if table is None:
            raise SchemaGap(f"no {self.prefix}{name} table")
        return table

    def _names(self, table_name: str, key: str) -> tuple[str, ...]:
        """Display names of a small lookup table, for a field's options."""
        table = self.table(table_name)
        if table is None:
            return ()
        c = self.cols(table, "lookup", table_name)
        if c.get(key) is None or (c.get("DisplayName") is None and c.get("EnglishName") is None):
            return ()
        order = c.get("SortOrder")
        query = (
            select(display_name(c)).select_from(table).order_by(order if order is not None else c.get(key), c.get(key))
        )
        rows = self.source.rows(query, "read lookups")
        return tuple(dict.fromkeys(str(row[0]) for row in rows if row[0] is not None))

    # -- users: agents, queues, customers ----------------------------------------------

    def _is_agent(self, users: Any) -> ColumnElement:
        user_id = self.cols(users, "users", "Users").need("UserId")
        conditions = []
        in_groups = self.table("UsersInGroups")
        if in_groups is not None and (ug := self.cols(in_groups, "agents", "UsersInGroups").get("UserId")) is not None:
            conditions.append(exists().where(ug == user_id))
        in_roles, roles = self.table("UsersInRoles"), self.table("Roles")
        if in_roles is not None and roles is not None:
            ur, r = self.cols(in_roles, "agents", "UsersInRoles"), self.cols(roles, "agents", "Roles")
            if all(c is not None for c in (ur.get("UserId"), ur.get("RoleId"), r.get("RoleId"), r.get("RoleName"))):
                conditions.append(
                    exists().where(
                        ur.get("UserId") == user_id,
                        ur.get("RoleId") == r.get("RoleId"),
                        lower_text(r.get("RoleName")).in_(self.agent_roles),
                    )
                )
        admin = self.cols(users, "agents", "Users").get("IsPrimaryAdmin")
        if admin is not None:
            conditions.append(is_set(admin))
        if not conditions:
            self.source.report(
                gap_finding(
                    "SmarterTrack", "agents", "no group or role membership tables: every user counts as a customer"
                )
            )
            return false()
        return or_(*conditions)

    def _is_queue(self, users: Any) -> ColumnElement:
        queue = self.cols(users, "queues", "Users").get("IsQueue")
        return is_set(queue) if queue is not None else false()

    def _user_fields(self, c: Columns) -> list[SqlField]:
        return [
            c.field("id", "UserId", type=FieldType.INTEGER),
            c.field("username", "UserName"),
            c.field("email", "Email", "EmailAddress", type=FieldType.EMAIL),
            c.field("name", "DisplayName"),
            c.field("created_at", "DateCreatedUtc", type=FieldType.DATETIME, convert=utc),
            c.field("last_login_at", "DateLastLoginUtc", type=FieldType.DATETIME, convert=utc),
            c.field("email_verified", "IsEmailVerified", type=FieldType.BOOLEAN, convert=flag),
            c.field("locked_out", "IsLockedOut", type=FieldType.BOOLEAN, convert=flag),
            c.field("language", "Language"),
            c.field("time_zone", "TimeZone", description="SmarterTrack's display time zone id"),
        ] + ([c.field("is_deleted", "IsDeleted", type=FieldType.BOOLEAN, convert=flag)] if self.all_rows else [])

    def _users(self, object_name: str, who: ColumnElement) -> tuple[Any, Columns, list[SqlField], tuple, tuple]:
        """The users table filtered to one kind of user, without deleted ones by default."""
        users = self._required("Users")
        c = self.cols(users, object_name, "Users")
        c.need("UserId")
        deleted = c.get("IsDeleted")
        skip = not self.all_rows and deleted is not None
        where = (who, is_unset(deleted)) if skip else (who,)
        skips = (Skip("deleted", and_(is_set(deleted), who)),) if skip else ()
        fields = self._user_fields(c)
        return users, c, fields + self.unread(users, fields, *where), where, skips

    def customers(self) -> SqlObject:
        users = self._required("Users")
        who = and_(~self._is_agent(users), ~self._is_queue(users))
        users, c, fields, where, skips = self._users("customers", who)
        fields += [
            SqlField(
                "organization_id",
                None,
                FieldType.INTEGER,
                references="organizations",
                description="through st_OrganizationFilters: the user, the address or its domain",
            ),
            SqlField("organization", None, FieldType.STRING),
        ]
        pivot, custom = self._pivot("CustomDataFieldsForUsers", "UserId", "customers")
        fields += custom
        people = self.source.people
        return SqlObject(
            name="customers",
            role=ObjectRole.CONTACT,
            label="customers",
            from_=users,
            key=c.need("UserId"),
            fields=fields,
            where=where,
            created_field="created_at",
            skips=skips,
            pivots=(pivot,) if pivot else (),
            enrich=people.add_organizations,
            description="end users who open tickets (not agents, not queues)",
        )

    def agents(self) -> SqlObject:
        users = self._required("Users")
        who = and_(self._is_agent(users), ~self._is_queue(users))
        users, c, fields, where, skips = self._users("agents", who)
        fields += [
            c.field("is_primary_admin", "IsPrimaryAdmin", type=FieldType.BOOLEAN, convert=flag),
            SqlField("groups", None, FieldType.LIST, description="department / group names from st_UsersInGroups"),
            SqlField("roles", None, FieldType.LIST, description="role names from st_UsersInRoles"),
        ]
        return SqlObject(
            name="agents",
            role=ObjectRole.AGENT,
            label="agents",
            from_=users,
            key=c.need("UserId"),
            fields=fields,
            where=where,
            created_field="created_at",
            skips=skips,
            enrich=self.source.people.add_memberships,
            description="users in a group or with an agent role; matched to Intercom admins by email",
        )

    def queues(self) -> SqlObject:
        users = self._required("Users")
        users, c, fields, where, skips = self._users("queues", self._is_queue(users))
        return SqlObject(
            name="queues",
            role=ObjectRole.LOOKUP,
            label="queues",
            from_=users,
            key=c.need("UserId"),
            fields=fields,
            where=where,
            created_field="created_at",
            skips=skips,
            description="IsQueue users: shared inboxes that tickets are assigned to, not people",
        )

    # -- tickets and their parts -----------------------------------------------------------

    def _pivot(self, table_name: str, entity: str, object_name: str) -> tuple[Pivot | None, list[SqlField]]:
        values, definitions = self.table(table_name), self.table("CustomDataFields")
        if values is None:
            self.source.report(
                gap_finding(
                    "SmarterTrack",
                    f"{object_name} custom fields",
                    f"no {self.prefix}{table_name} table",
                    severity=Severity.INFO,
                )
            )
            return None, []
        v = self.cols(values, object_name, table_name)
        try:
            entity_col, field_col, content = v.need(entity), v.need("CustomFieldId"), v.need("DataContent")
        except SchemaGap as gap:
            self.source.report(
                gap_finding("SmarterTrack", f"{object_name} custom fields", str(gap), severity=Severity.INFO)
            )
            return None, []
        used = [
            row[0] for row in self.source.rows(select(field_col).distinct().order_by(field_col), "list custom fields")
        ]
        names: dict[Any, str] = {}
        choices: dict[Any, tuple[str, ...]] = {}  # a dropdown's options, one per line in Options
        if definitions is not None:
            d = self.cols(definitions, "custom_fields", "CustomDataFields")
            if d.get("CustomFieldId") is not None and d.get("DisplayName") is not None:
                options = d.get("Options")
                query = select(d.get("CustomFieldId"), d.get("DisplayName"),
                               options if options is not None else null()).where(d.get("CustomFieldId").in_(used))
                for field_id, name, listed in self.source.rows(query, "read custom field names"):
                    names[field_id] = name
                    offered = lines(decode_text(listed) if isinstance(listed, bytes) else listed)
                    if isinstance(offered, list) and offered:
                        choices[field_id] = tuple(dict.fromkeys(offered))
        fields, mapping, taken = [], {}, set()
        for field_id in used:
            label = names.get(field_id) or f"custom field {field_id}"
            if field_id not in names:
                self.source.report(
                    gap_finding(
                        "SmarterTrack",
                        f"custom field {field_id}",
                        f"values in {self.prefix}{table_name} but no definition",
                        severity=Severity.INFO,
                    )
                )
            name = f"cf_{slug(label)}"
            if name in taken:
                name = f"{name}_{field_id}"
            taken.add(name)
            mapping[field_id] = name
            length = getattr(content.type, "length", None)
            fields.append(
                SqlField(
                    name,
                    None,
                    FieldType.STRING,
                    label=label,
                    custom=True,
                    max_length=length,
                    options=choices.get(field_id, ()),
                    description=f"custom field {field_id} ({self.prefix}{table_name})",
                )
            )
        return Pivot(values=values, entity=entity_col, field_id=field_col, content=content, fields=mapping), fields

    def _ticket_skipped(self, ticket_id: ColumnElement) -> ColumnElement | None:
        """A part whose ticket exists but is skipped (deleted or spam): skipped with it."""
        if self.all_rows:
            return None
        tickets = self.table("Tickets").alias("skipped_ticket")
        t = self.cols(tickets, "tickets", "Tickets")
        flags = [is_set(f) for f in (t.get("IsDeleted"), t.get("IsSpam")) if f is not None]
        if not flags:
            return None
        return exists().where(t.need("TicketId") == ticket_id, or_(*flags))

    def tickets(self) -> SqlObject:
        tickets = self.table("Tickets")
        t = self.cols(tickets, "tickets", "Tickets")
        key = t.need("TicketId")
        source = tickets
        fields = [
            t.field("id", "TicketId", type=FieldType.INTEGER),
            t.field("number", "TicketNumber", description="the human ticket number, e.g. 168-24F24A57-000E"),
            t.field("subject", "Subject"),
        ]
        statuses = self.table("TicketStatuses")
        if statuses is not None and t.get("TicketStatusId") is not None:
            s = self.cols(statuses.alias("status"), "tickets", "TicketStatuses")
            source = source.outerjoin(s.table, s.need("TicketStatusId") == t.get("TicketStatusId"))
            fields += [
                typed_field(
                    "status",
                    display_name(s, "status"),
                    type=FieldType.OPTIONS,
                    options=self._names("TicketStatuses", "TicketStatusId"),
                ),
                s.field("status_open", "IsOpen", type=FieldType.BOOLEAN, convert=flag),
            ]
        else:
            fields += [t.field("status", "TicketStatusId", type=FieldType.OPTIONS)]
        priorities = self.table("TicketPriorities")
        if priorities is not None and t.get("TicketPriorityId") is not None:
            p = self.cols(priorities.alias("priority"), "tickets", "TicketPriorities")
            source = source.outerjoin(p.table, p.need("TicketPriorityId") == t.get("TicketPriorityId"))
            fields.append(
                typed_field(
                    "priority",
                    display_name(p, "priority"),
                    type=FieldType.OPTIONS,
                    options=self._names("TicketPriorities", "TicketPriorityId"),
                )
            )
        else:
            fields.append(t.field("priority", "TicketPriorityId", type=FieldType.OPTIONS))
        source, more = self._department_group(source, t, "tickets")
        fields += more
        users = self.table("Users")
        agent = t.col("UserId", field="agent_id")
        if (
            users is not None
            and t.get("UserId") is not None
            and self.cols(users, "tickets", "Users").get("IsQueue") is not None
        ):
            owner = self.cols(users.alias("owner"), "tickets", "Users")
            source = source.outerjoin(owner.table, owner.need("UserId") == t.get("UserId"))
            queued = is_set(owner.get("IsQueue"))
            fields += [
                typed_field("agent_id", case((queued, None), else_=agent), type=FieldType.INTEGER, references="agents"),
                typed_field("queue_id", case((queued, agent), else_=None), type=FieldType.INTEGER, references="queues"),
            ]
        else:
            fields.append(typed_field("agent_id", agent, type=FieldType.INTEGER, references="agents"))
        fields += [
            t.field("customer_id", "UserIdCustomer", type=FieldType.INTEGER, references="customers"),
            t.field("customer_email", "CustomerEmailAddress", type=FieldType.EMAIL),
            t.field("opened_at", "DateOpenedUtc", type=FieldType.DATETIME, convert=utc),
            t.field("closed_at", "DateClosedUtc", type=FieldType.DATETIME, convert=utc),
            t.field("idle_since", "IdleStartTimeUtc", type=FieldType.DATETIME, convert=utc),
            t.field("replies_in", "ReplyCountIn", type=FieldType.INTEGER),
            t.field("replies_out", "ReplyCountOut", type=FieldType.INTEGER),
            t.field("requires_follow_up", "RequiresFollowUp", type=FieldType.BOOLEAN, convert=flag),
            t.field("follow_up_at", "DateFollowUpUtc", type=FieldType.DATETIME, convert=utc),
            t.field("survey_rating", "AverageSurveyRating", type=FieldType.FLOAT),
        ]
        deleted, spam = t.get("IsDeleted"), t.get("IsSpam")
        where, skips = [], []
        if self.all_rows:
            fields += [
                t.field("is_deleted", "IsDeleted", type=FieldType.BOOLEAN, convert=flag),
                t.field("is_spam", "IsSpam", type=FieldType.BOOLEAN, convert=flag),
                t.field("deleted_at", "DateDeletedUtc", type=FieldType.DATETIME, convert=utc),
            ]
        else:
            if deleted is not None:
                where.append(is_unset(deleted))
                skips.append(Skip("deleted", is_set(deleted), from_=tickets, key=key))
            if spam is not None:
                where.append(is_unset(spam))
                skips.append(
                    Skip(
                        "spam",
                        and_(is_set(spam), *([is_unset(deleted)] if deleted is not None else [])),
                        from_=tickets,
                        key=key,
                    )
                )
        fields += self.unread(tickets, fields, source, *where, *(skip.condition for skip in skips))
        pivot, custom = self._pivot("CustomDataFieldsInTickets", "TicketId", "tickets")
        fields += custom
        return SqlObject(
            name="tickets",
            role=ObjectRole.CONVERSATION,
            label="tickets",
            from_=source,
            key=key,
            fields=fields,
            where=tuple(where),
            created_field="opened_at",
            skips=tuple(skips),
            pivots=(pivot,) if pivot else (),
            description="email tickets; their messages and comments are the conversation parts",
        )

    def _department_group(self, source: Any, t: Columns, object_name: str) -> tuple[Any, list[SqlField]]:
        fields: list[SqlField] = [
            t.field("department_id", "DepartmentId", type=FieldType.INTEGER, references="departments")
        ]
        departments = self.table("Departments")
        if departments is not None and t.get("DepartmentId") is not None:
            d = self.cols(departments.alias(f"{object_name}_department"), object_name, "Departments")
            source = source.outerjoin(d.table, d.need("DepartmentId") == t.get("DepartmentId"))
            fields.append(d.field("department", "DisplayName", "DepartmentName"))
            if d.get("BrandId") is not None and (brands := self.table("Brands")) is not None:
                b = self.cols(brands.alias(f"{object_name}_brand"), object_name, "Brands")
                source = source.outerjoin(b.table, b.need("BrandId") == d.get("BrandId"))
                fields.append(b.field("brand", "BrandName"))
        fields.append(t.field("group_id", "GroupId", type=FieldType.INTEGER, references="groups"))
        groups = self.table("Groups")
        if groups is not None and t.get("GroupId") is not None:
            g = self.cols(groups.alias(f"{object_name}_group"), object_name, "Groups")
            source = source.outerjoin(g.table, g.need("GroupId") == t.get("GroupId"))
            fields.append(g.field("group", "GroupName", "DisplayName"))
        return source, fields

    def messages(self) -> SqlObject:
        messages = self._required("TicketMessages")
        m = self.cols(messages, "messages", "TicketMessages")
        key, ticket = m.need("TicketMessageId"), m.need("TicketId")
        direction = m.col("MessageDirection", field="direction")
        fields = [
            m.field("id", "TicketMessageId", type=FieldType.INTEGER),
            m.field("ticket_id", "TicketId", type=FieldType.INTEGER, references="tickets"),
            m.field("sent_at", "DateReceivedUtc", type=FieldType.DATETIME, convert=utc),
            typed_field(
                "direction",
                case(
                    (direction == literal_column("0"), nstr("customer")),
                    (direction == literal_column("1"), nstr("agent")),
                    else_=None,
                ),
                type=FieldType.OPTIONS,
                options=("customer", "agent"),
                description="MessageDirection 0 = from the customer, 1 = from an agent",
            ),
            typed_field("direction_code", direction, type=FieldType.INTEGER),
            m.field("from_user_id", "UserIdFrom", type=FieldType.INTEGER),
            m.field("from_address", "FromAddress", type=FieldType.EMAIL),
            m.field("to_address", "ToAddress"),
            m.field("cc_addresses", "CcAddresses"),
            m.field("subject", "Subject"),
            m.field("body_text", "BodyText", type=FieldType.TEXT),
            m.field("body_html", "BodyHtml", type=FieldType.HTML),
            m.field("is_first", "IsFirstMessageOfTicket", type=FieldType.BOOLEAN, convert=flag),
        ]
        where, skips = [], []
        draft = m.get("IsDraft")
        if self.all_rows:
            fields.append(m.field("is_draft", "IsDraft", type=FieldType.BOOLEAN, convert=flag))
        elif draft is not None:
            where.append(is_unset(draft))
            skips.append(Skip("draft", is_set(draft)))
        with_ticket = self._ticket_skipped(ticket)
        if with_ticket is not None:
            where.append(~with_ticket)
            skips.append(
                Skip(
                    "of_skipped_ticket",
                    and_(with_ticket, *([is_unset(draft)] if draft is not None and not self.all_rows else [])),
                )
            )
        fields += self.unread(messages, fields, *where)
        return SqlObject(
            name="messages",
            role=ObjectRole.PART,
            label="messages",
            from_=messages,
            key=key,
            fields=fields,
            where=tuple(where),
            parent="tickets",
            parent_expr=ticket,
            parent_field="ticket_id",
            order=(fields[2].expr,),
            created_field="sent_at",
            skips=tuple(skips),
            description="emails of a ticket, both directions, in time order",
        )

    def comments(self) -> SqlObject:
        comments = self._required("TicketComments")
        c = self.cols(comments, "comments", "TicketComments")
        key, ticket = c.need("TicketCommentId"), c.need("TicketId")
        source = comments
        fields = [
            c.field("id", "TicketCommentId", type=FieldType.INTEGER),
            c.field("ticket_id", "TicketId", type=FieldType.INTEGER, references="tickets"),
            c.field("created_at", "DateEnteredUtc", type=FieldType.DATETIME, convert=utc),
            c.field("author_id", "UserId", type=FieldType.INTEGER, references="agents"),
        ]
        types = self.table("CommentTypes")
        if types is not None and c.get("CommentTypeId") is not None:
            ct = self.cols(types.alias("comment_type"), "comments", "CommentTypes")
            source = source.outerjoin(ct.table, ct.need("CommentTypeId") == c.get("CommentTypeId"))
            fields.append(typed_field("type", display_name(ct, "type"), type=FieldType.OPTIONS))
        else:
            fields.append(c.field("type", "CommentTypeId", type=FieldType.OPTIONS))
        fields.append(c.field("text", "CommentText", type=FieldType.TEXT))
        with_ticket = self._ticket_skipped(ticket)
        return SqlObject(
            name="comments",
            role=ObjectRole.PART,
            label="comments",
            from_=source,
            key=key,
            fields=fields,
            where=(~with_ticket,) if with_ticket is not None else (),
            parent="tickets",
            parent_expr=ticket,
            parent_field="ticket_id",
            order=(fields[2].expr,),
            created_field="created_at",
            skips=(Skip("of_skipped_ticket", with_ticket),) if with_ticket is not None else (),
            description="internal notes on a ticket (become Intercom notes)",
        )

    # -- organizations, teams, lookups -----------------------------------------------------

    def organizations(self) -> SqlObject:
        orgs = self._required("Organizations")
        o = self.cols(orgs, "organizations", "Organizations")
        fields = [
            o.field("id", "OrganizationId", type=FieldType.INTEGER),
            o.field("name", "OrganizationName", "Name"),
            o.field("website", "Website", type=FieldType.URL),
            o.field("phone", "PhoneNumber", type=FieldType.PHONE),
            SqlField(
                "domain", None, FieldType.STRING, description="first domain of its filters, else the website's host"
            ),
            SqlField("domains", None, FieldType.LIST, description="every domain of its st_OrganizationFilters"),
        ]
        return SqlObject(
            name="organizations",
            role=ObjectRole.COMPANY,
            label="organizations",
            from_=orgs,
            key=o.need("OrganizationId"),
            fields=fields,
            enrich=self.source.people.add_domains,
        )

    def _team(self, name: str, table_name: str, key_column: str, extra: list[SqlField] | None = None) -> SqlObject:
        table = self._required(table_name)
        c = self.cols(table, name, table_name)
        key = c.need(key_column)
        deleted = c.get("IsDeleted")
        fields = [c.field("id", key_column, type=FieldType.INTEGER)] + (extra or [])
        where, skips = [], []
        if self.all_rows:
            fields.append(c.field("is_deleted", "IsDeleted", type=FieldType.BOOLEAN, convert=flag))
        elif deleted is not None:
            where.append(is_unset(deleted))
            skips.append(Skip("deleted", is_set(deleted)))
        return SqlObject(
            name=name,
            role=ObjectRole.TEAM,
            label=name,
            from_=table,
            key=key,
            fields=fields,
            where=tuple(where),
            skips=tuple(skips),
        )

    def departments(self) -> SqlObject:
        table = self._required("Departments")
        c = self.cols(table, "departments", "Departments")
        obj = self._team(
            "departments",
            "Departments",
            "DepartmentId",
            [
                c.field("name", "DisplayName", "DepartmentName"),
                c.field("is_internal", "IsInternal", type=FieldType.BOOLEAN, convert=flag),
                c.field("brand_id", "BrandId", type=FieldType.INTEGER, references="brands"),
            ],
        )
        obj.description = "become Intercom teams"
        return obj

    def groups(self) -> SqlObject:
        table = self._required("Groups")
        c = self.cols(table, "groups", "Groups")
        obj = self._team(
            "groups",
            "Groups",
            "GroupId",
            [
                c.field("department_id", "DepartmentId", type=FieldType.INTEGER, references="departments"),
                c.field("name", "GroupName", "DisplayName"),
                c.field("description", "GroupDescription", "Description"),
            ],
        )
        obj.description = "agent groups inside departments; become Intercom teams"
        return obj

    def _lookup(self, name: str, table_name: str, key_column: str, extra: list[str] = ()) -> SqlObject:
        table = self._required(table_name)
        c = self.cols(table, name, table_name)
        fields = [
            c.field("id", key_column, type=FieldType.INTEGER),
            typed_field("name", display_name(c)),
            c.field("english_name", "EnglishName"),
            c.field("sort_order", "SortOrder", type=FieldType.INTEGER),
        ]
        for column_name in extra:
            fields.append(
                c.field(
                    slug(re.sub(r"(?<!^)(?=[A-Z])", "_", column_name)),
                    column_name,
                    type=FieldType.BOOLEAN,
                    convert=flag,
                )
            )
        return SqlObject(
            name=name, role=ObjectRole.LOOKUP, label=name, from_=table, key=c.need(key_column), fields=fields
        )

    def statuses(self) -> SqlObject:
        return self._lookup("statuses", "TicketStatuses", "TicketStatusId", ["IsOpen", "IsActive"])

    def priorities(self) -> SqlObject:
        return self._lookup("priorities", "TicketPriorities", "TicketPriorityId")

    def custom_fields(self) -> SqlObject:
        table = self._required("CustomDataFields")
        c = self.cols(table, "custom_fields", "CustomDataFields")
        fields = [
            c.field("id", "CustomFieldId", type=FieldType.INTEGER),
            c.field("name", "DisplayName"),
            c.field("data_type", "DataType", type=FieldType.INTEGER),
            c.field("default_value", "DefaultValue"),
            c.field("options", "Options", type=FieldType.LIST, convert=lines, description="one option per line"),
            c.field("is_global", "IsGlobal", type=FieldType.BOOLEAN, convert=flag),
        ]
        return SqlObject(
            name="custom_fields",
            role=ObjectRole.LOOKUP,
            label="custom field definitions",
            from_=table,
            key=c.need("CustomFieldId"),
            fields=fields,
        )

    # -- knowledge base -----------------------------------------------------------------------

    def kb_categories(self) -> SqlObject:
        table = self._required("KbCategories")
        c = self.cols(table, "kb_categories", "KbCategories")
        fields = [
            c.field("id", "KbCategoryId", type=FieldType.INTEGER),
            c.field(
                "parent_id",
                "KbCategoryIdParent",
                "ParentKbCategoryId",
                type=FieldType.INTEGER,
                references="kb_categories",
            ),
            c.field("name", "CategoryName", "Name", "DisplayName"),
            c.field("is_private", "IsPrivate", type=FieldType.BOOLEAN, convert=flag),
            c.field("is_visible", "IsVisible", type=FieldType.BOOLEAN, convert=flag),
            SqlField("level", None, FieldType.INTEGER, description="1 = top; SmarterTrack nests up to 3 levels"),
            SqlField("path", None, FieldType.STRING, description="names from the top, joined with ' / '"),
        ]
        return SqlObject(
            name="kb_categories",
            role=ObjectRole.KB_CATEGORY,
            label="KB categories",
            from_=table,
            key=c.need("KbCategoryId"),
            fields=fields,
            enrich=self.source.people.add_category_paths,
        )

    def kb_articles(self) -> SqlObject:
        table = self._required("KbArticles")
        c = self.cols(table, "kb_articles", "KbArticles")
        fields = [
            c.field("id", "KbArticleId", type=FieldType.INTEGER),
            c.field("category_id", "KbCategoryId", type=FieldType.INTEGER, references="kb_categories"),
            c.field("title", "Subject", "Title"),
            c.field("body", "Body", type=FieldType.HTML),
            c.field("summary", "Summary", type=FieldType.TEXT),
            c.field("created_at", "DateCreatedUtc", type=FieldType.DATETIME, convert=utc),
            c.field("updated_at", "DateModifiedUtc", type=FieldType.DATETIME, convert=utc),
            c.field("is_private", "IsPrivate", type=FieldType.BOOLEAN, convert=flag),
            c.field("language_id", "LanguageId", type=FieldType.INTEGER),
            c.field("author_id", "UserId", type=FieldType.INTEGER, references="agents"),
        ]
        where, skips = [], []
        deleted, draft = c.get("IsDeleted"), c.get("IsDraft")
        if self.all_rows:
            fields += [
                c.field("is_draft", "IsDraft", type=FieldType.BOOLEAN, convert=flag),
                c.field("is_deleted", "IsDeleted", type=FieldType.BOOLEAN, convert=flag),
            ]
        else:
            if deleted is not None:
                where.append(is_unset(deleted))
                skips.append(Skip("deleted", is_set(deleted)))
            if draft is not None:
                where.append(is_unset(draft))
                skips.append(Skip("draft", and_(is_set(draft), *([is_unset(deleted)] if deleted is not None else []))))
        return SqlObject(
            name="kb_articles",
            role=ObjectRole.ARTICLE,
            label="KB articles",
            from_=table,
            key=c.need("KbArticleId"),
            fields=fields,
            where=tuple(where),
            skips=tuple(skips),
            created_field="created_at",
            updated_field="updated_at",
        )

    # -- live chat, call logs, brands, tags ------------------------------------------------

    def chats(self) -> SqlObject:
        table = self._required("Chats")
        c = self.cols(table, "chats", "Chats")
        source, place = self._department_group(table, c, "chats")
        fields = [
            c.field("id", "ChatId", type=FieldType.INTEGER),
            c.field("number", "ChatNumber"),
            *place,
            c.field("agent_id", "UserId", type=FieldType.INTEGER, references="agents"),
            c.field("customer_id", "CustomerUserId", "UserIdCustomer", type=FieldType.INTEGER, references="customers"),
            c.field("customer_email", "CustomerEmailAddress", type=FieldType.EMAIL),
            c.field("customer_name", "CustomerDisplayName"),
            c.field("started_at", "DateStartedUtc", type=FieldType.DATETIME, convert=utc),
            c.field("ended_at", "DateEndedUtc", type=FieldType.DATETIME, convert=utc),
            c.field("initial_question", "InitialQuestion", type=FieldType.TEXT),
        ]
        return SqlObject(
            name="chats",
            role=ObjectRole.CONVERSATION,
            label="live chats",
            from_=source,
            key=c.need("ChatId"),
            fields=fields,
            created_field="started_at",
            description="live chat sessions; become conversations (channel chat)",
        )

    def chat_messages(self) -> SqlObject:
        table = self._required("ChatMessages")
        c = self.cols(table, "chat_messages", "ChatMessages")
        chat = c.need("ChatId")
        fields = [
            c.field("id", "ChatMessageId", type=FieldType.INTEGER),
            c.field("chat_id", "ChatId", type=FieldType.INTEGER, references="chats"),
            c.field("user_id", "UserId", type=FieldType.INTEGER),
            c.field("sent_at", "DateSubmittedUtc", type=FieldType.DATETIME, convert=utc),
            c.field("sender_type", "ChatSenderType", type=FieldType.INTEGER),
            c.field("text", "TextSubmitted", type=FieldType.TEXT),
            c.field("is_html", "IsHtml", type=FieldType.BOOLEAN, convert=flag),
        ]
        return SqlObject(
            name="chat_messages",
            role=ObjectRole.PART,
            label="chat messages",
            from_=table,
            key=c.need("ChatMessageId"),
            fields=fields,
            parent="chats",
            parent_expr=chat,
            parent_field="chat_id",
            order=(fields[3].expr,),
            created_field="sent_at",
        )

    def call_logs(self) -> SqlObject:
        table = self._required("CallLogs")
        c = self.cols(table, "call_logs", "CallLogs")
        source, place = self._department_group(table, c, "call_logs")
        fields = [
            c.field("id", "CallLogId", type=FieldType.INTEGER),
            c.field("number", "CallNumber"),
            *place,
            c.field("agent_id", "UserId", type=FieldType.INTEGER, references="agents"),
            c.field("customer_id", "CustomerUserId", type=FieldType.INTEGER, references="customers"),
            c.field("customer_name", "CustomerName"),
            c.field("customer_phone", "CustomerPhoneNumber", type=FieldType.PHONE),
            c.field("customer_email", "CustomerEmailAddress", type=FieldType.EMAIL),
            c.field("subject", "Subject"),
            c.field("description", "Description", type=FieldType.TEXT),
            c.field("is_outgoing", "IsOutgoing", type=FieldType.BOOLEAN, convert=flag),
            c.field("started_at", "DateStartUtc", type=FieldType.DATETIME, convert=utc),
            c.field("ended_at", "DateEndUtc", type=FieldType.DATETIME, convert=utc),
        ]
        where, skips = [], []
        deleted = c.get("IsDeleted")
        if self.all_rows:
            fields.append(c.field("is_deleted", "IsDeleted", type=FieldType.BOOLEAN, convert=flag))
        elif deleted is not None:
            where.append(is_unset(deleted))
            skips.append(Skip("deleted", is_set(deleted), from_=table, key=c.need("CallLogId")))
        return SqlObject(
            name="call_logs",
            role=ObjectRole.RECORD,
            label="call logs",
            from_=source,
            key=c.need("CallLogId"),
            fields=fields,
            where=tuple(where),
            skips=tuple(skips),
            created_field="started_at",
            description="no Intercom equivalent: a custom object or note-only conversations",
        )

    def brands(self) -> SqlObject:
        table = self._required("Brands")
        c = self.cols(table, "brands", "Brands")
        fields = [
            c.field("id", "BrandId", type=FieldType.INTEGER),
            c.field("name", "BrandName"),
            c.field("host", "HostHeaderValue"),
            c.field("is_default", "IsDefaultBrand", type=FieldType.BOOLEAN, convert=flag),
        ]
        return SqlObject(
            name="brands", role=ObjectRole.LOOKUP, label="brands", from_=table, key=c.need("BrandId"), fields=fields
        )

    def tags(self) -> SqlObject:
        table = self._required("Tags")
        c = self.cols(table, "tags", "Tags")
        fields = [
            c.field("id", "TagId", type=FieldType.INTEGER),
            c.field("name", "Name", "TagName"),
            c.field("created_at", "DateCreatedUtc", type=FieldType.DATETIME, convert=utc),
        ]
        where, skips = [], []
        deleted = c.get("IsDeleted")
        if self.all_rows:
            fields.append(c.field("is_deleted", "IsDeleted", type=FieldType.BOOLEAN, convert=flag))
        elif deleted is not None:
            where.append(is_unset(deleted))
            skips.append(Skip("deleted", is_set(deleted)))
        return SqlObject(
            name="tags",
            role=ObjectRole.TAG,
            label="tags",
            from_=table,
            key=c.need("TagId"),
            fields=fields,
            where=tuple(where),
            skips=tuple(skips),
            created_field="created_at",
            description="in the 2018 schema tags attach to tasks, not tickets",
        )
