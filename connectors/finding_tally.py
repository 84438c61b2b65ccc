"""Many occurrences of one problem, reported as one Finding with a count and a few keys.

Connectors meet the same problem on thousands of records (an unparseable date, a row
without an id); the audit wants one finding per problem, not one per record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from connectors.base import Finding, Severity

SAMPLE_KEYS = 20
T = TypeVar("T")


@dataclass
class _Entry:
    severity: Severity
    message: str
    detail: str
    count: int = 0
    keys: list[str] = field(default_factory=list)


class FindingTally:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str | None, str], _Entry] = {}
        self._once: set[tuple[str, str | None, str]] = set()  # (code, object, key) already counted

    def add(
        self,
        code: str,
        severity: Severity,
        message: str,
        *,
        object: str | None = None,
        key: str | None = None,
        detail: str = "",
        count: int = 1,
        once: bool = False,
    ) -> None:
        """Count one occurrence; with `once`, a record met again in a later read (a cached
        source read several times) is not counted again."""
        if once and key is not None:
            if (code, object, key) in self._once:
                return
            self._once.add((code, object, key))
        entry = self._entries.setdefault((code, object, message), _Entry(severity, message, detail))
        entry.count += count
        if key is not None and len(entry.keys) < SAMPLE_KEYS and key not in entry.keys:
            entry.keys.append(key)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def flush(self, report: Callable[[Finding], None]) -> None:
        for (code, obj, _), entry in self._entries.items():
            report(
                Finding(
                    code=code,
                    severity=entry.severity,
                    message=entry.message,
                    object=obj,
                    keys=tuple(entry.keys),
                    count=entry.count,
                    detail=entry.detail,
                )
            )
        self._entries.clear()


def stand_in_key(prefix: str, content: object) -> str:
    """A name for a record that came without a key, from what it holds: the same record met
    in another read gets the same name (and is counted once)."""
    digest = hashlib.sha1(repr(content).encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{prefix}-{digest}"


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of at most `size` items, streaming."""
    size = max(1, size)
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
