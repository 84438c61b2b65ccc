"""The live ETA of a phase, counted in API calls, not records: a conversation of 505
messages costs about 505 calls, a contact one or two.

- Calls left: the plan's calls of what is left, object by object (an object the phase has
  not reached yet counts whole), times the ratio of calls made to calls planned for what
  finished so far (the plan's counts are estimates; the ratio corrects them as the phase
  goes). A record in flight has made about one of its calls (a conversation its create;
  its update, assignment and close come at its end); its messages count as each is sent.
- Their time: the current rate-limit window's requests left until it resets, then whole
  windows, never faster than the rate this host actually reached over the last half
  minute (a host short of CPU, a slow network); a phase whose calls fit in what is left
  of the window ends before its reset.
- Chains: a long thread's parts go one after the other; its calls left at the pace its
  calls take now (measured on the thread itself, a single stall clipped) can outlast
  everything else. While other calls go on they share the host and the pacer with it;
  once they end, its calls take no longer than the latency. The long threads of every
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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

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
FIRST_BATCH = 200  # records a source query returns with its first answer (the loader's batch)
REPORT_S = 0.005  # a phase's bookkeeping after its last record, at least, before one was measured


def report_s(query_s: float | None) -> float:
    """A phase's report before one was measured: twice a source query (the demo: 4-5 ms
    against 2-3 ms on a quiet host, 15 against 5-7 ms on a busy one), at least REPORT_S."""
    return max(REPORT_S, 2 * query_s) if query_s else REPORT_S


@dataclass
class _Chain:
    left: int
    steps: deque[float]  # when its last calls ended

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
        self.chains[key] = _Chain(calls, deque(maxlen=PACE_STEPS + 1))

    def chain_step(self, key: str) -> None:
        chain = self.chains.get(key)
        if chain is None:
            return
        chain.steps.append(self.clock())
        chain.left = max(chain.left - 1, 0)

    def chain_done(self, key: str) -> None:
        self.chains.pop(key, None)
        self.expected.pop(key, None)

    def estimate(self, done: Iterable[Done], requests: int, window: Window, latency_s: float | None) -> float | None:
        """Seconds left in the phase; None when nothing can be said (a total not known)."""
        left_by: dict[str, float] = {}  # object -> planned calls left
        planned_done = 0.0  # planned calls of what finished in this run, and one a record in flight
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
            left_by[d.object] = max(total - d.finished, 0) * per_record
            planned_done += max(d.finished - d.earlier, 0) * per_record
            if d.read is not None and d.object not in self.parts:  # a record in flight has made about one of its calls
                planned_done += max(d.read - d.finished, 0) * min(per_record, 1.0)
        for obj, (records, calls) in self.planned.items():  # not reached yet: all of it is left, after its queries
            if obj not in counted:
                left_by[obj] = calls
                unread += max(records - FIRST_BATCH, 0)  # the first batch comes with the query
                owed += QUERIES_PER_OBJECT
        now = self.clock()
        made = requests - self.requests_at_start
        self._seen.append((now, requests))
        while len(self._seen) > 2 and now - self._seen[1][0] >= RECENT_S:
            self._seen.popleft()
        prior = max(1.0, PRIOR_SHARE * (planned_done + sum(left_by.values())))
        ratio = (made + prior) / (planned_done + prior)  # calls made per call planned, the plan's 1 to start with
        rate = self._reached(now, requests)
        calls_left = sum(left_by.values()) * ratio
        ends = [self._time_for(calls_left, rate, window)]
        if ends[0] is None:
            return None
        if calls_left < 1 and (unread or in_memory):  # no call left: the records' reads and settling
            if not read_here:
                return None
            busy = max(now - self.started - self.query_s * queried, 0.0)  # reading records, not queries
            ends.append(max(unread, in_memory) * busy / read_here)
        pace = min((c.pace for c in self.chains.values() if c.pace), default=None) or latency_s or 0.0
        others = self._time_for(max(calls_left - sum(c.left for c in self.chains.values()), 0.0), rate, window)
        ends += [self._chain_end(c.left, c.pace or pace, latency_s, others or 0.0) for c in self.chains.values()]
        ends += [calls * pace for calls in self.expected.values()]
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
