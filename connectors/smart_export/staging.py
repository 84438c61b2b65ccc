"""A local SQLite copy of each export file, so reads stay in flat memory and checks are queries.

Each object is read once into its own table: one row per accepted record (its key,
parent, dates and data as JSON), in file order. A row whose id was already read is
rejected with its reason (identical to, or different from, the row that came first)
and kept in `rejects`, so rows in the file = records + rejected, always.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.scratch import removed_with, sweep_stale

PREFIX = "helpmig-smart-"


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    return value


def dumps(data: dict[str, Any]) -> str:
    return json.dumps({k: _encode(v) for k, v in data.items()}, ensure_ascii=False, sort_keys=True)


def loads(text: str) -> dict[str, Any]:
    return {k: _decode(v) for k, v in json.loads(text).items()}


class Stage:
    def __init__(self, directory: str | Path | None = None) -> None:
        if directory is None:
            sweep_stale(PREFIX)
        self.dir = Path(tempfile.mkdtemp(prefix=PREFIX)) if directory is None else Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "stage.sqlite"
        self.path.unlink(missing_ok=True)
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        # a folder of its own goes whole; in the operator's staging folder, only the copy
        self._removal = removed_with(self, self.db, self.dir if directory is None else self.path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE rejects (object TEXT, row INTEGER, key TEXT, reason TEXT)")

    def create(self, table: str) -> None:
        self.db.execute(f'DROP TABLE IF EXISTS "{table}"')
        self.db.execute(
            f'CREATE TABLE "{table}" (seq INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, row INTEGER, digest TEXT,'
            " parent TEXT, sub TEXT, created TEXT, updated TEXT, flag INTEGER DEFAULT 0, data TEXT)"
        )
        self.db.execute(f'CREATE INDEX "{table}_parent" ON "{table}" (parent, created, seq)')
        self.db.execute(f'CREATE INDEX "{table}_sub" ON "{table}" (sub)')

    def add(self, table: str, *, key: str, row: int, data: dict[str, Any], parent: str | None = None, sub: str | None = None,
            created: datetime | None = None, updated: datetime | None = None, flag: int = 0) -> str | None:
        """Insert a record; None when accepted, else the reason it was rejected (a duplicate id)."""
        text = dumps(data)
        digest = str(hash(text))
        try:
            self.db.execute(
                f'INSERT INTO "{table}" (key, row, digest, parent, sub, created, updated, flag, data) VALUES (?,?,?,?,?,?,?,?,?)',
                (key, row, digest, parent, sub, created.isoformat() if created else None,
                 updated.isoformat() if updated else None, flag, text),
            )
            return None
        except sqlite3.IntegrityError:
            first_row, first_digest = self.db.execute(f'SELECT row, digest FROM "{table}" WHERE key = ?', (key,)).fetchone()
            same = "identical to" if first_digest == digest else "different from"
            reason = f"duplicate id {key!r}: {same} row {first_row}, which was kept"
            self.reject(table, row, key, reason)
            return reason

    def reject(self, table: str, row: int, key: str | None, reason: str) -> None:
        self.db.execute("INSERT INTO rejects VALUES (?,?,?,?)", (table, row, key, reason))

    def commit(self) -> None:
        self.db.commit()

    def count(self, table: str, where: str = "", params: Sequence[Any] = ()) -> int:
        return self.db.execute(f'SELECT COUNT(*) FROM "{table}" {where}', params).fetchone()[0]

    def rejects(self, table: str) -> list[tuple[int, str | None, str]]:
        return self.db.execute("SELECT row, key, reason FROM rejects WHERE object = ? ORDER BY row", (table,)).fetchall()

    def rows(self, table: str, where: str = "", params: Sequence[Any] = (), order: str = "created IS NOT NULL, created, seq"
             ) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        """(key, parent, data) in order, fetched in chunks."""
        cursor = self.db.execute(f'SELECT key, parent, data FROM "{table}" {where} ORDER BY {order}', params)
        while chunk := cursor.fetchmany(500):
            for key, parent, data in chunk:
                yield key, parent, loads(data)

    def values(self, table: str, field: str, where: str = "", params: Sequence[Any] = ()) -> Iterator[tuple[str, Any]]:
        cursor = self.db.execute(f'SELECT key, json_extract(data, ?) FROM "{table}" {where}', ("$." + field, *params))
        while chunk := cursor.fetchmany(1000):
            yield from chunk

    def close(self) -> None:
        self._removal()
