"""Resume points: a resumed load asks the source only for what follows the records it
finished, and still counts every record once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.context import LoadOptions, NullObserver
from helpmig_tui.pipeline.control import RunControl
from helpmig_tui.pipeline.resolver import jkey
from helpmig_tui.pipeline.journal import Journal
from helpmig_tui.pipeline.loader import Loader
from tests.support.exactly_once import RECORD_COLUMNS, assert_exactly_once


@contextmanager
def _long_tickets_held_until_a_resume_point(control: RunControl) -> Iterator[None]:
    """The operator's stop once the tickets' ordered batch has a resume point (every ticket
    of it settled) while the long tickets, started first, still run: they wait for the
    point rather than a timed progress report being hoped for (it raced them)."""
    one, mark = Loader._one, Journal.mark
    point = asyncio.Event()

    async def held(self: Loader, load, record, *args: Any) -> None:
        if jkey(load.conv, record.key) in self.long_keys and load.conv == "tickets":
            await point.wait()
        await one(self, load, record, *args)

    def marked(self: Journal, obj: str, *args: Any) -> None:
        mark(self, obj, *args)
        if obj == "tickets":
            control.cancel()
            point.set()

    Loader._one, Journal.mark = held, marked  # type: ignore[method-assign]
    try:
        yield
    finally:
        Loader._one, Journal.mark = one, mark  # type: ignore[method-assign]


class Reads(NullObserver):
    def __init__(self) -> None:
        self.events: list[str] = []

    def event(self, level: str, message: str) -> None:
        self.events.append(message)


async def test_a_resumed_load_reads_only_after_its_resume_points(tmp_path):
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 60)
    control = RunControl()

    with _long_tickets_held_until_a_resume_point(control):
        async with demo.session(NullObserver(), control=control) as session:
            assert (await session.load(LoadOptions(accept_gates=True, concurrency=4))).status == "cancelled"

    source = demo.source_factory()
    asked: list[tuple[str, str | None]] = []
    plain, after = source.iter_records, source.iter_records_after

    def iter_records(obj, since=None, batch_size=500, **kw):
        asked.append((obj, kw.get("after")))
        return plain(obj, since, batch_size, **kw)

    def iter_records_after(obj, key, since=None, batch_size=500):
        asked.append((obj, key))
        return after(obj, key, since, batch_size)

    source.iter_records, source.iter_records_after = iter_records, iter_records_after
    observer = Reads()
    from helpmig_tui.pipeline.session import PipelineSession

    async with PipelineSession(paths, demo.project, demo.target(), observer=observer, source=source) as session:
        second = await session.load(LoadOptions(accept_gates=True))
    assert second.status == "done"
    assert_exactly_once(paths, demo)
    resumed = {obj: key for obj, key in asked if key is not None}
    assert "tickets" in resumed  # the phase cut short goes on after its resume point
    assert any(e.startswith("tickets: resuming after") for e in observer.events)
    # the phases the first try finished are not walked again: their reports are the ones they kept
    assert not {obj for obj, _ in asked} & {"customers", "organizations", "agents", "groups"}
    assert any(e.startswith("phase contacts: finished before the run was interrupted") for e in observer.events)
    by_object = {o.object: o for r in second.reports for o in r.objects}
    for obj in ("tickets", "messages", "comments", "customers", "organizations"):
        o = by_object[obj]  # what came before the points is counted from them, and it all adds up
        assert o.read == demo.truth[obj] + demo.skipped.get(obj, 0) == sum(getattr(o, c) for c in RECORD_COLUMNS), obj
    assert by_object["tickets"].earlier > 0


def test_a_keyset_read_after_a_key_compares_numbers_as_numbers(tmp_path):
    from helpmig_tui.settings import resolve_paths

    demo = prepare_demo(resolve_paths(tmp_path), "smartertrack", 30)
    source = demo.source_factory()
    keys = [r.key for batch in source.iter_records("tickets", batch_size=7) for r in batch]
    assert len(keys) > 12 and keys == sorted(keys, key=int)  # numeric keys, one and two digits
    middle = keys[len(keys) // 2]
    rest = [r.key for batch in source.iter_records_after("tickets", middle, batch_size=5) for r in batch]
    assert rest == keys[len(keys) // 2 + 1:]
    source.close()


async def test_an_orphan_pass_stopped_half_way_goes_on_after_its_resume_point(tmp_path):
    """The orphan pass reads every message once: one stopped half-way (the source went away)
    is not read again from the start, and every message is still counted once."""
    from connectors.base import SourceError
    from helpmig_tui.pipeline.session import PipelineSession
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 200)
    source = demo.source_factory()
    asked: list[str | None] = []
    plain, after = source.iter_records, source.iter_records_after
    broken = {"on": True}

    class Phases(NullObserver):
        phase = ""  # "conversations" once the contacts are done: the scope check read the messages before

        def phase_finished(self, report):
            if report.phase == "contacts":
                self.phase = "conversations"

    phases = Phases()

    def cut(batches):  # the pass's second batch never comes: the source went away
        for n, batch in enumerate(batches):
            if n == 1 and broken["on"]:
                raise SourceError("the database went away", code="source.unreachable")
            yield batch

    def iter_records(obj, since=None, batch_size=500, **kw):
        if obj == "messages" and batch_size == 500 and phases.phase == "conversations" \
                and kw.get("after") is None:  # not the scope check's, nor iter_records_after's own call
            asked.append(None)
            return cut(plain(obj, since, batch_size, **kw))
        return plain(obj, since, batch_size, **kw)

    def iter_records_after(obj, key, since=None, batch_size=500):
        if obj == "messages" and batch_size == 500 and phases.phase == "conversations":
            asked.append(key)
            return cut(after(obj, key, since, batch_size))
        return after(obj, key, since, batch_size)

    source.iter_records, source.iter_records_after = iter_records, iter_records_after
    async with PipelineSession(paths, demo.project, demo.target(), observer=phases, source=source) as session:
        with pytest.raises(SourceError, match="went away"):
            await session.load(LoadOptions(accept_gates=True))
    assert asked == [None]
    broken["on"], phases.phase = False, ""
    async with PipelineSession(paths, demo.project, demo.target(), observer=phases, source=source) as session:
        second = await session.load(LoadOptions(accept_gates=True))
    assert second.status == "done"
    assert len(asked) == 2 and asked[1] is not None  # read after the first batch's last message, not again
    assert_exactly_once(paths, demo)
    messages = next(o for r in second.reports for o in r.objects if o.object == "messages")
    assert messages.read == demo.truth["messages"] + demo.skipped.get("messages", 0) \
        == sum(getattr(messages, c) for c in RECORD_COLUMNS)
