"""Every source query has a time limit and can be cancelled from another thread.

A `QueryWatch` sits on a source's engine: it notes each statement as it starts (so the
command line can say "a query on st_tickets has run 40 s"), gives it a deadline, and
cancels what runs when asked (a stop, a second Ctrl+C). SQL Server enforces the deadline
itself (the ODBC query timeout) and is cancelled with SQLCancel (`cursor.cancel()`); SQLite
has neither, so a progress handler checks the deadline and the cancel flag while a
statement runs. A query stopped either way becomes a SourceError that says which.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from connectors.base import SourceError

DEFAULT_QUERY_TIMEOUT_S = 600  # one statement; a bigger source gets --query-timeout
PROGRESS_STEPS = 20_000  # SQLite virtual-machine steps between two checks (well under a millisecond)
WORTH_SAYING_S = 2.0  # a query running this long is named to the operator
_TABLE = re.compile(r"(?is)\bfrom\s+((?:\[[^\]]+\]|\"[^\"]+\"|[\w.]+)(?:\.(?:\[[^\]]+\]|\"[^\"]+\"|\w+))*)")
_TIMEOUT_STATES = ("HYT00", "HYT01")
_CANCEL_STATES = ("HY008",)

_WATCHES: weakref.WeakSet[QueryWatch] = weakref.WeakSet()


@dataclass
class _Running:
    what: str  # the table it reads, for the operator
    started: float
    cursor: Any
    connection: Any


def table_of(statement: str) -> str:
    """The first table a statement reads, for messages ("a query on st_tickets")."""
    match = _TABLE.search(statement)
    return match.group(1).replace("[", "").replace("]", "").replace('"', "") if match else "the database"


class QueryWatch:
    """Deadlines, cancel and 'what is running' for one engine's statements."""

    def __init__(self, engine: Engine, location: str, timeout_s: int) -> None:
        self.location = location
        self.timeout_s = timeout_s
        self.cancelled = threading.Event()
        self._running: dict[int, _Running] = {}
        self._deadlines: dict[int, float] = {}  # id(DBAPI connection) -> when its statement must end
        self._lock = threading.Lock()
        event.listen(engine, "connect", self._on_connect)
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "handle_error", self._on_error)
        _WATCHES.add(self)

    # -- engine events ----------------------------------------------------------------

    def _on_connect(self, dbapi_connection: Any, record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            key = id(dbapi_connection)
            dbapi_connection.set_progress_handler(lambda: self._sqlite_should_stop(key), PROGRESS_STEPS)

    def _sqlite_should_stop(self, key: int) -> int:
        if self.cancelled.is_set():
            return 1
        deadline = self._deadlines.get(key)
        return 1 if deadline is not None and time.monotonic() > deadline else 0

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if self.cancelled.is_set():
            raise SourceError("the source query was cancelled: helpmig is stopping", code="source.cancelled")
        dbapi = conn.connection.dbapi_connection
        now = time.monotonic()
        with self._lock:
            self._running[id(cursor)] = _Running(table_of(statement), now, cursor, dbapi)
            if self.timeout_s:
                self._deadlines[id(dbapi)] = now + self.timeout_s

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        with self._lock:
            self._running.pop(id(cursor), None)

    def _on_error(self, context: Any) -> None:
        original = context.original_exception
        if isinstance(original, SourceError):  # the write guard's refusal, an earlier cancel
            return
        cursor = getattr(context, "cursor", None)
        with self._lock:
            running = self._running.pop(id(cursor), None) if cursor is not None else None
        text = str(original)
        state = str(original.args[0]) if getattr(original, "args", None) and len(original.args) > 1 else ""
        what = running.what if running else table_of(context.statement or "")
        stopped = "interrupted" in text.lower() or state in _TIMEOUT_STATES + _CANCEL_STATES or "cancel" in text.lower()
        if not stopped:
            return
        if self.cancelled.is_set() or state in _CANCEL_STATES:
            raise SourceError(f"the query on {what} was cancelled: helpmig is stopping", code="source.cancelled")
        raise SourceError(
            f"the query on {what} in {self.location} ran longer than {self.timeout_s} s and was stopped",
            hint="raise the limit with --query-timeout SECONDS, or run it when the database is less busy",
            code="source.query_timeout",
        )

    # -- from any thread --------------------------------------------------------------

    def cancel(self) -> int:
        """Stop every running statement, and refuse new ones; returns how many were running."""
        self.cancelled.set()
        with self._lock:
            running = list(self._running.values())
        for query in running:
            try:
                if isinstance(query.connection, sqlite3.Connection):
                    query.connection.interrupt()
                else:
                    query.cursor.cancel()  # pyodbc: SQLCancel, safe from another thread
            except Exception:  # a statement that ended meanwhile, a driver without cancel
                continue
        return len(running)

    def running(self) -> list[tuple[str, float]]:
        """(table, seconds) of what runs now, longest first."""
        now = time.monotonic()
        with self._lock:
            found = [(q.what, now - q.started) for q in self._running.values()]
        return sorted(found, key=lambda item: -item[1])


def cancel_queries() -> int:
    """Cancel every source query of this process (a stop); returns how many were running."""
    return sum(watch.cancel() for watch in list(_WATCHES))


def describe_queries() -> str | None:
    """The source query running longest, when it has run long enough to mention."""
    found = [(what, age, watch.location) for watch in list(_WATCHES) for what, age in watch.running()]
    if not found:
        return None
    what, age, location = max(found, key=lambda item: item[1])
    if age < WORTH_SAYING_S:
        return None
    return f"waiting for the source: a query on {what} has run {age:.0f} s ({location})"
