"""`SmarterTrackSource`: SmarterTrack's database (SQLite, SQL Server, any URL), read-only.

Attachments are files under the App_Data folder, named in the database by
FileNameOnDisk but not by folder: the folder tree is indexed once and files are matched
by name and length (sources.md section 1.3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import literal_column, or_, select

from connectors.attachment_files import FileIndex
from connectors.base import AttachmentRef, Capability, Finding, Record, Severity, SourceError
from connectors.local_time import SourceClock
from connectors.smartertrack.objects import DEFAULT_AGENT_ROLES, SmarterTrackSchema
from connectors.smartertrack.related import Related
from connectors.sql.builder import SchemaGap
from connectors.sql.catalog import Catalog, column
from connectors.sql.database import SqlSettings, option_flag
from connectors.sql.objects import SqlObject
from connectors.sql.portable import is_set, is_unset
from connectors.sql.source import SqlSource

# object -> (attachment table, column naming the owning record)
ATTACHMENT_TABLES = {
    "tickets": ("TicketAttachments", "TicketId"),
    "messages": ("TicketAttachments", "TicketMessageId"),
    "chats": ("ChatAttachments", "ChatId"),
    "call_logs": ("CallLogAttachments", "CallLogId"),
}


def _roles(value: Any) -> tuple[str, ...]:
    if not value:
        return DEFAULT_AGENT_ROLES
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(str(part) for part in value)


class SmarterTrackSource(SqlSource):
    """SmarterTrack on its st_* tables."""

    platform = "smartertrack"
    capabilities = SqlSource.capabilities | Capability.ATTACHMENTS

    def __init__(
        self,
        settings: SqlSettings,
        secret: Callable[[str], str | None],
        *,
        prefix: str = "st_",
        attachments: str | None = None,
        include_deleted: bool = False,
        agent_roles: tuple[str, ...] = DEFAULT_AGENT_ROLES,
        timezone: str | None = None,
    ) -> None:
        super().__init__(settings, secret, include_deleted=include_deleted)
        self.clock = SourceClock(timezone)  # for date columns not named *Utc
        self.prefix = prefix
        self.agent_roles = agent_roles
        self.files = FileIndex(attachments)
        self.people = Related(self)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], secret: Callable[[str], str | None]) -> SmarterTrackSource:
        """Options: sqlite | odbc | server (+ database, trusted, user, driver, encrypt,
        trust_server_certificate) | url; schema, prefix, attachments, include_deleted, agent_roles,
        timezone (of date columns not named *Utc)."""
        prefix = options.get("prefix")
        return cls(
            SqlSettings.from_options(options),
            secret,
            prefix="st_" if prefix is None else str(prefix),
            attachments=options.get("attachments") or None,
            include_deleted=option_flag(options.get("include_deleted"), False),
            agent_roles=_roles(options.get("agent_roles")),
            timezone=options.get("timezone") or None,
        )

    def build_objects(self, catalog: Catalog) -> list[SqlObject]:
        try:
            return SmarterTrackSchema(self, catalog).build()
        except SchemaGap as gap:
            raise SourceError(
                f"this does not look like a SmarterTrack database: {gap}",
                hint="check the database, the schema (--schema, default dbo) and the table prefix (--prefix, default st_)",
                code="source.not_smartertrack",
            ) from None

    # -- attachments ----------------------------------------------------------------------

    def _attachment_query(self, object: str, *, deleted: bool = False) -> tuple[Any, Any, Any] | None:
        """(select of owner, id, original name, name on disk, length, cid; owner column; id column).
        With `deleted`, the rows flagged IsDeleted that the read leaves out (None when there are none)."""
        if object not in ATTACHMENT_TABLES:
            return None
        table_name, owner_name = ATTACHMENT_TABLES[object]
        table = self.catalog.table(self.prefix + table_name)
        if table is None:
            return None
        owner, disk = column(table, owner_name), column(table, "FileNameOnDisk")
        if owner is None or disk is None:
            self.report(
                Finding(
                    code="source.column_missing",
                    severity=Severity.WARNING,
                    object=object,
                    message=f"{self.prefix}{table_name} has no {owner_name if owner is None else 'FileNameOnDisk'}: "
                    f"attachments of {object} cannot be listed",
                )
            )
            return None
        key = column(table, table_name[:-1] + "Id")  # TicketAttachmentId, ChatAttachmentId, ...
        key = disk if key is None else key
        parts = [
            owner,
            key,
            column(table, "FileNameOriginal"),
            disk,
            column(table, "Length"),
            column(table, "CidTagName"),
        ]
        query = select(*[p if p is not None else literal_column("NULL") for p in parts]).select_from(table)
        conditions = []
        flagged = column(table, "IsDeleted")
        if deleted and (flagged is None or self.include_deleted):
            return None
        if flagged is not None and not self.include_deleted:
            conditions.append(is_set(flagged) if deleted else is_unset(flagged))
        if object == "tickets":
            message = column(table, "TicketMessageId")
            if message is not None:
                conditions.append(or_(message.is_(None), message == literal_column("0")))
        return query.where(*conditions), owner, key

    def _root_checked(self) -> None:
        if not self.files.available:
            where = str(self.files.root) if self.files.root else "not set"
            self.report(
                Finding(
                    code="source.attachments_root_missing",
                    severity=Severity.WARNING,
                    message=f"attachments folder {where}: every attachment reads as missing",
                    detail="give the App_Data folder (or a copy of it) with --attachments",
                )
            )

    def _ref(self, row: Any) -> AttachmentRef:
        owner, _, original, on_disk, length, cid = row
        return self.files.ref(
            on_disk, original, str(owner), length=length if isinstance(length, int) else None, content_id=cid or None
        )

    def attachments(self, object: str, record: Record) -> list[AttachmentRef]:
        found = self._attachment_query(object)
        if found is None:
            return []
        query, owner, key = found
        self._root_checked()
        obj = self.sql_object(object)
        rows = self.rows(query.where(owner == obj.key_type(record.key)).order_by(key), "list attachments")
        return [self._ref(row) for row in rows]

    def iter_attachments(self, object: str) -> Iterator[AttachmentRef]:
        """Every attachment of the object's records, in one streamed query."""
        found = self._attachment_query(object)
        if found is None:
            return
        self._root_checked()
        yield from self._stream_attachments(object, *found)
        for finding in self.files.take_folder_findings():
            self.report(finding)

    def skipped_attachments(self, object: str) -> Iterator[tuple[str, AttachmentRef]]:
        """The files of the object's records whose rows are flagged IsDeleted (read left out)."""
        found = self._attachment_query(object, deleted=True)
        if found is not None:
            for ref in self._stream_attachments(object, *found):
                yield "deleted", ref

    def _stream_attachments(self, object: str, query: Any, owner: Any, key: Any) -> Iterator[AttachmentRef]:
        obj = self.sql_object(object)
        owners = select(obj.key).select_from(obj.from_).where(*obj.where)
        with self.connection("list attachments") as conn:
            result = conn.execution_options(stream_results=True, yield_per=1000).execute(
                query.where(owner.in_(owners)).order_by(owner, key)
            )
            for row in result:
                yield self._ref(row)
