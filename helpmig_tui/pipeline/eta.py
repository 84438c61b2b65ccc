"""The live ETA of a phase, counted in API calls, not records: a conversation of 505
messages costs about 505 calls, a contact one or two.

- Calls left: the phase's planned calls (an object the phase has not reached yet counts
  whole) times the ratio of calls made to calls planned, less the calls made. The plan's
  counts are estimates and the ratio corrects them as the phase goes; but a record in
  flight may have made none of its calls or all but the last (an article waits at the
  pacer, a company has made its look-up and its upsert), so the calls made say only
  that the ratio lies between "in flight at none" and "in flight at all": the plan's 1
  unless that range leaves it out. (Set against records in flight at one call each, the
  first report of a phase of companies took a ratio of 1.6 and doubled its ETA.) A
  message counts as it is sent.
- Their time: the current rate-limit window's requests left until it resets, then whole
  windows, never faster than the rate this host actually reached over the last half
  minute (a host short of CPU, a slow network), nor, before a rate is measured, than the
  records in flight at one round trip each; a phase whose calls fit in what is left of
  the window ends before its reset. Then the answers still to come: half a round trip
  (calls go out throughout the last round trip; replayed over two traced runs of issue
  22's desk, its phases of 0.3-0.8 s were -15 to +29 % at worst with a round trip as a
  floor, +2 to +37 % with a whole one after the last call, -11 to +13 % with half).
- Chains: a long thread's parts go one after the other, and so do the rounds of a phase
  that writes a few at a time (the schema's attributes, its collections level by level,
  parents first); a chain's calls left at the pace its
  calls take now (measured on the thread itself, a single stall clipped) can outlast
  everything else. While other calls go on they share the host and the pacer with it;
  once they end, its calls take no longer than the latency; its current call has been
  under way since its last one ended. The long threads of every
  object start with the phase: one that has not made its first calls yet counts whole
  from now.
- Fixed costs: each object the phase has not reached yet costs two source queries (its
  records, and at its end the records the scope leaves out; the reader's measure of a
  query), one reached but not finished the second, and the phase ends with its bookkeeping (the
  journal's flush and the report: measured on this run's earlier phases, a default
  before the first). In a phase of 0.03 s they are most of its time.

The ETA is the later of the calls' end and the chains' ends, plus the fixed costs. Once no
call is left, what remains is records to read and settle (a phase of matches or skips is
reads and journal rows, not calls): the records still to read, and those read but not
settled yet (which settle while the next batch is read), at the pace the phase has read
records (its queries' time left out). Not at the pace it has settled them: a batch is
read whole and settles record by record, so a partial batch's few settled records, set
against the time of the read, would stretch the rest by the batch's size. Before the
phase has read anything, its pace is not known (None).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from helpmig_tui.pipeline.reader import BATCH

PACE_STEPS = 200  # a chain's pace: over its last this many calls (25 s at 120 ms: not one busy spell of the host)
OUTLIER = 3.0  # a chain's step counts at no more than this many times the median step
PACE_AFTER = 5  # calls of a chain measured before its own pace stands in for the latency
USABLE_SHARE = 0.98  # of a window: the pacer keeps 1% in reserve and waits out the reset's rounding
RECENT_S = 30.0  # the span over which the rate actually reached is measured
MIN_SPAN_S = 0.25  # the rate over at least this span (a progress report or two); before it, the phase's average
PRIOR_SHARE = 0.005  # the plan's own ratio (1) weighs as much as this share of the phase's calls
WINDOW_S = 10.0  # Intercom's rate-limit window
QUERY_S = 0.005  # a source query's fixed cost before the reader has measured one (the demo's SQLite: 3-8 ms)
QUERIES_PER_OBJECT = 2  # an object's records, then (a full load) its records the scope leaves out
REPORT_S = 0.005  # a phase's bookkeeping after its last record, at least, before one was measured


def report_s(query_s: float) -> float:
    """A phase's report before one was measured: twice a source query (the demo: 4-5 ms
    against 2-3 ms on a quiet host, 15 against 5-7 ms on a busy one), at least REPORT_S."""
    return max(REPORT_S, 2 * query_s)


def call_latency_s(warm_ms: float | None, plain_ms: float | None) -> float | None:
    """A call's latency for the plan and the live ETA alike: the median over the exchanges
    sent after their operation's first answer (the first calls pay one-time costs, and so
    do those sent beside them: 170-250 ms against 100), the plain median before there is one."""
    latency_ms = warm_ms or plain_ms
    return latency_ms / 1000 if latency_ms else None


@dataclass
class _Chain:
    left: int
    steps: deque[float]  # when its last calls ended
    last: float  # when its current call began (its start, or its last call's end)

    @property
    def pace(self) -> float | None:
        """Seconds per call over its last PACE_STEPS calls (None before PACE_AFTER), each
        step counted at no more than OUTLIER times their median: one stall (a busy host's
        second, a retry) does not stretch the rest of the chain, a slower pace that lasts
        moves the median with it."""
        if len(self.steps) <= PACE_AFTER:
            return None
        gaps = [b - a for a, b in zip(self.steps, list(self.steps)[1:])]
        cap = OUTLIER * sorted(gaps)[len(gaps) // 2]
        return sum(min(g, cap) for g in gaps) / len(gaps)


@dataclass(frozen=True)
class Window:
    """The rate-limit window as the estimate needs it (from the client's WindowBudget)."""

    limit: int | None = None  # requests per window; None: Intercom has not said
    left: float | None = None  # requests left in the current window
    resets_in: float | None = None  # seconds to its reset


@dataclass(frozen=True)
class Done:
    """One object's count in the running phase."""

    object: str
    finished: int  # records settled, earlier runs' included
    earlier: int = 0  # of finished: by an earlier run (no calls made in this one)
    total: int | None = None  # as the engine knows it; None: the plan's records stand in
    read: int | None = None  # records read, finished or in flight (None: as many as finished)


@dataclass
class LiveEta:
    """Fed by the loader (the phase's planned objects, chains) and asked at every progress
    report. `clock`: seconds, monotonic (a test passes its own)."""

    clock: Callable[[], float] = time.monotonic
    # phase -> object -> (records, calls) as the plan counts them
    plan: Mapping[str, Mapping[str, tuple[int, float]]] = field(default_factory=dict)
    planned: Mapping[str, tuple[int, float]] = field(default_factory=dict)  # the running phase's
    parts: frozenset[str] = frozenset()  # message objects: a part is one call, counted when it is made
    started: float = 0.0
    requests_at_start: int = 0
    chains: dict[str, _Chain] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)  # key -> calls, of a chain not started yet
    _seen: deque[tuple[float, int]] = field(default_factory=deque)  # (time, requests) at each estimate
    query_s: float = QUERY_S  # a source query's fixed cost (set from the reader's measure)
    records_in_flight: int = 0  # at most (the load's concurrency; 0: not known)
    _tails: list[float] = field(default_factory=list)  # this run's phases: settled -> finished
    _settled_at: float | None = None

    def __post_init__(self) -> None:
        self.started = self.clock()

    @property
    def tail_s(self) -> float:
        """A phase's bookkeeping after its last record: the (lower) median of this run's so far;
        before the first, twice a source query (the same SQLite work on the same host)."""
        if not self._tails:
            return report_s(self.query_s)
        ordered = sorted(self._tails)
        return ordered[(len(ordered) - 1) // 2]

    def phase_settled(self) -> None:
        """The phase's records are all settled; its report comes next."""
        self._settled_at = self.clock()

    def phase_finished(self) -> None:
        if self._settled_at is not None:
            self._tails.append(self.clock() - self._settled_at)
            self._settled_at = None

    def phase_started(self, requests: int, phase: str = "") -> None:
        self.started = self.clock()
        self.requests_at_start = requests
        self.planned = self.plan.get(phase, {})
        self.chains.clear()
        self.expected.clear()
        self._seen.clear()
        self._settled_at = None

    def chain_expected(self, key: str, calls: int) -> None:
        """A long thread about to start (its conversation is being read and created)."""
        if key not in self.chains:
            self.expected[key] = calls

    def chain_started(self, key: str, calls: int) -> None:
        self.expected.pop(key, None)
        self.chains[key] = _Chain(calls, deque(maxlen=PACE_STEPS + 1), self.clock())

    def chain_step(self, key: str) -> None:
        chain = self.chains.get(key)
        if chain is None:
            return
        chain.last = self.clock()
        chain.steps.append(chain.last)
        chain.left = max(chain.left - 1, 0)

    def rounds(self, key: str, levels: Sequence[int], at_once: int) -> Callable[[], None]:
        """Writes `at_once` at a time, level after level (a level's writes wait for the one
        before: parents first): a chain of rounds, each a round trip at least. The callable
        is called as each write ends, in the levels' order."""
        left = [n for n in levels if n]
        if not left:
            return lambda: None
        self.chain_started(key, sum(-(-n // at_once) for n in left))
        ended = 0

        def one_ended() -> None:
            nonlocal ended
            ended += 1
            if ended % at_once == 0 or ended == left[0]:
                self.chain_step(key)
            if ended == left[0]:
                left.pop(0)
                ended = 0
                if not left:
                    self.chain_done(key)
        return one_ended

    def chain_done(self, key: str) -> None:
        self.chains.pop(key, None)
        self.expected.pop(key, None)

    def estimate(self, done: Iterable[Done], requests: int, window: Window, latency_s: float | None) -> float | None:
        """Seconds left in the phase; None when nothing can be said (a total not known)."""
        planned_all = 0.0  # planned calls of this run's work in the phase
        planned_done = 0.0  # planned calls of what finished in this run
        planned_flying = 0.0  # planned calls of the records in flight (made: none of them to all)
        counted = set()
        unread = in_memory = read_here = 0  # records still to read, read and not settled, read by this run
        queried = owed = 0  # source queries made by the objects reached, and owed by every object not finished
        for d in done:
            counted.add(d.object)
            records, calls = self.planned.get(d.object, (None, None))
            total = d.total if d.total is not None else records
            if total is None:
                return None
            read = max(d.read if d.read is not None else 0, d.finished)
            unread += max(total - read, 0)
            in_memory += read - d.finished
            read_here += max(read - d.earlier, 0)
            queried += 1 if d.finished < total else QUERIES_PER_OBJECT
            owed += QUERIES_PER_OBJECT - 1 if d.finished < total else 0
            per_record = calls / records if calls is not None and records else 1.0
            planned_all += max(max(total, read) - d.earlier, 0) * per_record
            planned_done += max(d.finished - d.earlier, 0) * per_record
            if d.object not in self.parts:  # a message read is queued, not sent: it counts once sent
                planned_flying += (read - d.finished) * per_record
        for obj, (records, calls) in self.planned.items():  # not reached yet: all of it is left, after its queries
            if obj not in counted:
                planned_all += calls
                unread += max(records - BATCH, 0)  # the first batch comes with the query
                owed += QUERIES_PER_OBJECT
        now = self.clock()
        made = requests - self.requests_at_start
        self._seen.append((now, requests))
        while len(self._seen) > 2 and now - self._seen[1][0] >= RECENT_S:
            self._seen.popleft()
        prior = max(1.0, PRIOR_SHARE * planned_all)
        lowest = (made + prior) / (planned_done + planned_flying + prior)  # calls made per call planned
        ratio = min(max(1.0, lowest), (made + prior) / (planned_done + prior))  # the plan's 1 unless ruled out
        rate = self._reached(now, requests) or self._host(latency_s)
        calls_left = max(planned_all * ratio - made, 0.0)
        ends = [self._time_for(calls_left, rate, window)]
        if ends[0] is None:
            return None
        settling = 0 if planned_flying else in_memory  # records in flight with calls wait for answers, not reads
        if calls_left < 1 and (unread or settling):  # no call left: the records' reads and settling
            if not read_here:
                return None
            busy = max(now - self.started - self.query_s * queried, 0.0)  # reading records, not queries
            ends.append(max(unread, settling) * busy / read_here)
        paces = [(c, c.pace) for c in self.chains.values()]  # each a sort of its last steps: once
        pace = min((p for _, p in paces if p), default=None) or latency_s or 0.0
        others = self._time_for(max(calls_left - sum(c.left for c in self.chains.values()), 0.0), rate, window)
        ends += [max(self._chain_end(c.left, p or pace, latency_s, others or 0.0)
                     - min(now - c.last, p or pace), 0.0)  # its current call began a while ago
                 for c, p in paces if c.left]
        ends += [calls * pace for calls in self.expected.values()]
        if latency_s and (calls_left >= 1 or planned_flying):  # the answers still to come (see the docstring)
            ends[0] += latency_s / 2
        return max(ends) + self.query_s * owed + self.tail_s  # type: ignore[type-var, operator]

    @staticmethod
    def _chain_end(left: int, pace: float, latency_s: float | None, others: float) -> float:
        """A chain's calls left at its pace while the other calls go on (`others` seconds:
        they share the host and the pacer with it), then at no more than the latency (a
        chain already alone keeps the pace it has)."""
        if others <= 0 or pace <= 0:
            return left * pace
        alone = min(pace, latency_s) if latency_s else pace
        shared = others / pace
        return left * pace if left <= shared else others + (left - shared) * alone

    def _host(self, latency_s: float | None) -> float | None:
        """Requests per second the records in flight can make, a round trip each: the rate
        before one is measured (a phase's first report)."""
        return self.records_in_flight / latency_s if self.records_in_flight and latency_s else None

    def _reached(self, now: float, requests: int) -> float | None:
        """Requests per second this run reached lately: since the phase's first report at
        first (its start-up, the source's first reads and the long threads' creation, makes
        no calls and is no pace), then over the last RECENT_S; the phase's average before
        two reports."""
        since, then = self._seen[0]
        if now - since >= MIN_SPAN_S:
            return (requests - then) / (now - since)
        elapsed, made = now - self.started, requests - self.requests_at_start
        return made / elapsed if elapsed >= 1.0 and made > 0 else None

    @staticmethod
    def _time_for(calls: float, reached: float | None, window: Window) -> float | None:
        """Seconds to make `calls`: what the current window has left until its reset, then
        whole windows; never faster than the rate reached (None: not measured yet)."""
        if calls <= 0:
            return 0.0
        if not window.limit:
            return calls / reached if reached else None
        per_window = window.limit * USABLE_SHARE / WINDOW_S
        steady = min(per_window, reached) if reached else per_window
        resets_in = min(max(window.resets_in or 0.0, 0.0), WINDOW_S)
        if window.left is None or resets_in <= 0:
            return calls / steady
        now_left = max(window.left - window.limit * (1 - USABLE_SHARE), 0.0)
        if reached:
            now_left = min(now_left, reached * resets_in)
        if calls <= now_left:
            return calls / (min(reached, now_left / resets_in) if reached else now_left / resets_in)
        return resets_in + (calls - now_left) / steady
