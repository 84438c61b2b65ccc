"""The live ETA of a phase: the calls still to make at the current window's rate, or the
longest chain still to run at its measured pace, whichever ends later.

The rate is the window's, unless the last half minute went slower (a host short of CPU,
a slow network): then the rate measured over it.

A long thread's parts go one after the other: its remaining calls times the time each of
its calls takes now (measured on the thread itself) can outlast everything else. The
calls still to make are the records not yet finished times the calls a record has cost
so far in this phase.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

CHAIN_SMOOTHING = 0.2  # weight of the newest call in a chain's pace
USABLE_SHARE = 0.98  # of a window: the pacer keeps 1% in reserve and waits out the reset's rounding
RECENT_S = 30.0  # the span over which the rate actually reached is measured
MIN_SPAN_S = 5.0  # shorter than this, the phase's average so far stands in for it


@dataclass
class _Chain:
    left: int
    last: float
    pace: float | None = None  # seconds per call, smoothed


@dataclass
class LiveEta:
    """Fed by the loader (phase start, chains) and asked at every progress report.
    `clock`: seconds, monotonic (a test passes its own)."""

    clock: Callable[[], float] = time.monotonic
    started: float = 0.0
    requests_at_start: int = 0
    chains: dict[str, _Chain] = field(default_factory=dict)
    _seen: deque[tuple[float, int]] = field(default_factory=deque)  # (time, requests) at each estimate

    def __post_init__(self) -> None:
        self.started = self.clock()

    def phase_started(self, requests: int) -> None:
        self.started = self.clock()
        self.requests_at_start = requests
        self.chains.clear()
        self._seen.clear()

    def chain_started(self, key: str, calls: int) -> None:
        self.chains[key] = _Chain(calls, self.clock())

    def chain_step(self, key: str) -> None:
        chain = self.chains.get(key)
        if chain is None:
            return
        now = self.clock()
        took, chain.last, chain.left = now - chain.last, now, max(chain.left - 1, 0)
        chain.pace = took if chain.pace is None else (1 - CHAIN_SMOOTHING) * chain.pace + CHAIN_SMOOTHING * took

    def chain_done(self, key: str) -> None:
        self.chains.pop(key, None)

    def estimate(self, left_and_done: Iterable[tuple[int | None, int]], requests: int, limit_per_10s: int | None,
                 latency_s: float | None) -> float | None:
        """Seconds left in the phase. `left_and_done`: (records still to finish, records
        finished in this run) per object; None when nothing can be said yet."""
        left = done = 0
        for remaining, finished in left_and_done:
            if remaining is None:
                return None
            left, done = left + remaining, done + finished
        now = self.clock()
        made = requests - self.requests_at_start
        elapsed = now - self.started
        self._seen.append((now, requests))
        while len(self._seen) > 2 and now - self._seen[1][0] >= RECENT_S:
            self._seen.popleft()
        if done == 0 or made == 0 or elapsed <= 0:
            return None
        calls_left = left * made / done
        since, then = self._seen[0]
        reached = (requests - then) / (now - since) if now - since >= MIN_SPAN_S else made / elapsed
        rate = min(limit_per_10s / 10 * USABLE_SHARE, reached) if limit_per_10s else reached
        if rate <= 0:
            return None
        chain = max((c.left * (c.pace or latency_s or 0.0) for c in self.chains.values()), default=0.0)
        return max(calls_left / rate, chain)
