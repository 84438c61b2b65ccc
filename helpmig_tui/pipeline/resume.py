"""Resume points: how far, in the source's order, every record of an object is final.

While a full load reads an object in order, each batch waits until all of its records
are settled; a batch whose records all came out final (done and finished, rejected,
skipped), with every batch before it, moves the object's resume point to its last key,
with what those records counted. A resumed run of the same load asks the source only for
the records after that key (`Source.iter_records_after`) and counts the rest from the
point; the records after it that an earlier attempt finished are skipped on one journal
lookup per batch, as before. A record still to retry (failed, in doubt, waiting for its
company or its agent) stops the point where it is.

Only where the source can seek (RESUME_AFTER_KEY), in a full load (not a sample or a
delta), and under the map the point was made with.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from connectors.base import Capability
from helpmig_tui.pipeline.context import LoadContext, ObjectProgress

COUNTERS = ("read", "created", "updated", "skipped", "rejected")  # what a final record can have counted


@dataclass
class Batch:
    """A batch of the ordered read, until every record of it is settled."""

    last_key: str
    pending: int
    final: bool = True
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)


class ResumePoint:
    def __init__(self, ctx: LoadContext, obj: str) -> None:
        self.ctx = ctx
        self.obj = obj
        self.enabled = (ctx.options.sample is None and not ctx.options.delta and ctx.options.since is None
                        and Capability.RESUME_AFTER_KEY in ctx.reader.source.capabilities)
        self._batches: deque[Batch] = deque()
        self._total: Counter[tuple[str, str]] = Counter()
        self._stuck = False  # a record to retry: the point stays before it for this run

    def start(self, trackers: dict[str, ObjectProgress]) -> str | None:
        """The key to read after, with what the records before it counted added to the
        trackers (as done by an earlier run); None: read from the start."""
        if not self.enabled:
            return None
        found = self.ctx.journal.resume_point(self.obj, self.ctx.map_hash)
        if found is None:
            return None
        after, counts = found
        if set(counts) - set(trackers):
            return None  # made with other objects (another map): read everything
        for obj, counted in counts.items():
            tracker = trackers[obj]
            for name in COUNTERS:
                n = int(counted.get(name, 0))
                setattr(tracker, name, getattr(tracker, name) + n)
                self._total[(obj, name)] += n
            tracker.earlier += int(counted.get("created", 0)) + int(counted.get("updated", 0))
        self.ctx.event("info", f"{self.obj}: resuming after {after}; the {counts.get(self.obj, {}).get('read', 0)} "
                               "records before it are final")
        return after

    def batch(self, keys: list[str], last_key: str | None = None) -> Batch | None:
        """Register the next batch of the ordered read: the source keys of its records to
        settle, and the last key the source gave in it (when some are settled elsewhere:
        the long threads, started first)."""
        last = last_key or (keys[-1] if keys else None)
        if not self.enabled or last is None:
            return None
        batch = Batch(last, len(keys))
        self._batches.append(batch)
        if not keys:
            self._advance()
        return batch

    def settled(self, batch: Batch | None, counts: Counter[tuple[str, str]], final: bool, records: int = 1) -> None:
        """`records` of the batch are settled, having counted `counts`; `final`: nothing to retry."""
        if batch is None:
            return
        batch.counts.update(counts)
        batch.final = batch.final and final
        batch.pending -= records
        self._advance()

    def _advance(self) -> None:
        moved = None
        while self._batches and self._batches[0].pending <= 0 and not self._stuck:
            batch = self._batches.popleft()
            if not batch.final:
                self._stuck = True
                break
            self._total.update(batch.counts)
            moved = batch.last_key
        if moved is not None:
            counts: dict[str, dict[str, int]] = {}
            for (obj, name), n in self._total.items():
                counts.setdefault(obj, {})[name] = n
            self.ctx.journal.mark(self.obj, moved, counts, self.ctx.map_hash, self.ctx.phase)


# rejections that wait on something else (a contact that failed, a conversation not made): retried on resume
WAITING_CODES = frozenset({"intercom.failed", "conversation.waiting"})


def final(status: str, code: str | None, finished: bool) -> bool:
    """Nothing more to do for a record: finished, skipped, or refused for good."""
    return finished or status == "skipped" or (status == "rejected" and code not in WAITING_CODES)
