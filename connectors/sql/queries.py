"""Every source query has a time limit and can be cancelled from another thread.

A `QueryWatch` sits on a source's engine: it notes each statement as it starts (so the
command line can say "a query on st_tickets has run 40 s"), gives it a deadline, and
cancels what runs when asked (a stop, a second Ctrl+C). One watchdog thread cancels
statements past their deadline, whatever the driver: SQLite through `interrupt()`, ODBC
through SQLCancel (`cursor.cancel()`, safe from another thread); SQL Server also gets the
ODBC query timeout itself. A statement stopped either way becomes a SourceError that says
which: `source.query_timeout` or `source.cancelled`.
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
WATCHDOG_TICK_S = 0.25
WORTH_SAYING_S = 2.0  # a query running this long is named to the operator
_TABLE = re.compile(r"(?is)\bfrom\s+((?:\[[^\]]+\]|\"[^\"]+\"|[\w.]+)(?:\.(?:\[[^\]]+\]|\"[^\"]+\"|\w+))*)")
_TIMEOUT_STATES = ("HYT00", "HYT01")
_CANCEL_STATES = ("HY008",)

_WATCHES: weakref.WeakSet[QueryWatch] = weakref.WeakSet()
_watchdog: threading.Thread | None = None
_watchdog_lock = threading.Lock()


@dataclass
class _Running:
    what: str  # the table it reads, for the operator
    started: float
    deadline: float | None
    cursor: Any
    connection: Any  # the DBAPI connection
    timed_out: bool = False


def table_of(statement: str) -> str:
    """The first table a statement reads, for messages ("a query on st_tickets")."""
    match = _TABLE.search(statement)
    return match.group(1).replace("[", "").replace("]", "").replace('"', "") if match else "the database"


def _stop(query: _Running) -> None:
    try:
        if isinstance(query.connection, sqlite3.Connection):
            query.connection.interrupt()
        else:
            query.cursor.cancel()
    except Exception:  # a statement that ended meanwhile, a driver without cancel
        pass


def _watch_deadlines() -> None:
    while True:
        time.sleep(WATCHDOG_TICK_S)
        for watch in list(_WATCHES):
            watch.expire(time.monotonic())


def _ensure_watchdog() -> None:
    global _watchdog
    with _watchdog_lock:
        if _watchdog is None:
            _watchdog = threading.Thread(target=_watch_deadlines, name="helpmig-query-deadlines", daemon=True)
            _watchdog.start()


class QueryWatch:
    """Deadlines, cancel and 'what is running' for one engine's statements."""

    def __init__(self, engine: Engine, location: str, timeout_s: int) -> None:
        self.location = location
        self.timeout_s = timeout_s
        self.cancelled = threading.Event()
        self._running: dict[int, _Running] = {}  # id(DBAPI connection) -> its statement
        self._lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "handle_error", self._on_error)
        _WATCHES.add(self)

    # -- engine events ----------------------------------------------------------------

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if self.cancelled.is_set():
            raise SourceError("the source query was cancelled: helpmig is stopping", code="source.cancelled")
        dbapi = conn.connection.dbapi_connection
        now = time.monotonic()
        with self._lock:
            self._running[id(dbapi)] = _Running(table_of(statement), now, now + self.timeout_s if self.timeout_s else None,
                                                 cursor, dbapi)
        if self.timeout_s:
            _ensure_watchdog()

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        with self._lock:
            self._running.pop(id(conn.connection.dbapi_connection), None)

    def _on_error(self, context: Any) -> None:
        original = context.original_exception
        connection = context.connection
        running = None
        if connection is not None:
            with self._lock:
                running = self._running.pop(id(connection.connection.dbapi_connection), None)
        if isinstance(original, SourceError):  # the write guard's refusal, an earlier cancel
            return
        text = str(original).lower()
        args = getattr(original, "args", ())
        state = str(args[0]) if len(args) > 1 else ""
        what = running.what if running else table_of(context.statement or "")
        if (running is not None and running.timed_out) or state in _TIMEOUT_STATES:
            raise SourceError(
                f"the query on {what} in {self.location} ran longer than {self.timeout_s} s and was stopped",
                hint="raise the limit with --query-timeout SECONDS, or run it when the database is less busy",
                code="source.query_timeout",
            )
        if state in _CANCEL_STATES or (self.cancelled.is_set() and ("interrupt" in text or "cancel" in text)):
            raise SourceError(f"the query on {what} was cancelled: helpmig is stopping", code="source.cancelled")

    # -- from any thread --------------------------------------------------------------

    def expire(self, now: float) -> None:
        """Stop the statements past their deadline (the watchdog's tick)."""
        with self._lock:
            late = [q for q in self._running.values() if q.deadline is not None and now > q.deadline and not q.timed_out]
            for query in late:
                query.timed_out = True
        for query in late:
            _stop(query)

    def cancel(self) -> int:
        """Stop every running statement, and refuse new ones; returns how many were running."""
        self.cancelled.set()
        with self._lock:
            running = list(self._running.values())
        for query in running:
            _stop(query)
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
