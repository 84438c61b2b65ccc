"""What a client did that Intercom refuses (or would not do as asked), counted by rule.

Two sources feed it: requests that break the API description (rules `spec.*`, checked by
the middleware before any route runs) and Intercom's documented semantic refusals that a
careful loader never triggers (an attribute that does not exist, names clashing across
the contact and company models, a 501st part, a reply dated before the thread's last part,
...). A "noted" violation is counted but not refused, because Intercom would not refuse it
either (a missing Intercom-Version header; a search page asked for twice).

`GET /__sandbox/report` and `Sandbox.report()` show them; the test suite fails any test
whose sandbox recorded one it did not take. It finds them through `watching()`, which holds
every log made while it is open by a strong reference: a sandbox collected before the test
ends cannot take its violations with it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

EXAMPLES_PER_RULE = 5


@dataclass(frozen=True)
class Example:
    method: str
    path: str
    message: str
    field: str | None = None
    refused: bool = True


_WATCHERS: list[list[ViolationLog]] = []  # one list per open `watching()`
_WATCHERS_LOCK = threading.Lock()


@contextmanager
def watching() -> Iterator[list[ViolationLog]]:
    """Every violation log made while this is open, kept alive until it closes."""
    logs: list[ViolationLog] = []
    with _WATCHERS_LOCK:
        _WATCHERS.append(logs)
    try:
        yield logs
    finally:
        with _WATCHERS_LOCK:
            _WATCHERS.remove(logs)


class ViolationLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[Example]] = {}
        with _WATCHERS_LOCK:
            for logs in _WATCHERS:
                logs.append(self)

    def record(self, rule: str, method: str, path: str, message: str, field: str | None = None,
               refused: bool = True) -> None:
        with self._lock:
            self.counts[rule] += 1
            kept = self.examples.setdefault(rule, [])
            if len(kept) < EXAMPLES_PER_RULE:
                kept.append(Example(method, path, message[:300], field, refused))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def take(self, *rules: str) -> Counter[str]:
        """Remove and return the counts of these rules (all when none is named): a test that
        provokes a refusal on purpose takes it, so the suite does not fail on it."""
        with self._lock:
            names = [r for r in (rules or list(self.counts)) if r in self.counts]
            taken = Counter({r: self.counts.pop(r) for r in names})
            for r in names:
                self.examples.pop(r, None)
            return taken

    def report(self) -> dict[str, Any]:
        with self._lock:
            return {
                "violations": self.total,
                "by_rule": {
                    rule: {"count": n, "examples": [e.__dict__ for e in self.examples.get(rule, [])]}
                    for rule, n in self.counts.most_common()
                },
            }

    def describe(self) -> str:
        """One line per rule, for a failing test or a rehearsal's summary."""
        report = self.report()
        lines = []
        for rule, item in report["by_rule"].items():
            first = item["examples"][0] if item["examples"] else {}
            lines.append(f"{rule}: {item['count']} (e.g. {first.get('method', '')} {first.get('path', '')}: "
                         f"{first.get('message', '')})")
        return "\n".join(lines)
