"""Counters the UI shows while a load runs: calls, 429s, retries, in-doubt writes, latency.

Recording is a few dict and deque operations per request; percentiles are computed only
when a snapshot is taken, over the most recent latencies.

The warm latency leaves out the exchanges sent before their operation had been answered
once: an operation's first calls pay one-time costs (a server building what the operation
needs, caches filling; the sandbox builds its request validators then), and so do the
calls sent beside them, which wait for the same work. A plan made on a session's first
few calls would otherwise time a long chain of calls at that cost.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from connectors.intercom.ratelimit import WindowBudget


@dataclass(frozen=True)
class MetricsSnapshot:
    calls: dict[str, dict[str, int]]  # operation -> outcome ("200", "429", "timeout", ...) -> count
    requests: int  # HTTP exchanges attempted, retries included
    rate_limited: int  # 429 answers
    retries: int  # attempts repeated after a 429, a 5xx or a transport failure
    in_doubt: int  # writes reported as WriteInDoubt
    in_flight: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    window: WindowBudget = field(default_factory=lambda: WindowBudget(None, None, None, None, None))
    warm_latency_p50_ms: float | None = None  # over the exchanges sent after their operation's first answer


def _percentile(ordered: list[float], fraction: float) -> float:
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class ClientMetrics:
    def __init__(self, latency_samples: int = 2048) -> None:
        self._calls: Counter[tuple[str, str]] = Counter()
        self._latencies: deque[float] = deque(maxlen=latency_samples)
        self._warm: deque[float] = deque(maxlen=latency_samples)
        self._first_answer: dict[str, float] = {}  # operation -> when its first answer came (monotonic)
        self.requests = 0
        self.rate_limited = 0
        self.retries = 0
        self.in_doubt = 0
        self.in_flight = 0

    def started(self) -> None:
        self.requests += 1
        self.in_flight += 1

    def finished(self, operation: str, outcome: int | str, latency: float | None,
                 sent: float | None = None, answered: float | None = None) -> None:
        """`sent`, `answered`: when the request went and its answer came (monotonic), for
        the warm latency; without them the exchange counts in the plain latency only."""
        self.in_flight -= 1
        self._calls[(operation, str(outcome))] += 1
        if outcome == 429:
            self.rate_limited += 1
        if latency is None:
            return
        self._latencies.append(latency)
        if sent is None or answered is None:
            return
        first = self._first_answer.setdefault(operation, answered)
        if sent >= first:
            self._warm.append(latency)

    def snapshot(self, window: WindowBudget) -> MetricsSnapshot:
        calls: dict[str, dict[str, int]] = {}
        for (operation, outcome), count in sorted(self._calls.items()):
            calls.setdefault(operation, {})[outcome] = count
        ordered = sorted(self._latencies)
        warm = sorted(self._warm)
        return MetricsSnapshot(
            calls=calls,
            requests=self.requests,
            rate_limited=self.rate_limited,
            retries=self.retries,
            in_doubt=self.in_doubt,
            in_flight=self.in_flight,
            latency_p50_ms=_percentile(ordered, 0.50) * 1000 if ordered else None,
            latency_p95_ms=_percentile(ordered, 0.95) * 1000 if ordered else None,
            window=window,
            warm_latency_p50_ms=_percentile(warm, 0.50) * 1000 if warm else None,
        )
