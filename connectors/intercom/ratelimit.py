"""Pacing requests to Intercom's rate-limit windows.

Intercom counts requests per app (and per workspace) in 10-second windows and reports the
window on every response: X-RateLimit-Limit, -Remaining and -Reset (Unix seconds). The
pacer keeps an estimate of what is left in the current window (the last reported
remaining, minus the requests sent after the one that reported it) and spreads that
budget evenly over the time left, so a single client never reaches a 429 and several
clients sharing a workspace slow each other down through the numbers they see. After a
429 every request waits for the window's reset; a missing or past reset (or a
`Retry-After: 0`) still waits a growing minimum, never a tight loop.

Several apps (tokens) of one workspace: each app has its own pacer, paced by its own
headers, and all of them pass one more pacer with a fixed `limit`, the workspace's
(Intercom reports the app's window only, so the workspace budget is what this process
sent in the window against the workspace limit).

Requests made under `prioritized()` go before the others waiting at a pacer (and for a
connection slot): a long thread's parts form a chain of calls that cannot overlap, and
queueing each of them behind everyone else stretches the chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from connectors.intercom.clock import Clock

T = TypeVar("T")
_PRIORITY: contextvars.ContextVar[bool] = contextvars.ContextVar("helpmig_intercom_priority", default=False)


@contextlib.contextmanager
def prioritized(on: bool = True) -> Iterator[None]:
    """The requests this task makes inside the block go first at the pacers."""
    token = _PRIORITY.set(on)
    try:
        yield
    finally:
        _PRIORITY.reset(token)


def is_prioritized() -> bool:
    return _PRIORITY.get()


class Handoff(Generic[T]):
    """A pool of items (connection slots, or the one turn at a pacer) handed to waiters,
    priority waiters first, then in arrival order."""

    def __init__(self, items: list[T] | None = None) -> None:
        self._free: deque[T] = deque(items or [])
        self._waiting: tuple[deque[asyncio.Future[T]], deque[asyncio.Future[T]]] = (deque(), deque())

    async def get(self, priority: bool = False) -> T:
        if self._free and not self._waiting[0] and not (self._waiting[1] and not priority):
            return self._free.popleft()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        queue = self._waiting[0 if priority else 1]
        queue.append(future)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.put(future.result())  # handed over just as the waiter was cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    queue.remove(future)
            raise

    def put(self, item: T) -> None:
        for queue in self._waiting:
            while queue:
                future = queue.popleft()
                if not future.done():
                    future.set_result(item)
                    return
        self._free.append(item)

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting)


@dataclass(frozen=True)
class WindowBudget:
    """The current window as the UI shows it."""

    limit: int | None  # requests allowed per window (X-RateLimit-Limit)
    remaining: int | None  # as last reported by Intercom
    estimated_remaining: int | None  # reported, minus what was sent since
    reset_at: float | None  # Unix seconds (X-RateLimit-Reset)
    blocked_until: float | None  # after a 429: no request before this


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


class RatePacer:
    """Grants permission to send, one request at a time, at the pace the window allows.

    `limit` fixes the budget per window (the workspace's, which no header reports): the
    headers then only place the windows in time, and every grant counts against it.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        limit: int | None = None,
        window_seconds: float = 10.0,
        reserve_fraction: float = 0.01,
        reset_grace: float = 0.05,
        min_429_wait: float = 0.5,
        quantum: float = 0.02,
    ) -> None:
        self._clock = clock
        self.window_seconds = window_seconds
        self.reserve_fraction = reserve_fraction  # left unused: room for other clients' in-flight requests
        self.reset_grace = reset_grace  # added to the reset: clocks and the header's whole seconds differ
        self.min_429_wait = min_429_wait
        self.quantum = quantum  # grants this close to their slot go at once: fewer timer wake-ups
        self._turn: Handoff[bool] = Handoff([True])
        self.fixed = limit is not None
        self._sent = 0  # sequence number of the last request granted
        self._limit: int | None = limit
        self._reported: int | None = None
        self._estimate = float(limit or 0)
        self._reset_at: float | None = None
        self._slot = -math.inf  # when the last grant was due (its schedule, not when it went)
        self._blocked_until = 0.0
        self._consecutive_429 = 0

    @property
    def _reserve(self) -> int:
        """Requests left unused; never the whole window (a limit of 1 would otherwise wait forever)."""
        limit = self._limit or 0
        return min(math.ceil(limit * self.reserve_fraction), max(limit - 1, 0))

    async def acquire(self, priority: bool | None = None) -> int:
        """Wait until a request may go out; returns its sequence number for `observe`.
        `priority` (default: the task's `prioritized()`) goes before the others waiting."""
        await self._turn.get(is_prioritized() if priority is None else priority)
        try:
            while True:
                now = self._clock.time()
                if now < self._blocked_until:
                    await self._clock.sleep(self._blocked_until - now)
                    continue
                if self._limit is None or self._reset_at is None:
                    break  # nothing known yet: the concurrency bound limits the first burst
                if now >= self._reset_at + self.reset_grace:
                    self._roll_window(now)
                usable = self._estimate - self._reserve
                if usable < 1:
                    await self._clock.sleep(max(self._reset_at + self.reset_grace - now, 0.001))
                    continue
                time_left = min(max(self._reset_at - now, 0.0), self.window_seconds)
                due = self._slot + time_left / usable
                if due > now + self.quantum:
                    await self._clock.sleep(due - now)
                    continue
                # Keep the schedule (a late wake-up is made up for), but never bank more
                # than one quantum of unused slots after an idle spell.
                self._slot = max(due, now - self.quantum)
                break
            self._sent += 1
            self._estimate -= 1
            return self._sent
        finally:
            self._turn.put(True)

    def _roll_window(self, now: float) -> None:
        """The window ended without news: assume the next one is fresh until told otherwise."""
        assert self._reset_at is not None and self._limit is not None
        windows = math.floor((now - self._reset_at) / self.window_seconds) + 1
        self._reset_at += windows * self.window_seconds
        self._estimate = float(self._limit)
        self._reported = None

    def observe(self, sequence: int, headers: Mapping[str, str]) -> None:
        """Take the window from a response's headers (any status but 401)."""
        limit = _int_header(headers, "x-ratelimit-limit")
        remaining = _int_header(headers, "x-ratelimit-remaining")
        reset = _int_header(headers, "x-ratelimit-reset")
        if limit is None or remaining is None or reset is None:
            return
        # A reset more than a window away means the clocks disagree: never wait longer.
        reset = min(reset, math.ceil(self._clock.time() + self.window_seconds))
        sent_since = self._sent - sequence  # granted after this one: not counted in `remaining`
        if self.fixed:  # the headers are an app's: they say where the window ends, not what is left
            if self._reset_at is None or reset > self._reset_at + 0.5:
                self._reset_at = float(reset)
                self._estimate = float(self._limit or 0) - sent_since
            return
        self._limit = limit
        if self._reset_at is None or reset > self._reset_at + 0.5:
            self._reset_at = float(reset)
            self._estimate = float(remaining - sent_since)
            self._reported = remaining
        elif reset >= self._reset_at - 0.5:
            self._estimate = min(self._estimate, float(remaining - sent_since))
            self._reported = remaining if self._reported is None else min(self._reported, remaining)
        # else: an answer from a window that has already passed

    def succeeded(self) -> None:
        self._consecutive_429 = 0

    def rate_limited(self, sequence: int, headers: Mapping[str, str]) -> float:
        """A 429: block every request until the window resets. Returns the wait in seconds."""
        now = self._clock.time()
        self._consecutive_429 += 1
        self.observe(sequence, headers)
        self._estimate = min(self._estimate, 0.0)
        floor = min(self.window_seconds, self.min_429_wait * 2 ** (self._consecutive_429 - 1))
        reset = _int_header(headers, "x-ratelimit-reset")
        if reset is not None and reset > now:
            until = min(reset + self.reset_grace, now + self.window_seconds + self.reset_grace)  # further: a skewed clock
            if self._consecutive_429 > 1:  # a 429 right after waiting for a reset: back off as well
                until = max(until, now + floor)
        else:
            until = now + floor
        retry_after = _int_header(headers, "retry-after")
        if retry_after is not None and retry_after > 0:
            until = max(until, now + retry_after)
        self._blocked_until = max(self._blocked_until, until)
        return self._blocked_until - now

    def budget(self) -> WindowBudget:
        return WindowBudget(
            limit=self._limit,
            remaining=self._reported,
            estimated_remaining=None if self._limit is None else max(0, int(self._estimate)),
            reset_at=self._reset_at,
            blocked_until=self._blocked_until or None,
        )
