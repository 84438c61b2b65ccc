"""A Source held in memory, for engine tests that need exact, hand-made data."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import datetime

from connectors.base import (
    AttachmentRef,
    Capability,
    ConnectionCheck,
    ObjectSpec,
    Record,
    Source,
    SourceSchema,
)


class MemorySource(Source):
    platform = "memory"
    capabilities = Capability.ATTACHMENTS | Capability.EXACT_COUNTS

    def __init__(
        self,
        specs: Sequence[ObjectSpec],
        records: dict[str, list[Record]],
        files: dict[str, list[tuple[str, bytes | None]]] | None = None,
        platform: str = "memory",
    ) -> None:
        super().__init__()
        self.specs = tuple(specs)
        self.records = records
        self.files = files or {}  # record key -> [(name, content or None if missing)]
        self.platform = platform

    @classmethod
    def from_options(cls, options, secret):
        raise NotImplementedError("built directly in tests")

    def check(self) -> ConnectionCheck:
        return ConnectionCheck(True, "in memory")

    def describe(self) -> SourceSchema:
        return SourceSchema(self.platform, self.specs)

    def iter_records(self, object: str, since: datetime | None = None, batch_size: int = 500) -> Iterator[list[Record]]:
        rows = self.records.get(object, [])
        if since is not None:
            rows = [r for r in rows if r.updated_at is None or r.updated_at >= since]
        for i in range(0, len(rows), batch_size):
            yield rows[i : i + batch_size]

    def attachments(self, object: str, record: Record) -> list[AttachmentRef]:
        refs = []
        for name, content in self.files.get(record.key, []):
            opener = (lambda data=content: io.BytesIO(data)) if content is not None else None
            refs.append(
                AttachmentRef(name=name, size=None if content is None else len(content),
                              content_type="application/octet-stream", record_key=record.key, opener=opener)
            )
        return refs
