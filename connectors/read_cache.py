"""What a REST source has read once in this run, kept on disk so it is never read twice.

The audit reads every object several times (profile, value checks, duplicates, orphans,
threads, attachments); over a REST API each pass costs requests, and a tenant with a
quota pays for every one. `ReadCache` keeps the rows of a completed read in a temporary
SQLite file (memory stays flat however large the tenant), under a key naming what was
asked (a class, a list route, one incident's conversation), with an optional group (the
parent a row belongs to) so a thread comes back without reading the whole object again.
A read that stops half-way is never kept. The file goes away with `close()`, or as
scratch does (connectors/scratch.py) when the cache is forgotten or its process killed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from connectors.scratch import removed_with, sweep_stale

CHUNK = 500  # rows fetched from the file per query while streaming a cached read
PREFIX = "helpmig-reads-"

Grouper = Callable[[dict], "str | None"]


class ReadCache:
    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._path: str | None = None
        self._lock = threading.RLock()
        self._done: dict[str, int] = {}  # key -> rows kept
        self._filling: set[str] = set()
        self._removal: weakref.finalize | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            sweep_stale(PREFIX)
            fd, self._path = tempfile.mkstemp(prefix=PREFIX, suffix=".sqlite")
            os.close(fd)
            self._db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            self._removal = removed_with(self, self._db, Path(self._path))
            self._db.execute("PRAGMA journal_mode=OFF")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, key TEXT NOT NULL, grp TEXT, data TEXT NOT NULL)")
            self._db.execute("CREATE INDEX rows_key ON rows (key, grp, id)")
        return self._db

    def has(self, key: str) -> bool:
        return key in self._done

    def size(self, key: str) -> int | None:
        """Rows kept under a completed key; None when it was not read to its end."""
        return self._done.get(key)

    def rows(self, key: str, read: Callable[[], Iterable[dict]], group: Grouper | None = None) -> Iterator[dict]:
        """The rows under `key`: from the file when a read completed, else from `read()`, kept as they pass."""
        if key in self._done:
            yield from self._stored(key)
            return
        if key in self._filling:  # the same read nested in itself: do not keep it twice
            yield from read()
            return
        self._filling.add(key)
        kept = 0
        try:
            with self._lock:
                self._conn().execute("DELETE FROM rows WHERE key = ?", (key,))
            batch: list[tuple[str, str | None, str]] = []
            for row in read():
                batch.append((key, group(row) if group else None, json.dumps(row, ensure_ascii=False)))
                kept += 1
                if len(batch) >= CHUNK:
                    self._insert(batch)
                    batch = []
                yield row
            self._insert(batch)
            self._done[key] = kept
        finally:
            self._filling.discard(key)

    def fill(self, key: str, read: Callable[[], Iterable[dict]], group: Grouper | None = None) -> int:
        """Read `key` to its end (when not done yet); the number of rows kept."""
        if key not in self._done:
            for _ in self.rows(key, read, group):
                pass
        return self._done.get(key, 0)

    def group(self, key: str, grp: str) -> list[dict]:
        """The rows of a completed key that belong to one group (a parent's children)."""
        with self._lock:
            found = self._conn().execute("SELECT data FROM rows WHERE key = ? AND grp = ? ORDER BY id", (key, grp)).fetchall()
        return [json.loads(data) for (data,) in found]

    def _insert(self, batch: list[tuple[str, str | None, str]]) -> None:
        if batch:
            with self._lock:
                self._conn().executemany("INSERT INTO rows (key, grp, data) VALUES (?, ?, ?)", batch)

    def _stored(self, key: str) -> Iterator[dict]:
        last = 0
        while True:
            with self._lock:
                found = self._conn().execute("SELECT id, data FROM rows WHERE key = ? AND id > ? ORDER BY id LIMIT ?",
                                             (key, last, CHUNK)).fetchall()
            if not found:
                return
            for last, data in found:
                yield json.loads(data)

    def forget(self, key: str) -> None:
        self._done.pop(key, None)

    def close(self) -> None:
        """Remove the file; what was kept is forgotten (a later read reads again)."""
        with self._lock:
            if self._removal is not None:
                self._removal()
            self._removal = self._db = self._path = None
            self._done.clear()

