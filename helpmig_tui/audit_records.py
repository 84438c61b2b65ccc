"""Every record an audit finding names, not only the sample a finding keeps.

A finding carries its exact count and a few keys; the operator reviewing before the load
needs all of them, with the number people know each record by. They are spilled to a
temporary file as the audit meets them (flat memory however many there are) and written
to `reports/affected-records.csv` with the audit's other reports.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from typing import IO

HEADER = ("severity", "code", "object", "key", "number")
SPOOL_BYTES = 4 * 1024 * 1024  # kept in memory up to this size, then on disk


class AffectedRecords:
    """An append-only list of (severity, code, object, key, number) rows."""

    def __init__(self) -> None:
        self._file: IO[str] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close()
            max_size=SPOOL_BYTES, mode="w+", encoding="utf-8", newline=""
        )
        self._writer = csv.writer(self._file)
        self.count = 0

    def add(self, severity: str, code: str, object: str | None, key: str, number: str | None = None) -> None:
        self._writer.writerow((severity, code, object or "", key, number or ""))
        self.count += 1

    def rows(self) -> Iterator[tuple[str, ...]]:
        self._file.flush()
        self._file.seek(0)
        try:
            for row in csv.reader(self._file):
                yield tuple(row)
        finally:
            self._file.seek(0, 2)  # further rows append

    def close(self) -> None:
        self._file.close()
