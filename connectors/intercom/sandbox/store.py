"""The sandbox's objects: in memory, optionally written through to a SQLite file.

Objects are JSON-able dicts grouped by kind ("contacts", "conversations", ...). Unique
secondary keys (a contact's external_id, a company's company_id, a tag's name) are kept in
indexes so lookups stay O(1) under benchmark load. With a path, every `put`/`remove` is
committed before the route answers: a write "applied, then 502" is really applied, and the
workspace survives a restart of the sandbox. A list that grows (a conversation's parts)
can be kept in rows of its own (`keep_apart`): a reply then writes only its part (`append`),
not the whole thread again, which grew with every reply of a long thread; any other `put`
writes the list again whole. The counters an id was drawn from are written in the same
transaction as the next `put` or `remove` (every id a route answers is in an object it
stored), so a reply commits once, not three times; an id drawn for nothing that was stored
may be drawn again after a crash, which nothing can tell.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

Obj = dict[str, Any]
KeyFunction = Callable[[Obj], Any]


class Store:
    def __init__(self, path: str | None = None) -> None:
        self._objects: dict[str, dict[str, Obj]] = {}
        self._counters: dict[str, int] = {}
        self._indexes: dict[tuple[str, str], tuple[KeyFunction, dict[Any, str]]] = {}
        self._apart: dict[str, str] = {}  # kind -> its appended list kept in rows of its own
        self._written: dict[tuple[str, str], int] = {}  # (kind, id) -> items of that list in rows
        self._revisions: dict[tuple[str, str], int] = {}  # (kind, id) -> puts, appends not counted
        self._unsaved: set[str] = set()  # counters drawn from since they were last written
        self._db: sqlite3.Connection | None = None
        if path:
            self._open(path)

    def _open(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS objects (kind TEXT, id TEXT, body TEXT, seq INTEGER, PRIMARY KEY (kind, id))")
        self._db.execute("CREATE TABLE IF NOT EXISTS counters (kind TEXT PRIMARY KEY, value INTEGER)")
        self._db.execute("CREATE TABLE IF NOT EXISTS items (kind TEXT, id TEXT, field TEXT, n INTEGER, body TEXT, "
                         "PRIMARY KEY (kind, id, n))")
        for kind, object_id, body in self._db.execute("SELECT kind, id, body FROM objects ORDER BY seq"):
            self._objects.setdefault(kind, {})[object_id] = json.loads(body)
        rows = self._db.execute("SELECT kind, id, field, body FROM items ORDER BY kind, id, n")
        for kind, object_id, name, body in rows:
            obj = self._objects.get(kind, {}).get(object_id)
            if obj is not None:
                obj.setdefault(name, []).append(json.loads(body))
                self._written[(kind, object_id)] = len(obj[name])
        for kind, value in self._db.execute("SELECT kind, value FROM counters"):
            self._counters[kind] = value

    def close(self) -> None:
        if self._db is not None:
            if self._unsaved:
                self._transaction(lambda: None)
            self._db.close()
            self._db = None

    def save_as(self, path: str) -> None:
        """Every object and counter, written to a new state file (one transaction): a
        workspace as it stands, to start another sandbox from (the benchmarks' kept desks)."""
        copy = Store(path)
        assert copy._db is not None
        with copy._db:
            copy._db.execute("BEGIN")
            copy._db.executemany("INSERT OR REPLACE INTO objects (kind, id, body, seq) VALUES (?, ?, ?, ?)",
                                 ((kind, object_id, json.dumps(obj), n)
                                  for n, (kind, object_id, obj) in enumerate(
                                      (k, i, o) for k, table in self._objects.items() for i, o in table.items())))
            copy._db.executemany("INSERT OR REPLACE INTO counters (kind, value) VALUES (?, ?)",
                                 self._counters.items())
        copy.close()

    def keep_apart(self, kind: str, name: str) -> None:
        """Write the list `name` of this kind's objects in rows of its own: `append` writes the
        new items only, `put` all of them."""
        self._apart[kind] = name

    def add_index(self, kind: str, name: str, key: KeyFunction) -> None:
        """A unique secondary key; objects whose key is None are not indexed."""
        entries: dict[Any, str] = {}
        for object_id, obj in self._objects.get(kind, {}).items():
            value = key(obj)
            if value is not None:
                entries[value] = object_id
        self._indexes[(kind, name)] = (key, entries)

    def next_id(self, kind: str) -> int:
        value = self._counters.get(kind, 0) + 1
        self._counters[kind] = value
        self._unsaved.add(kind)
        return value

    def _transaction(self, write: Callable[[], None]) -> None:
        """`write`, and the counters drawn from since they were last written, in one commit."""
        assert self._db is not None
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT OR REPLACE INTO counters (kind, value) VALUES (?, ?)",
                                 [(kind, self._counters[kind]) for kind in self._unsaved])
            write()
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._unsaved.clear()

    def get(self, kind: str, object_id: str) -> Obj | None:
        return self._objects.get(kind, {}).get(str(object_id))

    def lookup(self, kind: str, index: str, value: Any) -> Obj | None:
        key, entries = self._indexes[(kind, index)]
        object_id = entries.get(value)
        obj = None if object_id is None else self.get(kind, object_id)
        if obj is not None and key(obj) != value:  # changed in place since it was indexed
            del entries[value]
            return None
        return obj

    def all(self, kind: str) -> Iterator[Obj]:
        return iter(list(self._objects.get(kind, {}).values()))

    def count(self, kind: str) -> int:
        return len(self._objects.get(kind, {}))

    def put(self, kind: str, obj: Obj) -> Obj:
        """Insert or replace (by obj["id"]); call after every change to an object."""
        return self._put(kind, obj, appended=False)

    def append(self, kind: str, obj: Obj) -> Obj:
        """`put` after items were appended to the object's kept-apart list and nothing in its
        earlier items changed: only the new items are written."""
        return self._put(kind, obj, appended=True)

    def revision(self, kind: str, object_id: str) -> int:
        """How often the object was put (appends not counted): what was derived from its
        kept-apart list's items stays true while this stays the same."""
        return self._revisions.get((kind, str(object_id)), 0)

    def _put(self, kind: str, obj: Obj, *, appended: bool) -> Obj:
        object_id = str(obj["id"])
        table = self._objects.setdefault(kind, {})
        self._unindex(kind, table.get(object_id))
        table[object_id] = obj
        for (index_kind, _), (key, entries) in self._indexes.items():
            if index_kind == kind and (value := key(obj)) is not None:
                entries[value] = object_id
        name = self._apart.get(kind)
        if not appended or name is None:
            self._revisions[(kind, object_id)] = self.revision(kind, object_id) + 1
        if self._db is not None:
            seq = self.next_id("_seq")
            if name is None or not isinstance(obj.get(name), list):
                self._transaction(lambda: self._write(kind, object_id, obj, seq))
                return obj
            items, done = obj[name], self._written.get((kind, object_id), 0)
            if not appended or done > len(items):  # any item may have changed: all written again
                done = -1

            def write() -> None:
                assert self._db is not None
                if done < 0:
                    self._db.execute("DELETE FROM items WHERE kind = ? AND id = ?", (kind, object_id))
                self._db.executemany("INSERT INTO items (kind, id, field, n, body) VALUES (?, ?, ?, ?, ?)",
                                     ((kind, object_id, name, n, json.dumps(items[n]))
                                      for n in range(max(done, 0), len(items))))
                self._write(kind, object_id, {**obj, name: []}, seq)

            self._transaction(write)
            self._written[(kind, object_id)] = len(items)
        return obj

    def _write(self, kind: str, object_id: str, body: Obj, seq: int) -> None:
        assert self._db is not None
        self._db.execute(
            "INSERT INTO objects (kind, id, body, seq) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
            (kind, object_id, json.dumps(body), seq),
        )

    def remove(self, kind: str, object_id: str) -> Obj | None:
        obj = self._objects.get(kind, {}).pop(str(object_id), None)
        self._unindex(kind, obj)
        if obj is not None and self._db is not None:
            db = self._db

            def write() -> None:
                db.execute("DELETE FROM objects WHERE kind = ? AND id = ?", (kind, str(object_id)))
                db.execute("DELETE FROM items WHERE kind = ? AND id = ?", (kind, str(object_id)))

            self._transaction(write)
            self._written.pop((kind, str(object_id)), None)
        return obj

    def _unindex(self, kind: str, obj: Obj | None) -> None:
        if obj is None:
            return
        for (index_kind, _), (key, entries) in self._indexes.items():
            if index_kind == kind and (value := key(obj)) is not None and entries.get(value) == str(obj["id"]):
                del entries[value]
