"""The source, read from async code: every call runs in one dedicated thread.

Connectors are synchronous and their database connections belong to the thread that
opened them, so all source work goes through a single-thread executor; the event loop
never blocks on a query or a file read.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from connectors.base import AttachmentRef, Record, Skipped, Source

T = TypeVar("T")
BATCH = 200  # records an object's query returns at a time, by default (the first with the query)
_DONE = object()


class SourceReader:
    def __init__(self, source: Source) -> None:
        self.source = source
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="helpmig-source")
        self._dated: set[str] | None = None
        self._ahead: dict[Any, asyncio.Future[Any]] = {}
        self._queries: deque[float] = deque(maxlen=20)  # seconds from asking for an object to its first batch

    @property
    def query_s(self) -> float | None:
        """A query's fixed cost as measured here: the median time to an object's first batch
        (the plan and the live ETA count it once per object)."""
        if not self._queries:
            return None
        ordered = sorted(self._queries)
        return ordered[len(ordered) // 2]

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def ahead(self, key: Any, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue a source call now, for `collect(key, ...)` to take later: the source works
        (in its thread, its database mostly outside Python) while the run does other things."""
        if key not in self._ahead:
            self._ahead[key] = asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        return self._ahead[key]

    async def collect(self, key: Any, fn: Callable[..., T], *args: Any) -> T:
        """The answer of the call queued ahead under `key` (its error raised here), once;
        the call made now when none was."""
        queued = self._ahead.pop(key, None)
        return await queued if queued is not None else await self.call(fn, *args)

    async def dated(self, obj: str) -> bool:
        """Can this object be read "changed since"? (It has an updated or created field.)"""
        if self._dated is None:
            schema = await self.call(self.source.describe)
            self._dated = {o.name for o in schema.objects if o.updated_field or o.created_field}
        return obj in self._dated

    async def batches(self, obj: str, *, since: datetime | None = None, batch_size: int = BATCH,
                      limit: int | None = None, after: str | None = None) -> AsyncIterator[list[Record]]:
        """An object's records in batches; `limit` stops after that many (the sample run).
        `since` applies to objects with a date; the others are read whole (a delta then
        compares their content). `after`: only the records after this key (a resume point;
        the source must have RESUME_AFTER_KEY)."""
        asked = time.perf_counter()
        if since is not None and not await self.dated(obj):
            since = None
        if after is not None:
            iterator = await self.call(lambda: iter(self.source.iter_records_after(obj, after, since=since,
                                                                                   batch_size=batch_size)))
        else:
            iterator = await self.call(lambda: iter(self.source.iter_records(obj, since=since, batch_size=batch_size)))
        seen = 0
        try:
            while True:
                batch = await self.call(next, iterator, _DONE)
                if asked:
                    self._queries.append(time.perf_counter() - asked)
                    asked = 0.0
                if batch is _DONE:
                    return
                if limit is not None:
                    batch = batch[: max(0, limit - seen)]
                seen += len(batch)
                if batch:
                    yield batch
                if limit is not None and seen >= limit:
                    return
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                await self.call(close)

    async def skipped(self, obj: str) -> AsyncIterator[tuple[str, list[Skipped]]]:
        """(reason, batch) of the records the source's default read leaves out."""
        iterator = await self.call(lambda: iter(self.source.skipped(obj)))
        try:
            while True:
                item = await self.call(next, iterator, _DONE)
                if item is _DONE:
                    return
                yield item
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                await self.call(close)

    async def children(self, obj: str, keys: Sequence[str]) -> dict[str, list[Record]]:
        return await self.call(self.source.children, obj, list(keys))

    async def get(self, obj: str, keys: Sequence[str]) -> list[Record]:
        return await self.call(self.source.get, obj, list(keys))

    async def attachments(self, obj: str, record: Record) -> list[AttachmentRef]:
        """A record's files; none for a record read under a stand-in key (it is rejected, and
        its files could not be looked up by a key it does not have)."""
        return await self.call(self._attachments, obj, record)

    async def attachments_of(self, records: Sequence[tuple[str, Record]]) -> list[list[AttachmentRef]]:
        """Several records' files (a conversation's and its messages') in one call to the
        source's thread, rather than a round trip each behind every other job's."""
        return await self.call(lambda: [self._attachments(obj, record) for obj, record in records])

    def _attachments(self, obj: str, record: Record) -> list[AttachmentRef]:
        return [] if record.key_problem is not None else self.source.attachments(obj, record)

    async def read(self, ref: AttachmentRef, limit: int) -> bytes | None:
        """The file's bytes, or None when it is larger than `limit`."""

        def load() -> bytes | None:
            with ref.open() as handle:
                data = handle.read(limit + 1)
            return None if len(data) > limit else data

        return await self.call(load)

    def close(self) -> None:
        for queued in self._ahead.values():  # never collected: the run stopped first
            if not queued.done():
                queued.cancel()
            elif not queued.cancelled():
                queued.exception()  # taken: an error for a read that did not come
        self._ahead.clear()
        self._pool.shutdown(wait=True)
