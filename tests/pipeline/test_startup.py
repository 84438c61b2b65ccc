"""A run's start-up: the reads every run makes before its first write go out together,
not one round trip after the other, and the source connects meanwhile."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx

from connectors.base import SourceError
from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.session import Destination, PipelineSession


HOLD_S = 10  # the most a request or the source's connect waits for the other side


class Overlap(httpx.AsyncBaseTransport):
    """Holds every request until `together` are out and the source has begun connecting (at
    most HOLD_S: start-up that does one after the other then fails the test, slowly), and
    notes how many were in flight at once. A fixed delay raced a loaded machine."""

    def __init__(self, inner: httpx.AsyncBaseTransport, together: int) -> None:
        self.inner = inner
        self.together = together
        self.now = 0
        self.most = 0
        self.paths: list[str] = []
        self.connecting = threading.Event()
        self.all_out = False  # once `together` were out at once: the first to leave lets the others go

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        self.all_out = self.all_out or self.now >= self.together
        self.paths.append(request.url.path)
        try:
            deadline = time.monotonic() + HOLD_S
            while not (self.all_out and self.connecting.is_set()) and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


async def test_the_start_up_reads_go_out_together_and_the_source_connects_meanwhile(tmp_path):
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 10)
    target = demo.target()
    transport = Overlap(target.transport, together=6)
    source = demo.source_factory()
    prepared: list[bool] = []
    plain = source.prepare

    def prepare() -> None:  # in the reader's thread
        transport.connecting.set()
        deadline = time.monotonic() + HOLD_S
        while transport.now == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        prepared.append(transport.now > 0)  # while the requests are out
        plain()

    source.prepare = prepare  # type: ignore[method-assign]
    async with PipelineSession(paths, demo.project, Destination(target.base_url, target.token, transport),
                               source=source) as session:
        assert session.directory.admins and session.schema is not None
    startup = {"/me", "/admins", "/teams", "/data_attributes", "/conversations/attributes"}
    assert set(transport.paths) == startup
    assert transport.most == len(transport.paths) == 6  # /me, admins, teams and the three attribute lists at once
    assert prepared == [True]


async def test_a_source_that_cannot_connect_ahead_is_left_to_its_first_read(tmp_path):
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 10)
    source = demo.source_factory()

    def unreachable() -> None:
        raise SourceError("the database is not reachable", code="source.query_failed")

    source.prepare = unreachable  # type: ignore[method-assign]
    async with PipelineSession(paths, demo.project, demo.target(), source=source) as session:
        assert session.acting_admin  # a rollback, which needs no source, still opens


async def test_a_load_counts_its_long_threads_while_it_starts(tmp_path):
    """A session opened for a load queues the long-thread count (a GROUP BY over every
    message) in the source's thread behind its connect; the conversations phase takes
    that answer instead of asking again."""
    from helpmig_tui.pipeline.context import LoadOptions
    from helpmig_tui.pipeline.loader import thread_sizes
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 10)
    source = demo.source_factory()
    counted: list[str] = []
    started = threading.Event()
    plain = source.child_counts

    def child_counts(child: str, *, over: int = 0) -> dict[str, int]:
        counted.append(child)
        started.set()
        return plain(child, over=over)

    source.child_counts = child_counts  # type: ignore[method-assign]
    async with PipelineSession(paths, demo.project, demo.target(), source=source, loading=LoadOptions()) as session:
        assert await asyncio.to_thread(started.wait, 30)  # asked by no phase: queued at the open
        parts = [o.object for o in session.mmap.active_objects() if o.parent == "tickets"]
        assert "messages" in parts
        await thread_sizes(session.reader, parts)
        assert sorted(counted) == sorted(set(counted)) and set(parts) <= set(counted)  # each asked once


async def test_a_demo_session_closes_the_source_it_opened_and_a_given_one_stays_open(tmp_path):
    """The demo and the wizard hand each session a source of its own: it is closed with the
    session (a REST source's read cache is a file of the tenant's records)."""
    from helpmig_tui.settings import resolve_paths

    demo = prepare_demo(resolve_paths(tmp_path), "smartertrack", 10)
    opened: list = []
    factory = demo.source_factory

    def tracked():
        source = factory()
        opened.append(source)
        return source

    demo.source_factory = tracked
    async with demo.session() as session:
        session.source.prepare()
        assert opened[0]._db is not None  # type: ignore[attr-defined]
    assert opened[0]._db is None  # type: ignore[attr-defined]
    given = factory()
    async with PipelineSession(demo.paths, demo.project, demo.target(), source=given):
        pass
    given.prepare()  # still its giver's to use
    given.close()
