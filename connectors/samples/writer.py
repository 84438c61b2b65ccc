"""Writing a sample database as it is generated: rows go out in executemany batches and files
straight to disk, so a sample of a million tickets needs no more memory than one of a thousand."""

from __future__ import annotations

import sqlite3
from pathlib import Path

BATCH = 5000


class SampleWriter:
    """A fresh SQLite file (tuned for bulk writing: a sample is rebuilt, never repaired) and a file tree."""

    def __init__(self, database: Path, ddl: str, files_root: Path, *, write_files: bool = True) -> None:
        if database.exists():
            database.unlink()
        database.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(database)
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.executescript(ddl)
        self.conn.execute("BEGIN")
        self.root = files_root
        self.root.mkdir(parents=True, exist_ok=True)
        self.write_files = write_files
        self._pending: dict[str, list[tuple]] = {}
        self._columns: dict[str, str] = {}
        self._folders: set[Path] = set()

    def add(self, table: str, row: tuple) -> None:
        """Queue a row; the previous rows of the table are flushed once a batch is full.

        The newest row stays queued until the next one, so `replace_last` can still amend it.
        """
        pending = self._pending.setdefault(table, [])
        if len(pending) >= BATCH:
            self._flush(table)
        self._pending[table].append(row)

    def last(self, table: str) -> tuple:
        return self._pending[table][-1]

    def replace_last(self, table: str, row: tuple) -> None:
        self._pending[table][-1] = row

    def file(self, relative: str | Path, data: bytes) -> None:
        if not self.write_files:
            return
        path = self.root / relative
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        path.write_bytes(data)

    def _flush(self, table: str) -> None:
        rows = self._pending.get(table)
        if not rows:
            return
        if table not in self._columns:
            names = [row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")]
            self._columns[table] = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
        self.conn.executemany(self._columns[table], rows)
        self._pending[table] = []

    def close(self) -> None:
        for table in list(self._pending):
            self._flush(table)
        self.conn.commit()
        self.conn.close()
