"""Track-It!'s objects on dbo.tasks, dbo.TaskNote and dbo.vTASKS_BROWSE (sources.md section 2).

Only those three are public, so everything else is discovered: TaskNote's text, date
and author columns are guessed from candidate names, every other column of tasks and
TaskNote is exposed as a field under its own name, and the vendor-page tables (HDUsers,
HDGroups, KBArticles, Assets, ConfigItems, ChangeRequests) are read when they exist, with
whatever columns they have. Requesters, technicians, statuses and priorities are not
tables here: they are the distinct values the work orders name.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, null, select
from sqlalchemy.sql.elements import ColumnElement

from connectors.base import FieldType, Finding, ObjectRole, Severity
from connectors.sql.builder import Columns, SchemaGap, gap_finding, typed_field, unread_fields
from connectors.sql.catalog import Catalog, field_type
from connectors.sql.objects import SqlField, SqlObject
from connectors.sql.portable import lower_text, nstr, trimmed
from connectors.sql.values import flag

if TYPE_CHECKING:
    from connectors.trackit.source import TrackItSource

NOTE_TEXT = (
    "FullText",
    "NoteText",
    "Note_Text",
    "NOTE",
    "NOTES",
    "Text",
    "Body",
    "Memo",
    "Comment",
    "Comments",
    "Description",
    "DESCRIPT",
)
NOTE_DATE = (
    "CreatedDate",
    "CreateDate",
    "Created",
    "DateCreated",
    "NoteDate",
    "EntryDate",
    "DateEntered",
    "Date",
    "TimeStamp",
    "MODIDATE",
)
NOTE_AUTHOR = ("CreatedBy", "Author", "EnteredBy", "Technician", "UserName", "LoginId", "RESPONS", "Who")
NOTE_KEY = ("TaskNoteId", "TaskNoteID", "NoteId", "NoteID", "Id", "ID", "RecId", "RECNUM")
NOTE_PRIVATE = ("IsPrivate", "Private", "IsInternal")
NOTE_TYPE = ("WorkOrderNoteTypeId", "NoteTypeId", "NoteType", "Type", "ActivityCode")
OPTIONAL_TABLES = (  # vendor-page names (unverified): object, table, role
    ("hd_users", "HDUsers", ObjectRole.AGENT),
    ("hd_groups", "HDGroups", ObjectRole.TEAM),
    ("kb_articles", "KBArticles", ObjectRole.ARTICLE),
    ("assets", "Assets", ObjectRole.RECORD),
    ("config_items", "ConfigItems", ObjectRole.RECORD),
    ("change_requests", "ChangeRequests", ObjectRole.RECORD),
)


def field_name(column_name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", column_name.lower()).strip("_") or "column"


class TrackItSchema:
    def __init__(self, source: TrackItSource, catalog: Catalog) -> None:
        self.source = source
        self.catalog = catalog
        self.clock = source.clock

    def build(self) -> list[SqlObject]:
        tasks = self.catalog.table("tasks")
        if tasks is None:
            raise SchemaGap("no tasks table")
        view = self.catalog.table("vTASKS_BROWSE")
        if view is None:
            self.source.report(
                Finding(
                    code="source.table_missing",
                    severity=Severity.WARNING,
                    object="tickets",
                    message="vTASKS_BROWSE not found: requester emails and status names are not available",
                    detail="Track-It! versions name this view the same; check the database and schema",
                )
            )
        objects = [self.tickets(tasks, view)]
        for build in (self.notes, self.requesters, self.companies, self.technicians, self.statuses, self.priorities):
            try:
                obj = build(tasks, view)
            except SchemaGap as gap:
                self.source.report(gap_finding("Track-It!", build.__name__, str(gap)))
                continue
            if obj is not None:
                objects.append(obj)
        for name, table_name, role in OPTIONAL_TABLES:
            obj = self.optional(name, table_name, role)
            if obj is not None:
                objects.append(obj)
        return objects

    # -- fields -------------------------------------------------------------------------

    def _convert(self, kind: FieldType) -> Any:
        return self.source.local_time if kind in (FieldType.DATETIME, FieldType.DATE) else None

    def known(self, c: Columns, name: str, *columns: str, type: FieldType | None = None, **kw: Any) -> SqlField:
        expr = c.col(*columns, field=name)
        kind = type or field_type(expr.type)[0]
        if kind in (FieldType.DATETIME, FieldType.DATE):
            kind = FieldType.DATETIME
        local = kind is FieldType.DATETIME and "convert" not in kw
        return typed_field(name, expr, type=kind, convert=kw.pop("convert", None) or self._convert(kind),
                           local_time=local, **kw)

    def rest(self, table: Any, used: set[str], taken: set[str], *, custom: bool = False) -> list[SqlField]:
        """Every other column, as is: installation-specific columns must not be lost.

        On `tasks` they are the installation's custom fields (the seed: "appended
        columns"): `custom` marks them so the audit holds them to Intercom's limits."""
        return unread_fields(table, used, taken, name=field_name, custom=custom,
                             dates=lambda _column: (self.source.local_time, True))

    @staticmethod
    def _used(c: Columns, *groups: tuple[str, ...]) -> set[str]:
        names = set()
        for group in groups:
            found = c.get(*group)
            if found is not None:
                names.add(found.name.lower())
        return names

    # -- work orders --------------------------------------------------------------------------

    def requester_key(
        self, email: ColumnElement | None, name: ColumnElement | None, fallback: ColumnElement | None = None
    ) -> ColumnElement:
        """One requester per email (case-insensitive), else per name: 'name:<lower name>'."""
        whens = []
        if email is not None:
            whens.append((trimmed(email) != nstr(""), lower_text(trimmed(email))))
        for candidate in (name, fallback):
            if candidate is not None:
                whens.append((trimmed(candidate) != nstr(""), nstr("name:").concat(lower_text(trimmed(candidate)))))
        return case(*whens, else_=None) if whens else null()

    def _browse(self, view: Any, woid: ColumnElement) -> Any:
        """A lookup of one vTASKS_BROWSE column for the work order: (SELECT MAX(col) ... WHERE woid = WOID).

        A correlated lookup, not a join: SQLite cannot merge a LEFT JOIN to a view that is
        itself a join, and would rebuild the whole view for every page; SQL Server inlines
        either form. MAX keeps it one value even if the view repeats a work order.
        """
        v = (
            Columns(self.source, view.alias("browse"), object_name="tickets", table_name="vTASKS_BROWSE")
            if view is not None
            else None
        )
        if v is not None and v.get("woid") is None:
            self.source.report(
                Finding(
                    code="source.column_missing",
                    severity=Severity.WARNING,
                    object="tickets",
                    message="vTASKS_BROWSE has no woid column: it cannot be matched to tasks",
                )
            )
            v = None

        def lookup(name: str) -> ColumnElement | None:
            column = v.get(name) if v is not None else None
            if column is None:
                return None
            return select(func.max(column)).where(v.get("woid") == woid).scalar_subquery()

        return lookup

    def tickets(self, tasks: Any, view: Any) -> SqlObject:
        t = Columns(self.source, tasks, object_name="tickets", table_name="tasks")
        key = t.need("WOID")
        lookup = self._browse(view, key)
        fields = [
            self.known(t, "id", "WOID", type=FieldType.INTEGER),
            self.known(t, "number", "WO_NUM", description="the work order number people use"),
            self.known(t, "subject", "TASK"),
            self.known(t, "description", "DESCRIPT", type=FieldType.TEXT),
            self.known(t, "note", "NOTE", type=FieldType.TEXT),
            self.known(t, "requester", "REQUEST", description="the requester's name as the work order holds it"),
        ]
        email, fullname = lookup("request_email"), lookup("request_fullname")
        fields += [
            typed_field(
                "requester_email",
                email if email is not None else t.col("request_email", field="requester_email"),
                type=FieldType.EMAIL,
            ),
            typed_field(
                "requester_name",
                fullname if fullname is not None else t.col("request_fullname", field="requester_name"),
            ),
            typed_field(
                "requester_id",
                self.requester_key(email, fullname, t.get("REQUEST")),
                type=FieldType.STRING,
                references="requesters",
                description="the requester's email in lower case, else name:<name>",
            ),
            self.known(t, "technician", "RESPONS"),
        ]
        respons = t.get("RESPONS")
        fields.append(
            typed_field(
                "technician_id",
                case((trimmed(respons) != nstr(""), lower_text(trimmed(respons))), else_=None)
                if respons is not None
                else t.col("RESPONS", field="technician_id"),
                type=FieldType.STRING,
                references="technicians",
            )
        )
        status_name = lookup("WorkOrderStatusName")
        fields += [
            self.known(t, "priority", "PRIORITY", type=FieldType.OPTIONS, references="priorities"),
            typed_field(
                "status",
                status_name if status_name is not None else t.col("WorkOrderStatusName", field="status"),
                type=FieldType.OPTIONS,
            ),
            self.known(t, "status_id", "WorkOrderStatusId", type=FieldType.INTEGER, references="statuses"),
            self.known(t, "type", "TYPE"),
            self.known(t, "subtype", "WOTYPE2"),
            self.known(t, "category", "WOTYPE3"),
            self.known(t, "department", "DEPT"),
            self.known(t, "company", "LOOKUP1"),
            *self._company_key(t, "company_id"),
            self.known(t, "opened_at", "REQDATE", type=FieldType.DATETIME),
            self.known(t, "due_at", "DUEDATE", type=FieldType.DATETIME),
            self.known(t, "updated_at", "MODIDATE", type=FieldType.DATETIME),
            self.known(t, "closed_at", "CLSDDATE", "CLOSEDATE", "DATECLOSED", type=FieldType.DATETIME),
        ]
        used = self._used(
            t,
            ("WOID",),
            ("WO_NUM",),
            ("TASK",),
            ("DESCRIPT",),
            ("NOTE",),
            ("REQUEST",),
            ("RESPONS",),
            ("PRIORITY",),
            ("WorkOrderStatusId",),
            ("TYPE",),
            ("WOTYPE2",),
            ("WOTYPE3",),
            ("DEPT",),
            ("LOOKUP1",),
            ("REQDATE",),
            ("DUEDATE",),
            ("MODIDATE",),
            ("CLSDDATE", "CLOSEDATE", "DATECLOSED"),
        )
        fields += self.rest(tasks, used, {f.name for f in fields}, custom=True)
        return SqlObject(
            name="tickets",
            role=ObjectRole.CONVERSATION,
            label="work orders",
            from_=tasks,
            key=key,
            fields=fields,
            created_field="opened_at",
            updated_field="updated_at",
            since_value=self.source.clock.to_source,
            description="dbo.tasks joined to vTASKS_BROWSE; the description and the notes make the conversation",
        )

    def notes(self, tasks: Any, view: Any) -> SqlObject:
        table = self.catalog.table("TaskNote")
        if table is None:
            raise SchemaGap("no TaskNote table")
        c = Columns(self.source, table, object_name="notes", table_name="TaskNote")
        pk = self.catalog.primary_key(table)
        key = c.get(pk[0]) if len(pk) == 1 else c.get(*NOTE_KEY)
        if key is None:
            raise SchemaGap(f"TaskNote has no single-column key (columns: {', '.join(col.name for col in table.c)})")
        ticket = c.need("WOID")
        text, when, author = c.get(*NOTE_TEXT), c.get(*NOTE_DATE), c.get(*NOTE_AUTHOR)
        if when is None:
            when = next(
                (col for col in table.c if field_type(col.type)[0] in (FieldType.DATETIME, FieldType.DATE)), None
            )
        for label, found, candidates in (
            ("text", text, NOTE_TEXT),
            ("date", when, NOTE_DATE),
            ("author", author, NOTE_AUTHOR),
        ):
            if found is None:
                self.source.report(
                    Finding(
                        code="source.column_missing",
                        severity=Severity.WARNING,
                        object="notes",
                        message=f"TaskNote has no recognisable {label} column (looked for {', '.join(candidates[:4])}, ...)",
                        detail="every TaskNote column is still exposed under its own name; map the right one by hand",
                    )
                )
        body = c.col(NOTE_TEXT[0], field="body") if text is None else text
        fields = [
            typed_field(
                "id", key, type=FieldType.INTEGER if field_type(key.type)[0] is FieldType.INTEGER else FieldType.STRING
            ),
            typed_field("ticket_id", ticket, type=FieldType.INTEGER, references="tickets"),
            typed_field(
                "created_at",
                when if when is not None else c.col(NOTE_DATE[0], field="created_at"),
                type=FieldType.DATETIME,
                convert=self.source.local_time,
                local_time=True,
            ),
            typed_field("author", author if author is not None else c.col(NOTE_AUTHOR[0], field="author")),
            typed_field("body", body, type=FieldType.TEXT),
            self.known(c, "is_private", *NOTE_PRIVATE, type=FieldType.BOOLEAN, convert=flag),
            self.known(c, "note_type", *NOTE_TYPE),
        ]
        used = {
            col.name.lower()
            for col in (key, ticket, when, author, text, c.get(*NOTE_PRIVATE), c.get(*NOTE_TYPE))
            if col is not None
        }
        fields += self.rest(table, used, {f.name for f in fields})
        integer_key = field_type(key.type)[0] is FieldType.INTEGER
        return SqlObject(
            name="notes",
            role=ObjectRole.PART,
            label="notes",
            from_=table,
            key=key,
            fields=fields,
            parent="tickets",
            parent_expr=ticket,
            parent_field="ticket_id",
            order=(fields[2].expr,),
            created_field="created_at",
            since_value=self.source.clock.to_source,
            key_type=int if integer_key else str,
            description="dbo.TaskNote by WOID, in time order",
        )

    # -- what the work orders name ---------------------------------------------------------

    def requesters(self, tasks: Any, view: Any) -> SqlObject:
        if view is None:
            raise SchemaGap("no vTASKS_BROWSE view to read requesters from")
        r = Columns(self.source, view.alias("requester"), object_name="requesters", table_name="vTASKS_BROWSE")
        email, name = r.get("request_email"), r.get("request_fullname")
        if email is None and name is None:
            raise SchemaGap("vTASKS_BROWSE has neither request_email nor request_fullname")
        key = self.requester_key(email, name)
        email_expr = trimmed(email) if email is not None else r.col("request_email", field="email")
        name_expr = trimmed(name) if name is not None else r.col("request_fullname", field="name")
        company = r.get("LOOKUP1")
        company_expr = self.company_key(company) if company is not None else null()
        inner = (
            select(key.label("id"), email_expr.label("email"), name_expr.label("name"),
                   company_expr.label("company_id"))
            .select_from(r.table)
            .subquery("requester_rows")
        )
        grouped = (
            select(
                inner.c.id,
                func.min(inner.c.email).label("email"),
                func.max(inner.c.name).label("name"),
                func.max(inner.c.company_id).label("company_id"),
                func.count().label("tickets"),
            )
            .where(inner.c.id.is_not(None))
            .group_by(inner.c.id)
            .subquery("requesters")
        )
        fields = [
            typed_field("id", grouped.c.id, type=FieldType.STRING),
            typed_field("email", grouped.c.email, type=FieldType.EMAIL),
            typed_field("name", grouped.c.name),
            typed_field("tickets", grouped.c.tickets, type=FieldType.INTEGER, description="work orders they requested"),
        ]
        if company is not None:
            fields.insert(3, typed_field("company_id", grouped.c.company_id, type=FieldType.STRING,
                                         references="companies",
                                         description="the company of their work orders (LOOKUP1), as the companies' key"))
        return SqlObject(
            name="requesters",
            role=ObjectRole.CONTACT,
            label="requesters",
            from_=grouped,
            key=grouped.c.id,
            fields=fields,
            keyset=False,
            key_type=str,
            description="the requesters vTASKS_BROWSE names, one per email address (case-insensitive), else per name",
        )

    def _distinct(
        self,
        name: str,
        role: ObjectRole,
        key: ColumnElement,
        label_expr: ColumnElement | None,
        source: Any,
        label: str,
        description: str,
        key_type: Any = str,
    ) -> SqlObject:
        columns = [key.label("id")]
        if label_expr is not None:
            columns.append(label_expr.label("name"))
        inner = select(*columns).select_from(source).subquery(f"{name}_rows")
        aggregates = [inner.c.id, func.count().label("tickets")]
        if label_expr is not None:
            aggregates.insert(1, func.max(inner.c.name).label("name"))
        grouped = select(*aggregates).where(inner.c.id.is_not(None)).group_by(inner.c.id).subquery(name)
        fields = [typed_field("id", grouped.c.id, type=FieldType.INTEGER if key_type is int else FieldType.STRING)]
        if label_expr is not None:
            fields.append(typed_field("name", grouped.c.name))
        fields.append(typed_field("tickets", grouped.c.tickets, type=FieldType.INTEGER))
        return SqlObject(
            name=name,
            role=role,
            label=label,
            from_=grouped,
            key=grouped.c.id,
            fields=fields,
            keyset=False,
            key_type=key_type,
            description=description,
        )

    @staticmethod
    def company_key(company: ColumnElement) -> ColumnElement:
        """One company per name, trimmed and case-folded (LOOKUP1 is typed by hand)."""
        return case((trimmed(company) != nstr(""), lower_text(trimmed(company))), else_=None)

    def _company_key(self, c: Columns, name: str) -> list[SqlField]:
        company = c.get("LOOKUP1")
        if company is None:
            return []
        return [typed_field(name, self.company_key(company), type=FieldType.STRING, references="companies",
                            description="the company (LOOKUP1), trimmed and case-folded: the companies' key")]

    def companies(self, tasks: Any, view: Any) -> SqlObject:
        t = Columns(self.source, tasks.alias("company_task"), object_name="companies", table_name="tasks")
        company = t.get("LOOKUP1")
        if company is None:
            raise SchemaGap("tasks has no LOOKUP1 column to read companies from")
        return self._distinct(
            "companies",
            ObjectRole.COMPANY,
            self.company_key(company),
            trimmed(company),
            t.table,
            "companies",
            "the companies work orders name (tasks.LOOKUP1), one per name whatever its case or spacing",
        )

    def technicians(self, tasks: Any, view: Any) -> SqlObject:
        t = Columns(self.source, tasks.alias("assigned"), object_name="technicians", table_name="tasks")
        respons = t.need("RESPONS")
        key = case((trimmed(respons) != nstr(""), lower_text(trimmed(respons))), else_=None)
        return self._distinct(
            "technicians",
            ObjectRole.AGENT,
            key,
            trimmed(respons),
            t.table,
            "technicians",
            "the technicians work orders are assigned to (tasks.RESPONS), matched by name",
        )

    def statuses(self, tasks: Any, view: Any) -> SqlObject:
        t = Columns(self.source, tasks.alias("status_task"), object_name="statuses", table_name="tasks")
        status = t.need("WorkOrderStatusId")
        source, label = t.table, None
        if view is not None:
            v = Columns(self.source, view.alias("status_view"), object_name="statuses", table_name="vTASKS_BROWSE")
            if v.get("woid") is not None and v.get("WorkOrderStatusName") is not None:
                source = source.outerjoin(v.table, v.get("woid") == t.need("WOID"))
                label = v.get("WorkOrderStatusName")
        return self._distinct(
            "statuses",
            ObjectRole.LOOKUP,
            status,
            label,
            source,
            "statuses",
            "WorkOrderStatusId with its name from vTASKS_BROWSE",
            key_type=int,
        )

    def priorities(self, tasks: Any, view: Any) -> SqlObject:
        t = Columns(self.source, tasks.alias("priority_task"), object_name="priorities", table_name="tasks")
        priority = t.need("PRIORITY")
        key = case((trimmed(priority) != nstr(""), trimmed(priority)), else_=None)
        return self._distinct(
            "priorities",
            ObjectRole.LOOKUP,
            key,
            None,
            t.table,
            "priorities",
            "priorities are text on the work order (Routine, High, Urgent, ...)",
        )

    # -- vendor-page tables, when present ------------------------------------------------------

    def optional(self, name: str, table_name: str, role: ObjectRole) -> SqlObject | None:
        table = self.catalog.table(table_name)
        if table is None:
            self.source.report(
                Finding(
                    code="source.optional_table_absent",
                    severity=Severity.INFO,
                    object=name,
                    message=f"no {table_name} table: {name} are not read",
                    detail="a Track-It! module table named on the vendor's page; absent in this database",
                )
            )
            return None
        pk = self.catalog.primary_key(table)
        c = Columns(self.source, table, object_name=name, table_name=table_name)
        key = c.get(pk[0]) if len(pk) == 1 else None
        keyset = key is not None
        if key is None:
            key = next((col for col in table.c if col.name.lower().endswith("id")), None)
            if key is None:
                key = next(iter(table.c), None)
            if key is None:
                return None
            self.source.report(
                Finding(
                    code="source.no_primary_key",
                    severity=Severity.WARNING,
                    object=name,
                    message=f"{table_name} has no single-column primary key: records are keyed by {key.name}, "
                    "which may not be unique",
                    detail="duplicates of that column are reported by the audit",
                )
            )
        fields = self.rest(table, set(), {"id"})
        key_field = field_name(key.name)
        integer = field_type(key.type)[0] is FieldType.INTEGER
        fields = [typed_field("id", key, type=FieldType.INTEGER if integer else FieldType.STRING)] + fields
        created = next((f.name for f in fields if f.type is FieldType.DATETIME and "creat" in f.name), None)
        updated = next((f.name for f in fields if f.type is FieldType.DATETIME and "modif" in f.name), None)
        return SqlObject(
            name=name,
            role=role,
            label=table_name,
            from_=table,
            key=key,
            fields=fields,
            keyset=keyset,
            key_type=int if integer else str,
            created_field=created,
            updated_field=updated,
            since_value=self.source.clock.to_source,
            optional=True,
            description=f"{table_name}, read as is (its layout is not public); key column {key_field}",
        )
