"""What every phase of a load shares, and the one way a destination write is made.

`LoadContext.write()` is the journal protocol in one place: skip what is done, find an
in-flight write again before re-sending it, journal in_flight before the call, record
the outcome after, and turn Intercom's answers into done / rejected / failed / in doubt.
"""

from __future__ import annotations

import asyncio
import enum
import math
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from connectors.base import Record
from connectors.intercom import IntercomClient
from connectors.intercom.errors import (
    Conflict,
    IntercomApiError,
    IntercomConnectionError,
    IntercomError,
    RateLimited,
    ServerError,
    Unauthorized,
    WriteInDoubt,
)
from helpmig_tui import redact
from helpmig_tui.logs import get_logger
from helpmig_tui.mapping.model import MigrationMap
from helpmig_tui.mapping.transforms import Flag
from helpmig_tui.pipeline.attributes import AttributeBook
from helpmig_tui.pipeline.control import RunControl
from helpmig_tui.pipeline.eta import Done, LiveEta, Window, call_latency_s
from helpmig_tui.pipeline.journal import Entry, Intent, Journal
from helpmig_tui.pipeline.journal import payload_hash as hash_of
from helpmig_tui.pipeline.reader import SourceReader
from helpmig_tui.pipeline.runs import RunLog
from helpmig_tui.pipeline.watch import doing, watched
from helpmig_tui.state import ProjectStore

log = get_logger("pipeline")

PROGRESS_EVERY_S = 0.25
FLUSH_EVERY_S = 0.5
FLUSH_ROWS = 200
RESENDS = 2  # a write in doubt, confirmed absent, is sent again at most this often in a run
READ_BACK_FIRST_S = 0.5
T = TypeVar("T")
SLOW_RECORD_S = 5.0
READ_BACK_DIRECT_S = 4.0  # reads by id or key see a write at once: a short look settles it
SEARCH_LAG_S = 120.0  # how long Intercom's search may lag behind a create (read-back of doubts)
RECORDS_PER_APP = 32  # records in flight per Intercom token, by default (the plan's requests in flight too)
HEARTBEAT_S = 1.0  # while a load runs, progress is reported at least this often, whether anything moves or not


class Lookup(enum.Enum):
    """`LoadContext.write(entry=LOOKUP)`: the caller has not read the journal's row."""

    LOOKUP = "lookup"


LOOKUP = Lookup.LOOKUP


class LoadAborted(Exception):
    """The load cannot go on (the token was rejected, Intercom is unreachable for long)."""


@dataclass
class LoadOptions:
    sample: int | None = None  # records per object (the sample run)
    test_contact: str | None = None  # sample conversations go to this email instead
    since: datetime | None = None  # delta: records changed since
    delta: bool = False  # compare content hashes and update what changed
    accept_gates: bool = False  # go on past a phase with unexplained differences (--yes)
    concurrency: int | None = None  # records in flight at once (None: RECORDS_PER_APP per Intercom token)
    phases: tuple[str, ...] | None = None  # run only these
    max_rejected: float | None = None  # overrides the project's threshold of foreseen rejections
    search_lag: float | None = None  # read-back of doubts by search (None: the project's, else SEARCH_LAG_S)
    slow_record_s: float = SLOW_RECORD_S  # a record in flight longer than this says what it is doing
    gone: str | None = None  # delta: what to do with records gone from the source (leave, close, delete; None: ask)


@dataclass
class ObjectProgress:
    """Live counters of one source object in the current run."""

    object: str
    phase: str
    total: int | None = None  # from the audit
    read: int = 0  # "in"
    created: int = 0
    updated: int = 0  # updated, adopted (it existed) or matched (admins, teams)
    skipped: int = 0
    rejected: int = 0
    failed: int = 0
    in_doubt: int = 0
    queued: int = 0  # waits for the operator (an agent with no admin)
    unchanged: int = 0  # a delta's: in Intercom already and nothing changed in the source
    earlier: int = 0  # of created + updated: done by an earlier run (or an interrupted try of this one)
    state_changes: int = 0  # a delta's: reopened, closed, re-assigned, tags put on or taken off

    @property
    def finished(self) -> int:
        return (self.created + self.updated + self.unchanged + self.skipped + self.rejected + self.failed
                + self.in_doubt + self.queued)

    @property
    def unexplained(self) -> int:
        """Records read but not accounted for: always 0 unless something is wrong."""
        return self.read - self.finished

    @property
    def clean(self) -> bool:
        return not (self.failed or self.in_doubt or self.queued or self.unexplained)


@dataclass(frozen=True)
class Waiting:
    """What a load waits for while nothing finishes, in words (the wizard says it when
    nothing has moved for a couple of seconds)."""

    kind: str  # rate_limit | read_back | long_thread
    what: str
    until: float | None = None  # Unix time the wait ends, when it is known (a countdown)


@dataclass
class LoadProgress:
    run_id: int
    phase: str
    objects: list[ObjectProgress]
    api_requests: int
    api_rate_limited: int
    api_retries: int
    api_in_doubt: int
    window_limit: int | None
    window_remaining: int | None
    latency_p50_ms: float | None
    eta_s: float | None = None  # the phase's, live (pipeline/eta.py): its calls left, or its longest chain
    api_in_flight: int = 0
    waiting: Waiting | None = None


class Observer(Protocol):
    def progress(self, progress: LoadProgress) -> None: ...

    def event(self, level: str, message: str) -> None: ...

    def phase_finished(self, report: Any) -> None: ...


class NullObserver:
    def progress(self, progress: LoadProgress) -> None:
        pass

    def event(self, level: str, message: str) -> None:
        pass

    def phase_finished(self, report: Any) -> None:
        pass


@dataclass
class Written:
    """What a write came to: the Intercom id (when there is one) and the outcome."""

    status: str  # done | already | skipped | rejected | failed | in_doubt | queued
    intercom_id: str | None = None
    outcome: str | None = None  # created | updated | adopted | matched
    reason: str = ""
    code: str | None = None  # the reason's code
    this_run: bool = False  # "already": done by an interrupted try of this same run, not an earlier run

    @property
    def ok(self) -> bool:
        return self.status in ("done", "already")


Send = Callable[[], Awaitable[tuple[str | None, str]]]  # -> (intercom id, outcome)
Find = Callable[[], Awaitable[str | None]]  # -> the id of the write, if it happened


@dataclass
class LoadContext:
    store: ProjectStore
    project: str
    reports_dir: Path
    mmap: MigrationMap
    client: IntercomClient
    reader: SourceReader
    journal: Journal
    runlog: RunLog
    control: RunControl
    observer: Observer
    options: LoadOptions
    acting_admin: str = ""  # the token's admin: closes, assigns, tags
    map_hash: str = ""  # the confirmed map's: a refusal is final until the map changes
    number_fields: dict[str, str] = field(default_factory=dict)  # object -> the field people know records by
    predicted: frozenset[str] = frozenset()  # finding codes of the audit: the rejections it foresaw
    max_rejected: float = 0.02  # the share of a phase's records that foreseen rejections may reach
    attributes: AttributeBook | None = None  # the workspace's attributes the map writes (schema plan)
    schema_tags: list[str] = field(default_factory=list)  # tags the schema plan creates up front
    lookups: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    progress: dict[str, ObjectProgress] = field(default_factory=dict)
    phase: str = ""
    eta: LiveEta = field(default_factory=LiveEta)
    _last_progress: float = 0.0
    _last_flush: float = 0.0
    _left_out_said: set[tuple[str, str]] = field(default_factory=set)
    # what mapping changed on records that loaded (a value cut, a fallback source used):
    # (phase, object, flag code) -> count and a few examples, for the phase report
    noted: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    noted_examples: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    _read_backs: dict[int, tuple[str, float]] = field(default_factory=dict)  # look -> (what, next look at)
    _long_threads: dict[str, str] = field(default_factory=dict)  # conversation key -> what it is

    @property
    def book(self) -> AttributeBook:
        assert self.attributes is not None, "the session builds the attribute book before a run"
        return self.attributes

    async def attribute_values(self, model: str, values: dict[str, Any]) -> dict[str, Any] | None:
        """A record's custom attribute values as Intercom takes them (see AttributeBook);
        each attribute whose values cannot be sent is said once."""
        out, dropped = await self.book.values(model, values)
        for logical in dropped:
            if (model, logical) not in self._left_out_said:
                self._left_out_said.add((model, logical))
                why = self.book.left_out.get((model, logical), "the value does not fit the attribute's type")
                self.event("warning", f"{model} attribute {logical}: values left out ({why})")
        return out or None

    def note_flags(self, obj: str, record: Record, flags: Iterable[Flag]) -> None:
        """Count what mapping changed on one record, once per code per record."""
        for code, message in {f.code: f.message for f in flags}.items():
            group = (self.phase, obj, code)
            self.noted[group] += 1
            examples = self.noted_examples.setdefault(group, [])
            if len(examples) < 3:
                number = self.label(obj, record)
                examples.append(f"{f'#{number}' if number else record.key}: {message}")

    def changed_state(self, obj: str, record: Record, changes: list[str]) -> None:
        """Note what a delta changed on a conversation (reopened, closed, re-assigned, ...): on
        the run's timeline, so a resumed run's report counts its earlier tries' changes too."""
        number, what = self.label(obj, record), ", ".join(changes)
        self.runlog.event("state_change", f"{obj} {f'#{number}' if number else record.key}: {what}", object=obj,
                          key=record.key, number=number, what=what)

    # -- progress ----------------------------------------------------------------------

    def tracker(self, obj: str, total: int | None) -> ObjectProgress:
        current = ObjectProgress(obj, self.phase, total)
        self.progress[obj] = current
        return current

    def tick(self, force: bool = False) -> None:
        """Flush the journal and report progress, at most every few hundred ms (on the
        client's clock, the one the heartbeat and the pacer wait on)."""
        now = self.client.session.clock.monotonic()
        if force or self.journal.unflushed >= FLUSH_ROWS or now - self._last_flush >= FLUSH_EVERY_S:
            self.journal.flush()
            self._last_flush = now
            self.runlog.beat(now)
        if force or now - self._last_progress >= PROGRESS_EVERY_S:
            self._last_progress = now
            metrics = self.client.metrics()
            objects = [p for p in self.progress.values() if p.phase == self.phase]
            latency = call_latency_s(metrics.warm_latency_p50_ms, metrics.latency_p50_ms)
            if self.reader.query_s is not None:
                self.eta.query_s = self.reader.query_s
            eta = self.eta.estimate([Done(p.object, p.finished, p.earlier, p.total, p.read) for p in objects],
                                    metrics.requests, self._window(metrics.window), latency)
            self.observer.progress(
                LoadProgress(
                    run_id=self.runlog.run_id,
                    phase=self.phase,
                    objects=objects,
                    api_requests=metrics.requests,
                    api_rate_limited=metrics.rate_limited,
                    api_retries=metrics.retries,
                    api_in_doubt=metrics.in_doubt,
                    window_limit=metrics.window.limit,
                    window_remaining=metrics.window.remaining,
                    latency_p50_ms=metrics.latency_p50_ms,
                    eta_s=eta,
                    api_in_flight=metrics.in_flight,
                    waiting=self.waiting(),
                )
            )

    def _window(self, budget: Any) -> Window:
        """The rate-limit window for the live ETA: after a 429, nothing is left until it lifts."""
        now = self.client.session.clock.time()
        if budget.blocked_until and budget.blocked_until > now:
            return Window(budget.limit, 0, budget.blocked_until - now)
        resets_in = budget.reset_at - now if budget.reset_at else None
        return Window(budget.limit, budget.estimated_remaining, resets_in)

    def waiting(self) -> Waiting | None:
        """What the load is waiting for right now, if anything: the rate-limit window (a 429,
        the window's requests spent, or every request queued for the pacer's next slot), a
        read-back of a write in doubt, a long thread whose messages go one by one."""
        now = self.client.session.clock.time()
        metrics = self.client.metrics()
        window = metrics.window
        if window.blocked_until and window.blocked_until > now:
            return Waiting("rate_limit", "Intercom answered 429 (too many requests): waiting for the rate-limit "
                                         "window to reset", window.blocked_until)
        live = bool(window.limit and window.reset_at and window.reset_at > now)
        if live and window.estimated_remaining is not None and \
                window.estimated_remaining <= math.ceil(window.limit * 0.01):  # type: ignore[operator]
            return Waiting("rate_limit", f"this window's {window.limit:,} requests are spent: waiting for the next "
                                         "rate-limit window", window.reset_at)
        if self._read_backs:
            what, until = min(self._read_backs.values(), key=lambda look: look[1])
            return Waiting("read_back", f"reading back {what}, whose outcome is unknown: next look", until)
        if live and metrics.in_flight == 0:
            return Waiting("rate_limit", f"requests go out at the workspace's limit, {window.limit:,} per 10 s: "
                                         "this window ends", window.reset_at)
        if self._long_threads:
            first, *more = self._long_threads.values()
            also = f" and {len(more)} more" if more else ""
            return Waiting("long_thread", f"a long thread, {first}{also}: its messages go one after another")
        return None

    @asynccontextmanager
    async def heartbeat(self) -> AsyncIterator[None]:
        """Report progress every HEARTBEAT_S while the body runs, so the wizard hears what a
        load waits for even when no record finishes."""

        async def beat() -> None:
            while True:
                await self.client.session.clock.sleep(HEARTBEAT_S)
                self.tick()

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    def long_thread(self, key: str, what: str) -> _Registered:
        """While a long thread loads (`with ctx.long_thread(key, "ticket #12 with 300 messages"):`)."""
        return _Registered(self._long_threads, key, what)

    def event(self, level: str, message: str, **data: Any) -> None:
        message = redact.redact(message)
        self.runlog.event("load", message, level, **data)
        self.observer.event(level, message)
        getattr(log, "warning" if level == "warning" else "error" if level == "error" else "info")(message)

    async def watched(self, obj: str, record: Record, work: Awaitable[T]) -> T:
        """One record's work, which says why when it takes longer than `slow_record_s`."""
        number = self.label(obj, record)
        what = f"{obj} {f'#{number} ({record.key})' if number else record.key}"
        return await watched(what, work, self.options.slow_record_s, lambda said: self.event("info", said + self._api_state()))

    def _api_state(self) -> str:
        """Why a write may wait: Intercom's rate-limit window and the retries so far."""
        metrics = self.client.metrics()
        window = metrics.window
        left = window.estimated_remaining if window.estimated_remaining is not None else window.remaining
        parts = [f"{left} of {window.limit} requests left in Intercom's rate-limit window"
                 ] if window.limit and left is not None else []
        if metrics.rate_limited or metrics.retries:
            parts.append(f"{metrics.rate_limited} answers 429 and {metrics.retries} retries so far")
        return f" ({'; '.join(parts)})" if parts else ""

    # -- the journaled write ----------------------------------------------------------------

    async def write(
        self,
        *,
        kind: str,
        key: str,
        obj: str | None,
        send: Send,
        find: Find | None = None,
        payload_hash: str | None = None,
        parent_key: str | None = None,
        seq: int = 0,
        entry: Entry | None | Lookup = LOOKUP,
        redo: bool = False,
        lag: float = READ_BACK_DIRECT_S,
        label: str | None = None,
    ) -> Written:
        """Make one destination write at most once, whatever crashed before.

        `entry` is the journal's row when the caller already has it (None: it has none);
        `redo` sends again a write that is done (a delta update of a changed record).
        A write Intercom refused (a 4xx other than 409 and 429) is final: it is not sent
        again while its payload and the confirmed map are the same. A write whose outcome is
        unknown (a 5xx, a timeout, a dropped connection after sending) is settled in this
        run: read back for `lag` seconds with backoff (how long the lookup `find` may lag
        behind a write: search indexes do), sent again once its absence is confirmed, at
        most `RESENDS` times; only what is still unknown after that stays in doubt.
        """
        await self.control.checkpoint()
        if isinstance(entry, Lookup):
            entry = self.journal.get(kind, key)
        stamp = self._stamp(payload_hash)
        if entry is not None and entry.status == "done" and not redo:
            return self.already(entry)
        if entry is not None and entry.status == "rejected" and entry.payload_hash == stamp and not redo:
            return Written("rejected", reason=entry.last_error or "refused by Intercom in an earlier run",
                           code=entry.code or "intercom.refused")
        what = f"{kind} {label or key}"
        if entry is not None and entry.status == "in_flight" and find is not None:
            found = await self._read_back(find, _lag_left(entry, lag), what=what)
            if found is not None:
                self.journal.done(kind, key, found, "created", payload_hash)
                return Written("done", found, "created")
        await self.journal.begin_grouped([Intent(kind, key, self.phase, payload_hash, parent_key, seq, obj, label)])
        doubt: WriteInDoubt | None = None
        for attempt in range(RESENDS + 1):
            doing(f"writing {kind} {label or key} to Intercom" + (f" (sent again, attempt {attempt + 1})" if attempt else "")
                  + ": waiting for its answer")
            try:
                intercom_id, outcome = await send()
            except WriteInDoubt as exc:
                doubt = exc
            except Unauthorized as exc:
                self.journal.failed(kind, key, str(exc))
                raise LoadAborted("Intercom rejected the token (401): check HELPMIG_INTERCOM_TOKEN") from exc
            except (RateLimited, ServerError, Conflict, IntercomConnectionError) as exc:
                self.journal.failed(kind, key, redact.redact(str(exc)))
                return Written("failed", reason=redact.redact(str(exc)), code="intercom.failed")
            except IntercomApiError as exc:
                reason = f"Intercom refused it: HTTP {exc.status} {exc.code}: {exc.error_message}"
                self.journal.rejected(kind, key, reason, stamp)
                return Written("rejected", reason=reason, code="intercom.refused")
            except IntercomError as exc:
                self.journal.failed(kind, key, redact.redact(str(exc)))
                return Written("failed", reason=redact.redact(str(exc)), code="intercom.failed")
            else:
                self.journal.done(kind, key, intercom_id, outcome, payload_hash)
                return Written("done", intercom_id, outcome)
            if find is None:
                break  # nothing to look it up by: it stays in doubt, never sent blind
            found = await self._read_back(find, lag, doubt.cause, what=what)
            if found is not None:
                self.journal.done(kind, key, found, "created", payload_hash)
                return Written("done", found, "created")
            if attempt < RESENDS:
                self.event("info", f"{kind} {key}: {doubt.cause}, and not in Intercom after {lag:.0f} s: sending it again")
        assert doubt is not None
        reason = f"in doubt: {doubt.cause}; not found on read-back, kept in flight to check again on resume"
        self.event("warning", f"{kind} {label or key}: {reason}")
        return Written("in_doubt", reason=reason, code="intercom.in_doubt")  # the row stays in_flight

    def _stamp(self, payload: str | None) -> str:
        """What a refusal is remembered with: the payload (when the caller hashes it) and the map."""
        return hash_of([payload, self.map_hash])

    async def _find(self, find: Find) -> str | None:
        try:
            return await find()
        except IntercomError as exc:
            self.event("warning", f"read-back failed: {exc}")
            return None

    async def _read_back(self, find: Find, lag: float, cause: str = "", *, what: str = "a write") -> str | None:
        """Look the write up until it is found or `lag` seconds have passed (backoff)."""
        waited, delay = 0.0, READ_BACK_FIRST_S
        clock = self.client.session.clock
        look = object()
        while True:
            doing(f"looking for a write whose outcome is unknown ({cause or 'interrupted'}) in Intercom, "
                  f"{waited:.0f} of {lag:.0f} s")
            found = await self._find(find)
            if found is not None or waited >= lag:
                return found
            step = min(delay, lag - waited)
            if step >= 2:
                self.event("info", f"reading back a write whose outcome is unknown ({cause or 'interrupted'}): "
                                   f"next look in {step:.0f} s")
            self._read_backs[id(look)] = (what, clock.time() + step)
            try:
                await clock.sleep(step)
            finally:
                del self._read_backs[id(look)]
            waited += step
            delay *= 2

    def label(self, obj: str, record: Any) -> str | None:
        """What people call a source record (its ticket or work order number), if it has one."""
        name = self.number_fields.get(obj)
        value = record.data.get(name) if name else None
        text = str(value).strip() if value is not None else ""
        return text[:128] or None

    def already(self, entry: Entry) -> Written:
        """A row that is done already: by an earlier run, or by an interrupted try of this one."""
        return Written("already", entry.intercom_id, entry.outcome, this_run=entry.run_id == self.runlog.run_id)

    def count(self, tracker: ObjectProgress, written: Written, records: int = 1,
              tally: Counter[tuple[str, str]] | None = None) -> None:
        """Count one record's outcome (or that of `records` records), exactly once; `tally`
        keeps what was counted, by (object, counter), for a resume point. In a delta, what an
        earlier run wrote and the source did not change is unchanged."""
        if written.status == "already" and self.options.delta and not written.this_run:
            tracker.unchanged += records
            if tally is not None:
                tally[(tracker.object, "unchanged")] += records
            return
        if written.status in ("done", "already"):
            name = "updated" if written.outcome in ("updated", "adopted", "matched") else "created"
            if written.status == "already":
                tracker.earlier += records
        else:
            name = written.status
        setattr(tracker, name, getattr(tracker, name) + records)
        if tally is not None:
            tally[(tracker.object, name)] += records


class _Registered:
    """An entry in a registry for as long as a `with` block runs."""

    def __init__(self, registry: dict[str, str], key: str, what: str) -> None:
        self.registry, self.key, self.what = registry, key, what

    def __enter__(self) -> None:
        self.registry[self.key] = self.what

    def __exit__(self, *exc: object) -> None:
        self.registry.pop(self.key, None)


def _lag_left(entry: Entry, lag: float) -> float:
    """How much longer a lookup may lag behind a write sent before a crash."""
    if entry.updated_at is None:
        return lag
    sent = entry.updated_at if entry.updated_at.tzinfo else entry.updated_at.replace(tzinfo=UTC)
    return max(0.0, lag - (datetime.now(UTC) - sent).total_seconds())
