"""What the scope check remembers while it reads a desk, kept on disk rather than in memory.

The check must know, for every record another may name (the ticket a message belongs to,
the contact a ticket's requester is), whether it will load, is rejected or is left out by
the map; and, for each class of what will not migrate, how often each reason was given
(the finding says the commonest). On a desk of a million tickets that is millions of
keys: they go to a private temporary SQLite database, whose page cache bounds the memory
however large the desk, and which is gone after `close()`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

LOADS, REJECTED, LEFT_OUT = 0, 1, 2
_FLUSH = 2000  # keys noted in memory before they are written to the file
_IN = 500  # keys asked for in one query (SQLite allows 999 parameters before 3.32)

Said = tuple[str, str]  # (code, reason)


class ScopeBook:
    def __init__(self) -> None:
        self._db = sqlite3.connect("", isolation_level=None)  # "": a temporary file, deleted on close
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE keys (obj TEXT, key TEXT, state INTEGER, code TEXT, reason TEXT, "
                         "PRIMARY KEY (obj, key, state)) WITHOUT ROWID")
        self._db.execute("CREATE TABLE reasons (class INTEGER, reason TEXT, n INTEGER, first INTEGER, "
                         "PRIMARY KEY (class, reason)) WITHOUT ROWID")
        self._pending: dict[tuple[str, str, int], Said] = {}
        self._given = 0

    def note(self, obj: str, key: str, state: int, said: Said = ("", "")) -> None:
        """The record `key` of `obj` loads, is rejected or left out (a later note of the same
        state replaces an earlier one, as a key read twice is judged by its last read)."""
        self._pending[(obj, key, state)] = said
        if len(self._pending) >= _FLUSH:
            self._flush()

    def states(self, obj: str, key: object) -> dict[int, Said]:
        """What was noted of `key` in `obj`: state -> (code, reason); empty for a key never
        noted, and for a value that is not a key (None, a number)."""
        return self.states_of(obj, [key]).get(key, {}) if isinstance(key, str) else {}

    def states_of(self, obj: str, keys: Iterable[object]) -> dict[str, dict[int, Said]]:
        """`states` of many keys at once (a batch's parents: one query rather than one each);
        keys never noted are left out."""
        wanted = list({k for k in keys if isinstance(k, str)})
        found: dict[str, dict[int, Said]] = {}
        for start in range(0, len(wanted), _IN):
            chunk = wanted[start:start + _IN]
            rows = self._db.execute(f"SELECT key, state, code, reason FROM keys WHERE obj = ? AND key IN "
                                    f"({', '.join('?' * len(chunk))})", (obj, *chunk))
            for key, state, code, reason in rows:
                found.setdefault(key, {})[state] = (code, reason)
        if self._pending:
            for key in wanted:
                for state in (LOADS, REJECTED, LEFT_OUT):
                    said = self._pending.get((obj, key, state))
                    if said is not None:
                        found.setdefault(key, {})[state] = said
        return found

    def give(self, cls: int, reason: str) -> None:
        """One more record of class `cls` given `reason`."""
        self._given += 1
        self._db.execute("INSERT INTO reasons VALUES (?, ?, 1, ?) ON CONFLICT (class, reason) DO UPDATE SET n = n + 1",
                         (cls, reason, self._given))

    def commonest(self, cls: int) -> str:
        """The reason given most often in the class; among equals, the first given."""
        row = self._db.execute("SELECT reason FROM reasons WHERE class = ? ORDER BY n DESC, first LIMIT 1",
                               (cls,)).fetchone()
        return row[0] if row else ""

    def _flush(self) -> None:
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR REPLACE INTO keys VALUES (?, ?, ?, ?, ?)",
                             ((o, k, s, c, r) for (o, k, s), (c, r) in self._pending.items()))
        self._db.execute("COMMIT")
        self._pending.clear()

    def close(self) -> None:
        self._db.close()
