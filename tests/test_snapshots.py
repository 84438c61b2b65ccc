"""Snapshots of every wizard step at 100x30 on the demo project (pytest-textual-snapshot).

The demo is prepared at a fixed path so the screens are the same on every machine; the
cursor does not blink, animations are off, and report files get a fixed time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from helpmig_tui.app import make_app
from helpmig_tui.demo import prepare_demo
from helpmig_tui.settings import Secrets, Settings, resolve_paths
from screens.overview import STEPS

SIZE = (100, 30)
HOME = Path(tempfile.gettempdir()) / "helpmig-snapshots" / "home"
FIXED_TIME = 1_767_225_600  # 2026-01-01 00:00 UTC


@pytest.fixture(scope="module")
def demo():
    shutil.rmtree(HOME.parent, ignore_errors=True)
    return prepare_demo(resolve_paths(HOME), "smartertrack", 12)


@pytest.fixture(autouse=True)
def _still(monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")


def _app(demo):
    app = make_app(paths=resolve_paths(HOME), settings=Settings(), secrets=Secrets(env={}, use_keyring=False), demo=demo)
    app.animation_level = "none"
    return app


async def _still_inputs(pilot) -> None:
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False


async def _settle(pilot) -> None:
    """Messages start workers and workers post messages: let both run out (no sleeps)."""
    for _ in range(4):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await _still_inputs(pilot)


def _at_step(step: str):
    async def run_before(pilot) -> None:
        await pilot.pause()
        steps = pilot.app.screen.query_one("#steps", OptionList)
        steps.highlighted = [s for s, _ in STEPS].index(step)
        await pilot.press("enter")
        await _settle(pilot)
        for path in resolve_paths(HOME).reports_dir(pilot.app.demo.project).rglob("*"):
            os.utime(path, (FIXED_TIME, FIXED_TIME))
        await pilot.pause()

    return run_before


def test_picker(snap_compare, demo):
    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("escape")
        await _settle(pilot)

    assert snap_compare(_app(demo), terminal_size=SIZE, run_before=run_before)


def test_overview(snap_compare, demo):
    assert snap_compare(_app(demo), terminal_size=SIZE, run_before=_settle)


@pytest.mark.parametrize("step", [s for s, _ in STEPS])
def test_step(snap_compare, demo, step):
    assert snap_compare(_app(demo), terminal_size=SIZE, run_before=_at_step(step))


def test_keys_screen(snap_compare, demo):
    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("f1")
        await _settle(pilot)

    assert snap_compare(_app(demo), terminal_size=SIZE, run_before=run_before)
