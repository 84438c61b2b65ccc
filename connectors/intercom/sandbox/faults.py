"""Seeded faults: errors before a write, and writes applied then failed.

Kinds: `error_before` answers 500/503 without applying; `error_after` applies the request,
then answers 502 (a gateway's HTML page, not JSON); `drop_after` applies it, then drops
the connection; `hang_after` applies it, then never answers (the client times out).
Random faults hit each request with probability `rate`; `plan()` queues exact faults for
the next matching requests, for tests that need one particular failure.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class PlannedFault:
    kind: str
    method: str | None  # None: any
    path_prefix: str  # "": any


class FaultInjector:
    def __init__(self, rate: float, kinds: tuple[str, ...], seed: int) -> None:
        self.rate = rate
        self.kinds = kinds
        self._rng = random.Random(seed)
        self._planned: deque[PlannedFault] = deque()
        self.injected: Counter[str] = Counter()

    def plan(self, kind: str, *, method: str | None = None, path: str = "", times: int = 1) -> None:
        """Make the next `times` requests matching method and path prefix meet `kind`."""
        for _ in range(times):
            self._planned.append(PlannedFault(kind, method.upper() if method else None, path))

    def decide(self, method: str, path: str) -> str | None:
        for planned in self._planned:
            if (planned.method in (None, method)) and path.startswith(planned.path_prefix):
                self._planned.remove(planned)
                return self._count(planned.kind)
        if self.rate and self._rng.random() < self.rate:
            return self._count(self._rng.choice(self.kinds))
        return None

    def status_before(self) -> int:
        return self._rng.choice((500, 503))

    def _count(self, kind: str) -> str:
        self.injected[kind] += 1
        return kind
