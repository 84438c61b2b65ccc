"""Snapshots of every wizard step, the picker, the overview and the keys screen, at 80x24
and at 100x30, on the demo project (pytest-textual-snapshot).

The demo is prepared once, and each test opens its own fresh copy at a fixed path, so the
screens are the same on every machine and in any order (a step opened by one test leaves
nothing for the next): the tests of this module run in one xdist worker (`xdist_group`),
and a lock keeps two test runs on one machine (two worktrees) from sharing the folder at once. The cursor does not
blink, animations are off, and the reports' times are fixed.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from helpmig_tui.pipeline import session
from helpmig_tui.settings import resolve_paths
from screens import reports
from screens.overview import STEPS
from tests.support.demo_copy import copy_demo, demo_template
from tests.support.wizard import settle, wizard

SIZES = {"80x24": (80, 24), "100x30": (100, 30)}
ROOT = Path(tempfile.gettempdir()) / "helpmig-snapshots"
HOME = ROOT / "home"
PLAN_LATENCY_S = 0.008
PLAN_QUERY_S = 0.005

pytestmark = pytest.mark.xdist_group("snapshots")


@pytest.fixture(scope="module")
def template():
    fcntl = pytest.importorskip("fcntl", reason="the snapshot folder's lock is POSIX's")
    with open(Path(tempfile.gettempdir()) / "helpmig-snapshots.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run on this machine waits here
        shutil.rmtree(ROOT, ignore_errors=True)
        yield demo_template(ROOT / "template", "smartertrack", 12)


@pytest.fixture
def demo(template):
    """Each snapshot on a fresh copy of the demo at the fixed home: what a step shows does
    not depend on which steps an earlier test opened."""
    shutil.rmtree(HOME, ignore_errors=True)
    made = copy_demo(template, HOME)
    yield made
    made.close()


@pytest.fixture(autouse=True)
def _still(monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setattr(reports, "written", lambda path: "2026-01-01 00:00")
    # the plan's ETA for the longest thread counts the latency measured against the sandbox
    # (some 8 ms here when the machine is quiet, more when it is busy): fixed at that
    real = session.build_plan
    # and a source query's cost (measured on the plan's reads: a few ms)
    monkeypatch.setattr(session, "build_plan", lambda *a, **kw: real(*a, **{**kw, "latency_s": PLAN_LATENCY_S,
                                                                            "query_s": PLAN_QUERY_S}))


def _app(demo):
    app = wizard(resolve_paths(HOME), demo)
    app.animation_level = "none"
    return app


async def _settle(pilot) -> None:
    """The App's workers and messages run out (no sleeps), and no input's cursor blinks."""
    await settle(pilot)
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False


def _after(*keys: str, step: str | None = None):
    """Settle, open `step` from the overview (if given), then press each key, settling after each."""
    async def run_before(pilot) -> None:
        await _settle(pilot)
        if step is not None:
            pilot.app.screen.query_one("#steps", OptionList).highlighted = [s for s, _ in STEPS].index(step)
        for key in ("enter",) * (step is not None) + keys:
            await pilot.press(key)
            await _settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_picker(snap_compare, demo, size):
    assert snap_compare(_app(demo), terminal_size=SIZES[size], run_before=_after("escape"))


@pytest.mark.parametrize("size", SIZES)
def test_new_project_dialog(snap_compare, demo, size):
    assert snap_compare(_app(demo), terminal_size=SIZES[size], run_before=_after("escape", "n"))


@pytest.mark.parametrize("size", SIZES)
def test_overview(snap_compare, demo, size):
    assert snap_compare(_app(demo), terminal_size=SIZES[size], run_before=_settle)


@pytest.mark.parametrize("step", [s for s, _ in STEPS])
@pytest.mark.parametrize("size", SIZES)
def test_step(snap_compare, demo, size, step):
    assert snap_compare(_app(demo), terminal_size=SIZES[size], run_before=_after(step=step))


@pytest.mark.parametrize("size", SIZES)
def test_keys_screen(snap_compare, demo, size):
    assert snap_compare(_app(demo), terminal_size=SIZES[size], run_before=_after("f1", step="load"))
