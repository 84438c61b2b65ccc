"""`TrackItSource`: BMC Track-It!'s SQL Server database, read-only.

Dates are the server's wall-clock time: they are converted with the configured source
time zone (or this machine's) into aware UTC. Attachments are files in one folder per
work order number under the IncidentRepository root (sources.md section 2.3); nothing in
the database names them, so a file can be found or not, never "missing".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from connectors.attachment_files import FolderIndex, problem_hint
from connectors.base import AttachmentRef, Capability, Finding, Record, Severity, SourceError
from connectors.local_time import SourceClock
from connectors.sql.builder import SchemaGap
from connectors.sql.catalog import Catalog
from connectors.sql.database import SqlSettings
from connectors.sql.objects import SqlObject
from connectors.sql.source import SqlSource
from connectors.trackit.objects import TrackItSchema

SAMPLE_KEYS = 20


class TrackItSource(SqlSource):
    """Track-It! on dbo.tasks, dbo.TaskNote and dbo.vTASKS_BROWSE."""

    platform = "trackit"
    capabilities = SqlSource.capabilities | Capability.ATTACHMENTS | Capability.DELTA_UPDATED_AT

    def __init__(
        self,
        settings: SqlSettings,
        secret: Callable[[str], str | None],
        *,
        attachments: str | None = None,
        timezone: str | None = None,
    ) -> None:
        super().__init__(settings, secret)
        self.clock = SourceClock(timezone)  # no zone set: the audit's blocker names the assumed one
        self.folders = FolderIndex(attachments)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], secret: Callable[[str], str | None]) -> TrackItSource:
        """Options: sqlite | odbc | server (+ database, trusted, user, driver, encrypt,
        trust_server_certificate) | url; schema, attachments, timezone."""
        return cls(
            SqlSettings.from_options(options),
            secret,
            attachments=options.get("attachments") or None,
            timezone=options.get("timezone") or None,
        )

    def build_objects(self, catalog: Catalog) -> list[SqlObject]:
        try:
            return TrackItSchema(self, catalog).build()
        except SchemaGap as gap:
            raise SourceError(
                f"this does not look like a Track-It! database: {gap}",
                hint="check the database name (TRACKIT_DATA, TRACKIT9_DATA, ...) and the schema (--schema, default dbo)",
                code="source.not_trackit",
            ) from None

    # -- attachments ----------------------------------------------------------------------

    def _root_checked(self) -> bool:
        if self.folders.available:
            return True
        where = str(self.folders.root) if self.folders.root else "not set"
        why = f" ({self.folders.root_problem})" if self.folders.root_problem else ""
        self.report(
            Finding(
                code="source.attachments_root_missing",
                severity=Severity.WARNING,
                message=f"attachments folder {where}{why}: no attachments are read",
                detail=problem_hint(self.folders.root_problem) if self.folders.root_problem else
                "give the IncidentRepository folder (FileStorageData\\Repositories\\IncidentRepository) with --attachments",
            )
        )
        return False

    def attachments(self, object: str, record: Record) -> list[AttachmentRef]:
        if object != "tickets" or not self._root_checked():
            return []
        return self.folders.refs(record.data.get("number"), record.key)

    def iter_attachments(self, object: str) -> Iterator[AttachmentRef]:
        """Every work order's files; folders that match no work order are reported."""
        if object != "tickets" or not self._root_checked():
            return
        obj = self.sql_object("tickets")
        folders = self.folders.folders()
        matched: set[str] = set()
        query = obj.lean_select("number")
        with self.connection("list work orders") as conn:
            result = conn.execution_options(stream_results=True, yield_per=2000).execute(query.order_by(obj.key))
            for row in result:
                name = FolderIndex.normalize(str(row[-1])) if row[-1] is not None else None
                if name is not None and name in folders:
                    matched.add(name)
                    yield from self.folders.refs(row[-1], str(row[0]))
        strays = sorted(set(folders) - matched)
        if strays:
            self.report(
                Finding(
                    code="attachments.orphan_folder",
                    severity=Severity.WARNING,
                    object="tickets",
                    message=f"{len(strays)} attachment folders match no work order number",
                    keys=tuple(strays[:SAMPLE_KEYS]),
                    count=len(strays),
                    detail=f"under {self.folders.root}; their files are not migrated",
                )
            )
