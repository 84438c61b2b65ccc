"""Loads of a demo cut in their conversations phase and resumed, for the tests of the
finished phases' kept reports (tests/pipeline/test_kept_phases*.py)."""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from pathlib import Path

from helpmig_tui.demo import Demo, prepare_demo
from helpmig_tui.pipeline.context import LoadOptions, NullObserver
from helpmig_tui.pipeline.control import RunControl
from helpmig_tui.settings import resolve_paths
from tests.support.demo_copy import copy_demo
from tests.support.stops import stopped_after

FINISHED = ("match", "schema", "companies", "contacts")


CUT_AFTER = 5  # conversations a cut load writes before it is stopped (the demo has 30)


class Seen(NullObserver):
    """The run's events and phase reports."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.reports: dict[str, object] = {}

    def event(self, level: str, message: str) -> None:
        self.events.append(message)

    def phase_finished(self, report) -> None:
        self.reports[report.phase] = report

    def walked(self) -> set[str]:
        return {p for p in FINISHED if any(e.startswith(f"phase {p} (") for e in self.events)}

    def kept(self) -> set[str]:
        return {p for p in FINISHED if any(e.startswith(f"phase {p}: finished before") for e in self.events)}


async def load(demo, cut: bool, options: LoadOptions | None = None) -> tuple[Seen, str]:
    """A load of the demo; `cut`: stopped once it has written CUT_AFTER conversations, in
    the middle of its conversations phase, as a killed process would leave it (as many in
    flight at once: those in flight when it stops are finished, the rest left)."""
    control, seen = RunControl(), Seen()
    options = options or LoadOptions(accept_gates=True, concurrency=CUT_AFTER if cut else None)
    with stopped_after(CUT_AFTER, control) if cut else nullcontext():
        async with demo.session(seen, control=control) as session:
            result = await session.load(options)
    return seen, result.status


def cut_demo_home(folder: Path) -> tuple[Path, Seen]:
    """A home whose demo (30 tickets) was loaded until its conversations phase moved, then
    stopped, and the run that did it: each test resumes a copy (`resumed_copy`; the fixture
    `cut_demo` in tests/pipeline/conftest.py makes one per test module)."""
    home = folder / "home"
    demo = prepare_demo(resolve_paths(home), "smartertrack", 30)
    first, status = asyncio.run(load(demo, cut=True))
    made = len(list(demo.sandbox.store.all("conversations")))
    demo.close()
    assert status == "cancelled" and first.walked() == set(FINISHED)
    assert 0 < made < demo.tickets, made  # cut in the middle of its conversations phase
    return home, first


def resumed_copy(cut_demo: tuple[Path, Seen], tmp_path: Path) -> Demo:
    """The cut demo in a home of the test's own (in `tmp_path`), to resume."""
    return copy_demo(cut_demo[0], tmp_path / "home")
