"""Safe stops: a load stopped by SIGINT, SIGTERM or SIGHUP (real processes on Linux) ends at
a safe point, says how to resume and exits 130 or 143; a second signal stops it at once
and the resume still leaves exactly one copy in Intercom. The Windows console handler is
driven through its function, with SetConsoleCtrlHandler monkeypatched."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.intercom.sandbox import DEFAULT_TOKEN
from helpmig_tui import cli_stops
from helpmig_tui.cli import main
from helpmig_tui.cli_stops import (
    CTRL_BREAK_EVENT,
    CTRL_C_EVENT,
    CTRL_CLOSE_EVENT,
    CTRL_LOGOFF_EVENT,
    CTRL_SHUTDOWN_EVENT,
    Stop,
    StopRequested,
    Stops,
)
from helpmig_tui.pipeline.control import RunControl
from helpmig_tui.project import open_project
from helpmig_tui.state.models import Run
from tests.support.exactly_once import assert_exactly_once
from tests.support.cli import serving
from tests.support.demo_copy import copy_demo, demo_template

ROOT = Path(__file__).resolve().parents[1]
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


@pytest.fixture(scope="module")
def slow_template(tmp_path_factory):
    return demo_template(tmp_path_factory.mktemp("template"), "trackit", 12, latency_ms=150)


@pytest.fixture
def slow_intercom(slow_template, tmp_path):
    """A project ready to load into a sandbox that answers after 150 ms, served on loopback
    (each test's own: a copy of the module's)."""
    demo = copy_demo(slow_template, tmp_path / "home")
    assert demo.sandbox.config.latency_ms == 150
    with serving(demo):
        yield demo.paths, demo
    demo.close()


class Loader:
    """`helpmig load P --yes` in its own process; stderr collected line by line."""

    def __init__(self, paths, project: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HELPMIG_INTERCOM_TOKEN": DEFAULT_TOKEN}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "helpmig_tui", "--home", str(paths.home), "load", project, "--yes"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.started = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)
            if line.startswith("phase companies"):  # writing to Intercom, conversations still to come
                self.started.set()
        self.started.set()

    def finish(self) -> tuple[int, str]:
        code = self.process.wait(timeout=120)
        self._reader.join(timeout=10)
        self.process.stdout.close()
        return code, "".join(self.lines)


def _last_run(paths, project: str) -> Run:
    with open_project(paths, project) as store, store.reader() as session:
        return session.scalars(select(Run).order_by(Run.id.desc()).limit(1)).one()


@posix_only
@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 143)])
def test_a_signal_stops_the_load_at_a_safe_point(name, code, slow_intercom):
    paths, demo = slow_intercom
    loader = Loader(paths, demo.project)
    assert loader.started.wait(120), "the load never reached Intercom"
    assert loader.process.poll() is None, "".join(loader.lines)
    loader.process.send_signal(getattr(signal, name))
    exit_code, err = loader.finish()
    assert exit_code == code, err
    assert f"stopped safely: run `helpmig load {demo.project}` to resume" in err
    assert "stopping safely" in err and "Traceback" not in err
    run = _last_run(paths, demo.project)
    assert run.kind == "load" and run.status == "paused"  # resumable, and said so
    assert "cancelled by the operator" in (run.summary or {}).get("message", "")


@posix_only
def test_a_second_signal_stops_at_once_and_the_resume_leaves_one_copy(slow_intercom, capsys, monkeypatch):
    paths, demo = slow_intercom
    loader = Loader(paths, demo.project)
    assert loader.started.wait(120), "the load never reached Intercom"
    demo.sandbox.config.latency_ms = 3000  # writes in flight now take a while to finish safely
    time.sleep(1)
    loader.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    loader.process.send_signal(signal.SIGINT)
    exit_code, err = loader.finish()
    assert exit_code == 143, err  # the first stop's kind
    assert "stopping at once" in err and "Traceback" not in err
    assert f"stopped at once: run `helpmig load {demo.project}` to resume" in err
    assert _last_run(paths, demo.project).status == "paused"

    # The writes cut off at once reach the sandbox after its latency with their connection
    # gone: it drops them unread (and records nothing). The resume must send nothing Intercom refuses.
    time.sleep(3.5)
    demo.sandbox.config.latency_ms = 0  # the resume need not be slow
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", DEFAULT_TOKEN)
    assert main(["--home", str(paths.home), "load", demo.project, "--yes"]) == 0, capsys.readouterr().err
    assert _last_run(paths, demo.project).status == "done"
    assert_exactly_once(paths, demo)


# -- the mechanism, in this process ---------------------------------------------------------


def _stops(said: list[str]) -> Stops:
    return Stops(said.append, cancel_queries=lambda: 0)


def test_without_a_run_a_stop_raises_where_the_command_is():
    stops = _stops([])
    with pytest.raises(StopRequested) as info:
        stops.request(Stop("SIGTERM", 143), main_thread=True)
    assert info.value.stop.code == 143 and not info.value.at_once


def test_a_run_stops_cooperatively_then_at_once_within_the_window():
    said: list[str] = []
    stops = _stops(said)
    control = RunControl()
    seen: dict[str, object] = {}

    async def work() -> str:
        stops.request(Stop("Ctrl+C", 130), main_thread=True)  # as the signal handler would
        seen["cancelled_after_first"] = control.cancelled
        await asyncio.sleep(0)  # the first stop only asks: the run carries on to its safe point
        stops.request(Stop("Ctrl+C", 130), main_thread=True)
        await asyncio.sleep(5)  # cancelled here by the second stop
        return "finished"

    with pytest.raises(StopRequested) as info:
        stops.run(work, cancel=control.cancel)
    assert seen["cancelled_after_first"] is True
    assert info.value.at_once and info.value.stop.code == 130
    assert any("stopping safely" in line for line in said) and any("stopping at once" in line for line in said)


def test_a_second_stop_after_the_window_is_a_first_one_again():
    now = [100.0]
    stops = Stops(lambda line: None, window_s=5.0, clock=lambda: now[0], cancel_queries=lambda: 0)
    control = RunControl()

    async def work() -> bool:
        stops.request(Stop("SIGTERM", 143), main_thread=True)
        now[0] += 30  # a second stop much later: still a safe stop
        stops.request(Stop("SIGTERM", 143), main_thread=True)
        await asyncio.sleep(0)
        return control.cancelled

    assert stops.run(work, cancel=control.cancel) is True


def test_work_without_a_safe_point_stops_at_once_and_cancels_source_queries():
    cancelled: list[int] = []
    stops = Stops(lambda line: None, cancel_queries=lambda: cancelled.append(1) or 1)

    async def work() -> None:
        stops.request(Stop("SIGTERM", 143), main_thread=True)
        await asyncio.sleep(5)

    with pytest.raises(StopRequested) as info:
        stops.run(work)  # plan, validate: nothing to keep consistent
    assert not info.value.at_once and cancelled == [1]


# -- Windows: the console control handler, with the Win32 call monkeypatched -----------------------


class Kernel32:
    def __init__(self) -> None:
        self.handlers: list[object] = []

    def SetConsoleCtrlHandler(self, handler, add):  # noqa: N802 - the Win32 name
        if add:
            self.handlers.append(handler)
        else:
            self.handlers.remove(handler)
        return 1


@pytest.fixture
def windows(monkeypatch) -> Kernel32:
    kernel32 = Kernel32()
    monkeypatch.setattr(cli_stops, "_windows", lambda: True)
    monkeypatch.setattr(cli_stops, "_kernel32", lambda: kernel32)
    monkeypatch.setattr(ctypes, "WINFUNCTYPE", ctypes.CFUNCTYPE, raising=False)  # the stdcall type on Windows
    return kernel32


def test_the_console_handler_is_registered_and_removed(windows):
    stops = _stops([])
    stops.install()
    try:
        assert len(windows.handlers) == 1
    finally:
        stops.uninstall()
    assert windows.handlers == []


@pytest.mark.parametrize(("event", "code"), [(CTRL_C_EVENT, 130), (CTRL_BREAK_EVENT, 130)])
def test_ctrl_c_and_ctrl_break_ask_the_run_to_stop_safely(windows, event, code):
    said: list[str] = []
    stops = _stops(said)
    stops.install()
    control = RunControl()
    handler = windows.handlers[0]
    answers: list[int] = []

    async def work() -> bool:
        # Windows calls the handler on a thread of its own
        caller = threading.Thread(target=lambda: answers.append(handler(event)))
        caller.start()
        while caller.is_alive():
            await asyncio.sleep(0.01)
        return control.cancelled

    try:
        assert stops.run(work, cancel=control.cancel) is True
    finally:
        stops.uninstall()
    assert answers == [1]  # handled: Windows does not end the process
    assert stops.first is not None and stops.first.code == code
    assert any("stopping safely" in line for line in said)


@pytest.mark.parametrize("event", [CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT])
def test_closing_logoff_and_shutdown_wait_for_the_state_to_be_written(windows, event):
    """Windows ends the process when the handler returns: it returns only once the command
    has stopped and written its state (here: the run's task sets `finished`)."""
    stops = _stops([])
    stops.install()
    control = RunControl()
    handler = windows.handlers[0]
    returned: list[float] = []

    async def work() -> None:
        caller = threading.Thread(target=lambda: (handler(event), returned.append(time.monotonic())))
        caller.start()
        while not control.cancelled:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # the safe stop: journal flushed, run marked paused ...
        assert not returned, "the handler returned before the state was written"
        written = time.monotonic()
        stops.finished.set()
        caller.join(timeout=5)
        assert returned and returned[0] >= written

    try:
        stops.run(work, cancel=control.cancel)
    finally:
        stops.uninstall()
    assert stops.first is not None and stops.first.code == 143


def test_a_console_event_without_a_run_interrupts_the_main_thread(windows):
    stops = _stops([])
    stops.install()
    handler = windows.handlers[0]
    try:
        with pytest.raises(StopRequested) as info:
            threading.Thread(target=lambda: handler(CTRL_BREAK_EVENT)).start()
            time.sleep(5)  # the prompt or the sync command the stop interrupts
    finally:
        stops.uninstall()
    assert info.value.stop.code == 130
