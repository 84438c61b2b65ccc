"""Seeded faults: errors before a write, and writes applied then failed.

Kinds: `error_before` answers 500/503 without applying; `error_after` applies the request,
then answers 502 (a gateway's HTML page, not JSON); `drop_after` applies it, then drops
the connection; `hang_after` applies it, then never answers (the client times out);
`refuse` answers 400 without applying, as Intercom refuses what it will not take (a
workspace rule, a plan restriction), which a loader must treat as final.
Random faults hit each request with probability `rate`; `plan()` queues exact faults for
the next matching requests, for tests that need one particular failure; `refuse()` sets a
standing rule that refuses a share of the matching requests.
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
    exact: bool = False  # the path itself, not a prefix

    def matches(self, method: str, path: str) -> bool:
        if self.method not in (None, method):
            return False
        return path == self.path_prefix if self.exact else path.startswith(self.path_prefix)


@dataclass(frozen=True)
class Refusal:
    method: str
    path_prefix: str
    share: float
    message: str
    exact: bool = False  # the path itself, not a prefix

    def matches(self, method: str, path: str) -> bool:
        return self.method == method and (path == self.path_prefix if self.exact else path.startswith(self.path_prefix))


class FaultInjector:
    def __init__(self, rate: float, kinds: tuple[str, ...], seed: int) -> None:
        self.rate = rate
        self.kinds = kinds
        self._rng = random.Random(seed)
        self._planned: deque[PlannedFault] = deque()
        self._refusals: list[Refusal] = []
        self.injected: Counter[str] = Counter()

    def refuse(self, method: str, path: str, share: float = 1.0,
               message: str = "This workspace does not accept it", exact: bool = False) -> None:
        """From now on, refuse `share` of the requests matching method and path (a prefix,
        unless `exact`) with a 400."""
        self._refusals.append(Refusal(method.upper(), path, share, message, exact))

    def refusal(self, method: str, path: str) -> str | None:
        """The message of a standing refusal this request meets, if any."""
        for rule in self._refusals:
            if rule.matches(method, path) and self._rng.random() < rule.share:
                self.injected["refuse"] += 1
                return rule.message
        return None

    def plan(self, kind: str, *, method: str | None = None, path: str = "", times: int = 1,
             exact: bool = False) -> None:
        """Make the next `times` requests matching method and path (a prefix, unless
        `exact`) meet `kind`."""
        for _ in range(times):
            self._planned.append(PlannedFault(kind, method.upper() if method else None, path, exact))

    def decide(self, method: str, path: str) -> str | None:
        for planned in self._planned:
            if planned.matches(method, path):
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
