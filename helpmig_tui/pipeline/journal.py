"""The write-ahead journal: one row per destination write, before and after the call.

The protocol that makes crashes harmless:
1. `begin()` marks the writes about to be sent `in_flight` and commits, before any of
   them leaves the process. Concurrent writers use `begin_grouped()`: the writes of every
   writer that reaches it in the same turn of the event loop go in one transaction (a
   group commit), and none of them is sent before that commit.
2. The calls run.
3. `done()`, `failed()`, `rejected()` record the outcome; these are buffered and
   committed by `flush()` (every few hundred rows or fraction of a second, and with the
   next `begin()`, in its transaction). A crash before the flush leaves rows
   `in_flight`, which resume reconciles with Intercom before re-sending anything: that
   costs a lookup, never a duplicate. Rows that need no call (`settle()`: skipped,
   rejected before sending, a conversation's opening message) are buffered the same way:
   one that must be on disk before a call is, since the call's `begin()` commits it first.
   A read sees everything recorded before it: a read of some keys (or of the rows under
   some parents) commits the buffer first when one of them has a buffered outcome, and a
   read across rows always does.

A record whose every write is final gets a `finished` row (buffered too, so it is never
committed before those writes' outcomes): a resumed load skips it on one lookup per batch
instead of walking its writes one by one. A resume point (`mark()`, a `finished` row keyed
`<object>#resume`) says that every record of an object up to a key, in the source's order,
is final, with what they counted: a resumed load asks the source only for what follows.

Lookups go to SQLite through a small bounded cache (of ids found, and of ids not there
yet: every message's author is looked up as an admin first), so memory stays flat
whatever the number of records.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, bindparam, column, func, select

from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import FINISHED, JournalEntry

CACHE_SIZE = 20_000

FINAL = frozenset({"done", "rejected", "skipped"})  # nothing more to send for these

# The writes of the load's hot path go to the DB-API connection as plain SQL, inside the
# engine's transaction: SQLAlchemy's work per statement (compiling from its cache, a type
# processor per value) cost as much CPU as SQLite's own. Times are stored as UtcDateTime
# stores them (ISO 8601 with microseconds and the UTC offset).


def _upsert(columns: tuple[str, ...], updates: dict[str, str]) -> str:
    """INSERT of these columns (named parameters), or UPDATE of the row with the same
    kind and source key."""
    return (f"INSERT INTO journal ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)}) "
            f"ON CONFLICT (kind, source_key) DO UPDATE SET {', '.join(f'{c} = {v}' for c, v in updates.items())}")


def _excluded(*columns: str) -> dict[str, str]:
    return {c: f"excluded.{c}" for c in columns}


# in_flight before the call: a new row, or the row of an earlier attempt (one more attempt)
_BEGIN = _upsert(("kind", "source_key", "status", "run_id", "phase", "payload_hash", "parent_key", "seq", "object",
                  "label", "attempts", "created_at", "updated_at"),
                 {**_excluded("status", "run_id", "phase", "payload_hash", "parent_key", "seq", "object", "label",
                              "updated_at"),
                  "attempts": "journal.attempts + 1", "last_error": "NULL", "code": "NULL"})
# a row that needs no call; an existing row keeps its phase, attempts and place, and what
# this project created through it (ownership is never taken away by a later outcome)
_SETTLE = _upsert(("kind", "source_key", "status", "last_error", "code", "label", "run_id", "intercom_id", "outcome",
                   "object", "phase", "attempts", "seq", "parent_key", "created_at", "updated_at", "created_id",
                   "created_run"),
                  {**_excluded("status", "last_error", "code", "label", "run_id", "intercom_id", "outcome", "object",
                               "updated_at"),
                   **{c: f"coalesce(excluded.{c}, journal.{c})" for c in ("created_id", "created_run")}})
_FINISHED = _upsert(("kind", "source_key", "status", "run_id", "phase", "object", "parent_key", "seq", "attempts",
                     "intercom_id", "outcome", "created_at", "updated_at", "payload_hash", "last_error"),
                    _excluded("status", "run_id", "intercom_id", "outcome", "updated_at", "parent_key",
                              "payload_hash", "last_error"))


def _stamp() -> str:
    """Now, as UtcDateTime stores it."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _execute(conn: Connection, sql: str, rows: list[dict[str, Any]]) -> None:
    """Plain SQL for many rows on the connection's DB-API connection (in its transaction)."""
    conn.connection.driver_connection.executemany(sql, rows)  # type: ignore[union-attr]


RESUME = "#resume"  # the key suffix of an object's resume point (record keys have a colon, never this)
_ROLLED_BACK = select(JournalEntry.id).where(
    JournalEntry.object == bindparam("object"), JournalEntry.status == "rolled_back", JournalEntry.kind == FINISHED,
    JournalEntry.updated_at >= bindparam("since")).limit(1)


def _listed(name: str) -> Select[tuple[str]]:
    """`IN` a JSON array bound as one parameter: one compiled statement for any number of
    keys, and none of the cost of binding hundreds of parameters one by one."""
    return select(column("value")).select_from(func.json_each(bindparam(name)))


_ENTRIES = select(JournalEntry).where(JournalEntry.kind == bindparam("kind"), JournalEntry.source_key.in_(_listed("keys")))
_OUTCOMES = select(JournalEntry.source_key, JournalEntry.status, JournalEntry.intercom_id, JournalEntry.outcome).where(
    JournalEntry.kind == bindparam("kind"), JournalEntry.source_key.in_(_listed("keys")))
_TALLY = (
    select(JournalEntry.object, JournalEntry.status, JournalEntry.outcome, func.count())
    .where(JournalEntry.kind == bindparam("kind"), JournalEntry.parent_key.in_(_listed("keys")))
    .group_by(JournalEntry.object, JournalEntry.status, JournalEntry.outcome)
)
_ORPHANS = (
    select(JournalEntry.status, JournalEntry.outcome, func.count())
    .where(JournalEntry.kind == "part", JournalEntry.object == bindparam("object"), JournalEntry.parent_key.is_(None))
    .group_by(JournalEntry.status, JournalEntry.outcome)
)
_CHILDREN = select(JournalEntry).where(JournalEntry.kind.in_(_listed("kinds")),
                                       JournalEntry.parent_key == bindparam("parent"))
_GET = select(JournalEntry).where(JournalEntry.kind == bindparam("kind"), JournalEntry.source_key == bindparam("key"))
_ID = select(JournalEntry.intercom_id).where(
    JournalEntry.kind == bindparam("kind"), JournalEntry.source_key == bindparam("key"), JournalEntry.status == "done")


def payload_hash(payload: Any) -> str:
    """A stable hash of what was (or will be) sent: tells a changed record from a replay."""
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Intent:
    """A write about to be sent."""

    kind: str
    source_key: str
    phase: str
    payload_hash: str | None = None
    parent_key: str | None = None
    seq: int = 0
    object: str | None = None  # the source object, for per-object reconciliation
    label: str | None = None  # the number people know the record by


@dataclass(frozen=True)
class Settled:
    """A row that needs no call: its status, reason and reason's code, what people call it."""

    kind: str
    key: str
    status: str
    reason: str = ""
    code: str | None = None
    label: str | None = None
    parent_key: str | None = None
    seq: int = 0
    intercom_id: str | None = None
    outcome: str | None = None
    object: str | None = None


@dataclass(frozen=True)
class Entry:
    """What the journal knows about one write."""

    kind: str
    source_key: str
    status: str
    intercom_id: str | None
    attempts: int
    payload_hash: str | None
    parent_key: str | None
    seq: int
    last_error: str | None
    object: str | None = None
    outcome: str | None = None
    run_id: int | None = None
    updated_at: datetime | None = None
    code: str | None = None
    label: str | None = None
    created_id: str | None = None  # what this project created through this row (None: nothing it owns)
    created_run: int | None = None  # the run that created it


class Outcome(NamedTuple):
    """Where a write stands, and no more: what a resume needs to count a record it skips."""

    status: str
    intercom_id: str | None
    outcome: str | None


def _entry(row: Any) -> Entry:
    return Entry(row.kind, row.source_key, row.status, row.intercom_id, row.attempts, row.payload_hash,
                 row.parent_key, row.seq, row.last_error, row.object, row.outcome, row.run_id, row.updated_at,
                 row.code, row.label, row.created_id, row.created_run)


entry_of = _entry  # a journal row read elsewhere becomes an Entry the same way


class _Lru(OrderedDict[tuple[str, str], str]):
    def remember(self, key: tuple[str, str], value: str) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > CACHE_SIZE:
            self.popitem(last=False)


class Journal:
    """The journal of one project; `run_id` stamps the rows this run touches."""

    def __init__(self, store: ProjectStore, run_id: int | None) -> None:
        self.store = store
        self.run_id = run_id
        self._ids = _Lru()
        self._absent: OrderedDict[tuple[str, str], None] = OrderedDict()  # looked up, no id yet
        self._pending: list[dict[str, Any]] = []
        self._pending_rows: set[tuple[str, str]] = set()  # (kind, key) of the buffered outcomes
        self._parents: dict[tuple[str, str], str] = {}  # (kind, key) -> parent, of the writes begun under one
        self._pending_parents: set[str] = set()  # parents of the buffered outcomes
        self._settled: list[dict[str, Any]] = []
        self._finished: list[dict[str, Any]] = []
        self._group: list[tuple[Sequence[Intent], asyncio.Future[None]]] = []
        self.commits = 0  # transactions committed (the benchmarks count them per request)
        self._final: OrderedDict[str, bool] = OrderedDict()  # record key -> finished (True) or reopened

    # -- writing -----------------------------------------------------------------------

    def begin(self, intents: Sequence[Intent]) -> None:
        """Mark writes in_flight and commit (with the buffered outcomes, which go first):
        after this, a crash leaves a trace of them."""
        if not intents:
            return
        now = _stamp()
        rows = [{"kind": i.kind, "source_key": i.source_key, "status": "in_flight", "run_id": self.run_id,
                 "phase": i.phase, "payload_hash": i.payload_hash, "parent_key": i.parent_key, "seq": i.seq,
                 "object": i.object, "label": i.label, "attempts": 1, "created_at": now, "updated_at": now}
                for i in intents]
        with self.store.engine.begin() as conn:
            self._flush(conn)
            _execute(conn, _BEGIN, rows)
        self.commits += 1
        self._parents.update({(i.kind, i.source_key): i.parent_key for i in intents if i.parent_key})
        while len(self._parents) > CACHE_SIZE:  # writes left in doubt get no outcome: bounded, oldest out
            del self._parents[next(iter(self._parents))]

    async def begin_grouped(self, intents: Sequence[Intent]) -> None:
        """`begin()` shared with every writer that gets here in the same turn of the event
        loop: one transaction for all of them; returns once it is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._group.append((intents, future))
        if len(self._group) == 1:
            loop.call_soon(self._commit_group)
        await future

    def _commit_group(self) -> None:
        group, self._group = self._group, []
        try:
            self.begin([intent for intents, _ in group for intent in intents])
        except Exception as exc:  # every writer of the group sees the failure; none sends
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in group:
            if not future.done():  # a writer cancelled meanwhile leaves an in_flight row: a lookup on resume
                future.set_result(None)

    def done(self, kind: str, key: str, intercom_id: str | None, outcome: str = "created",
             payload_hash: str | None = None) -> None:
        """The write happened. `outcome`: created (this project owns it: a rollback removes
        it, whatever later writes do), updated or adopted (it existed before), matched
        (found, nothing written)."""
        values: dict[str, Any] = {"intercom_id": intercom_id, "last_error": None, "outcome": outcome}
        if outcome == "created" and intercom_id:
            values.update(created_id=intercom_id, created_run=self.run_id)
        if payload_hash is not None:
            values["payload_hash"] = payload_hash
        self._outcome(kind, key, "done", **values)
        if intercom_id:
            self._ids.remember((kind, key), intercom_id)
            self._absent.pop((kind, key), None)

    def failed(self, kind: str, key: str, error: str, code: str = "intercom.failed") -> None:
        """A write that did not happen and may be tried again."""
        self._outcome(kind, key, "failed", last_error=error[:2000], code=code)

    def rejected(self, kind: str, key: str, reason: str, stamp: str | None = None, code: str = "intercom.refused") -> None:
        """A record that cannot be migrated as it is (its reason goes to the report). `stamp`
        says what was refused (payload and map): the same write is not sent again."""
        values: dict[str, Any] = {"last_error": reason[:2000], "code": code}
        if stamp is not None:
            values["payload_hash"] = stamp
        self._outcome(kind, key, "rejected", **values)

    def settle(self, kind: str, key: str, status: str, reason: str, phase: str, *, object: str | None = None,
               parent_key: str | None = None, seq: int = 0, intercom_id: str | None = None,
               outcome: str | None = None, code: str | None = None, label: str | None = None) -> None:
        """Record a row that needs no call (skipped by the map, rejected before sending,
        matched to something that exists), so that counts add up."""
        self.settle_many([Settled(kind, key, status, reason, code, label, parent_key, seq, intercom_id, outcome,
                                  object)], phase)

    def settle_many(self, rows: Sequence[Settled], phase: str) -> None:
        """Several settled rows, buffered: committed with the next `begin()` or `flush()`
        (an outcome buffered for one of these rows is committed before them)."""
        if not rows:
            return
        if self._pending_rows and any((r.kind, r.key) in self._pending_rows for r in rows):
            self.flush()
        now = _stamp()
        values = [{"kind": r.kind, "source_key": r.key, "status": r.status,
                   "last_error": r.reason[:2000] if r.reason else None, "code": r.code, "label": r.label,
                   "run_id": self.run_id, "intercom_id": r.intercom_id, "outcome": r.outcome, "object": r.object,
                   "phase": phase, "attempts": 0, "seq": r.seq, "parent_key": r.parent_key, "created_at": now,
                   "updated_at": now, **_owned(r.status, r.outcome, r.intercom_id, self.run_id)} for r in rows]
        self._settled.extend(values)
        for r in rows:
            if r.intercom_id and r.status == "done":
                self._ids.remember((r.kind, r.key), r.intercom_id)
                self._absent.pop((r.kind, r.key), None)

    def finished(self, key: str, phase: str, *, object: str, intercom_id: str | None = None,
                 outcome: str | None = None) -> None:
        """Every write of this record is final: a resumed load counts it as done earlier
        (with this Intercom id and outcome) without looking at its writes. Buffered: it is
        committed with, or after, the outcomes of those writes."""
        now = _stamp()
        self._finished.append({"kind": FINISHED, "source_key": key, "status": "done", "run_id": self.run_id,
                               "phase": phase, "object": object, "parent_key": None, "seq": 0, "attempts": 0,
                               "intercom_id": intercom_id, "outcome": outcome, "created_at": now, "updated_at": now,
                               "payload_hash": None, "last_error": None})
        self._pending_rows.add((FINISHED, key))
        self._note_final(key, True)

    def reopen(self, key: str) -> None:
        """The record has a write that is not final again (a delta's new message failed):
        a resume must not skip it."""
        self._outcome(FINISHED, key, "pending")
        self._note_final(key, False)

    def _note_final(self, key: str, final: bool) -> None:
        self._final[key] = final
        if len(self._final) > CACHE_SIZE:
            self._final.popitem(last=False)

    def was_finished(self, key: str) -> bool:
        """Did this run just mark the record finished (and not reopen it)? Asked once per record."""
        return self._final.pop(key, False)

    def mark(self, obj: str, after: str, counts: dict[str, dict[str, int]], stamp: str, phase: str) -> None:
        """Every record of `obj` up to `after` (the source's order) is final, and counted
        `counts` (object -> counter -> n). Buffered after their `finished` rows. `stamp`
        (the map's hash) says under which map it holds."""
        now = _stamp()
        self._finished.append({"kind": FINISHED, "source_key": obj + RESUME, "status": "done", "run_id": self.run_id,
                               "phase": phase, "object": obj, "parent_key": after, "seq": 0, "attempts": 0,
                               "intercom_id": None, "outcome": None, "created_at": now, "updated_at": now,
                               "payload_hash": stamp, "last_error": json.dumps(counts)})

    def resume_point(self, obj: str, stamp: str) -> tuple[str, dict[str, dict[str, int]]] | None:
        """(key, counts) of `obj`'s resume point, when it still holds: made by this run (a
        new run, a delta, reads everything), under this map, and no record of the object
        rolled back since."""
        self._all_first()
        with self.store.engine.connect() as conn:
            row = conn.execute(_GET, {"kind": FINISHED, "key": obj + RESUME}).first()
            if row is None or row.status != "done" or row.payload_hash != stamp or not row.parent_key \
                    or row.run_id != self.run_id or self.run_id is None:
                return None
            if conn.execute(_ROLLED_BACK, {"object": obj, "since": row.updated_at}).first() is not None:
                return None
        return row.parent_key, json.loads(row.last_error or "{}")

    def mark_rolled_back(self, kind: str, key: str) -> None:
        """The object is gone from Intercom: nothing of this row is the project's any more."""
        self._outcome(kind, key, "rolled_back", last_error=None, created_id=None, created_run=None)
        self._ids.pop((kind, key), None)
        self._absent.pop((kind, key), None)

    def _outcome(self, kind: str, key: str, status: str, **values: Any) -> None:
        self._pending.append({"kind": kind, "source_key": key, "status": status, **values})
        self._pending_rows.add((kind, key))
        parent = self._parents.pop((kind, key), None)
        if parent is not None:
            self._pending_parents.add(parent)

    @property
    def unflushed(self) -> int:
        return len(self._pending) + len(self._settled) + len(self._finished)

    def _settled_first(self) -> None:
        """Before a read of rows by key: the buffered settled rows are committed (the
        outcomes of other keys may wait)."""
        if self._settled:
            self.flush()

    def _all_first(self) -> None:
        """Before a read across rows (counts, a conversation's parts): everything buffered
        is committed, so a read sees every outcome recorded before it."""
        if self.unflushed:
            self.flush()

    def _keys_first(self, kind: str, keys: Iterable[str]) -> list[str]:
        """Before a read of these keys: committed first if one of them has a buffered
        outcome (a write refused or failed earlier in this run must not read as in flight,
        or it would be read back and sent again). Returns the keys as a list."""
        keys = list(keys)
        if self._pending_rows and any((kind, k) in self._pending_rows for k in keys):
            self.flush()
        else:
            self._settled_first()
        return keys

    def _parents_first(self, parents: Iterable[str]) -> list[str]:
        """Before a read of the rows under these parents: as `_keys_first`, for the parents
        of the buffered outcomes."""
        parents = list(parents)
        if self._pending_parents and any(p in self._pending_parents for p in parents):
            self.flush()
        else:
            self._settled_first()
        return parents

    def flush(self) -> None:
        """Commit buffered outcomes in one transaction."""
        if self.unflushed:
            with self.store.engine.begin() as conn:
                self._flush(conn)
            self.commits += 1

    def _flush(self, conn: Connection) -> None:
        settled, self._settled = self._settled, []
        pending, self._pending = self._pending, []
        self._pending_rows.clear()
        self._pending_parents.clear()
        finished, self._finished = self._finished, []
        if settled:
            _execute(conn, _SETTLE, settled)
        now = _stamp()
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for item in pending:  # one executemany per set of columns
            item["updated_at"] = now
            groups.setdefault(tuple(item), []).append(item)
        for columns, params in groups.items():
            _execute(conn, _outcome_update(columns), params)
        if finished:
            _execute(conn, _FINISHED, finished)

    # -- reading -----------------------------------------------------------------------

    def intercom_id(self, kind: str, key: str) -> str | None:
        """The Intercom id a done write produced (cached; bounded)."""
        cached = self._ids.get((kind, key))
        if cached is not None:
            self._ids.move_to_end((kind, key))
            return cached
        if (kind, key) in self._absent:
            return None
        self._keys_first(kind, [key])
        with self.store.engine.connect() as conn:
            value = conn.scalar(_ID, {"kind": kind, "key": key})
        if value:
            self._ids.remember((kind, key), value)
        else:
            self._absent[(kind, key)] = None
            if len(self._absent) > CACHE_SIZE:
                self._absent.popitem(last=False)
        return value

    def entries(self, kind: str, keys: Iterable[str]) -> dict[str, Entry]:
        """What the journal holds for a batch of source keys (missing keys: never written)."""
        keys = self._keys_first(kind, keys)
        with self.store.engine.connect() as conn:
            return {row.source_key: _entry(row) for row in conn.execute(_ENTRIES, {"kind": kind, "keys": _json(keys)})}

    def outcomes(self, kind: str, keys: Iterable[str]) -> dict[str, Outcome]:
        """source key -> outcome, for a batch of source keys: lighter than `entries`, for
        what a resume skips."""
        keys = self._keys_first(kind, keys)
        with self.store.engine.connect() as conn:
            return {key: Outcome(*outcome)
                    for key, *outcome in conn.execute(_OUTCOMES, {"kind": kind, "keys": _json(keys)})}

    def tally(self, kind: str, parent_keys: Iterable[str]) -> list[tuple[str | None, Outcome, int]]:
        """(source object, outcome, rows) for the rows of this kind under these parents:
        a batch of finished conversations' parts, counted without reading them."""
        parent_keys = self._parents_first(parent_keys)
        with self.store.engine.connect() as conn:
            return [(obj, Outcome(status, None, outcome), n)
                    for obj, status, outcome, n in conn.execute(_TALLY, {"kind": kind, "keys": _json(parent_keys)})]

    def orphans(self, obj: str) -> list[tuple[Outcome, int]]:
        """(outcome, rows) for the parts of `obj` journaled with no conversation: those
        the orphan pass rejected."""
        self._all_first()
        with self.store.engine.connect() as conn:
            return [(Outcome(status, None, outcome), n)
                    for status, outcome, n in conn.execute(_ORPHANS, {"object": obj})]

    def get(self, kind: str, key: str) -> Entry | None:
        self._keys_first(kind, [key])
        with self.store.engine.connect() as conn:
            row = conn.execute(_GET, {"kind": kind, "key": key}).first()
        return _entry(row) if row is not None else None

    def children(self, parent_key: str, kinds: Iterable[str]) -> dict[tuple[str, str], Entry]:
        """(kind, source key) -> row, for the rows of these kinds under this parent (a
        conversation's parts and state writes)."""
        self._parents_first([parent_key])
        with self.store.engine.connect() as conn:
            return {(row.kind, row.source_key): _entry(row)
                    for row in conn.execute(_CHILDREN, {"parent": parent_key, "kinds": _json(kinds)})}

    def parts_of(self, parent_key: str, kind: str = "part") -> list[Entry]:
        self._parents_first([parent_key])
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(JournalEntry)
                .where(JournalEntry.kind == kind, JournalEntry.parent_key == parent_key)
                .order_by(JournalEntry.seq)
            )
            return [_entry(row) for row in rows]

    def in_flight(self, kinds: Iterable[str] | None = None) -> list[Entry]:
        """Writes that may or may not have happened: reconcile these before resuming."""
        query = select(JournalEntry).where(JournalEntry.status == "in_flight")
        if kinds is not None:
            query = query.where(JournalEntry.kind.in_(list(kinds)))
        self._all_first()
        with self.store.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query.order_by(JournalEntry.id))]

    def reasons(self, kinds: Iterable[str], statuses: Iterable[str], limit: int = 2000, *,
                run_id: int | None = None, phase: str | None = None) -> list[Entry]:
        """Rows with a reason (rejected, skipped, failed) for the reports."""
        query = select(JournalEntry).where(JournalEntry.kind.in_(list(kinds)), JournalEntry.status.in_(list(statuses)))
        if run_id is not None:
            query = query.where(JournalEntry.run_id == run_id)
        if phase is not None:
            query = query.where(JournalEntry.phase == phase)
        self._all_first()
        with self.store.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query.order_by(JournalEntry.id).limit(limit))]

    def counts(self, phase: str | None = None) -> dict[str, dict[str, int]]:
        """kind -> status -> rows (for one phase, or all)."""
        query = select(JournalEntry.kind, JournalEntry.status, func.count()).group_by(
            JournalEntry.kind, JournalEntry.status
        )
        if phase is not None:
            query = query.where(JournalEntry.phase == phase)
        result: dict[str, dict[str, int]] = {}
        self._all_first()
        with self.store.engine.connect() as conn:
            for kind, status, n in conn.execute(query):
                result.setdefault(kind, {})[status] = n
        return result

    def created(self, kinds: Iterable[str], run_ids: Iterable[int] | None = None) -> list[Entry]:
        """What this project created and has not removed, newest first: what a rollback
        removes, whatever the row's last outcome (a delta's update, a later run's match).
        The entries carry the created object's id; `run_ids` narrows them to what those
        runs created."""
        query = select(JournalEntry).where(JournalEntry.kind.in_(list(kinds)), JournalEntry.created_id.is_not(None))
        if run_ids is not None:
            query = query.where(JournalEntry.created_run.in_(list(run_ids)))
        self._all_first()
        with self.store.engine.connect() as conn:
            return [replace(entry, intercom_id=entry.created_id)
                    for entry in map(_entry, conn.execute(query.order_by(JournalEntry.id.desc())))]


@functools.cache
def _outcome_update(columns: tuple[str, ...]) -> str:
    """The UPDATE for outcomes with these columns, the row's kind and source key among
    them (a handful of shapes: built once each)."""
    values = ", ".join(f"{c} = :{c}" for c in columns if c not in ("kind", "source_key"))
    return f"UPDATE journal SET {values} WHERE kind = :kind AND source_key = :source_key"


def _owned(status: str, outcome: str | None, intercom_id: str | None, run_id: int | None) -> dict[str, Any]:
    """The ownership columns of a settled row: set when it records a creation, else left
    as they are (the upsert keeps the existing ones)."""
    if status == "done" and outcome == "created" and intercom_id:
        return {"created_id": intercom_id, "created_run": run_id}
    return {"created_id": None, "created_run": None}


def _json(values: Iterable[str]) -> str:
    return json.dumps(list(values))

