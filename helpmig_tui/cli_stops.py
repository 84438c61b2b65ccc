"""Safe stops: every way an operator or the OS asks a headless command to stop ends the same way.

POSIX: SIGINT (Ctrl+C), SIGTERM (`kill`, a scheduler ending the task), SIGHUP (a closed
terminal, a dropped SSH or RDP shell). Windows: the console's CTRL_C, CTRL_BREAK, CTRL_CLOSE
(the window closed), CTRL_LOGOFF and CTRL_SHUTDOWN events, through SetConsoleCtrlHandler.

The first stop asks the running command to stop at its next safe point: a run (load,
sample, delta, rollback) finishes the writes in flight, journals them and is marked paused;
a command with nothing to keep consistent (plan, validate, audit, a prompt) stops at once.
A second stop within WINDOW_S stops a run at once: its task is cancelled and the write-ahead
journal keeps the in-flight rows, which the resume looks up in Intercom before sending
anything again. Running source queries are cancelled as the command stops.

The exit code says which kind of stop it was: 130 for an interrupt (Ctrl+C, Ctrl+Break),
143 for a termination (SIGTERM, SIGHUP, the console closed, logoff, shutdown).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

INTERRUPTED, TERMINATED = 130, 143
WINDOW_S = 5.0  # a second stop within this many seconds stops at once
CLOSE_GRACE_S = 4.0  # Windows ends the process about 5 s after CTRL_CLOSE: the safe stop gets this long

# Windows console control events (wincon.h)
CTRL_C_EVENT, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT = 0, 1, 2, 5, 6
CONSOLE_EVENTS = {
    CTRL_C_EVENT: ("Ctrl+C", INTERRUPTED),
    CTRL_BREAK_EVENT: ("Ctrl+Break", INTERRUPTED),
    CTRL_CLOSE_EVENT: ("the console window closing", TERMINATED),
    CTRL_LOGOFF_EVENT: ("the user logging off", TERMINATED),
    CTRL_SHUTDOWN_EVENT: ("Windows shutting down", TERMINATED),
}
# Events after which Windows ends the process as soon as the handler returns.
ENDING_EVENTS = {CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT}
POSIX_SIGNALS = {"SIGINT": ("Ctrl+C (SIGINT)", INTERRUPTED), "SIGTERM": ("SIGTERM", TERMINATED),
                 "SIGHUP": ("SIGHUP (the terminal closed)", TERMINATED)}

T = TypeVar("T")


@dataclass(frozen=True)
class Stop:
    """One request to stop: what asked, and the exit code it leads to."""

    what: str
    code: int


class StopRequested(KeyboardInterrupt):
    """Raised where the command was when a stop arrived (a KeyboardInterrupt, so code that
    cleans up on Ctrl+C cleans up on every stop). `at_once`: a run was cut short."""

    def __init__(self, stop: Stop, *, at_once: bool = False) -> None:
        super().__init__(stop.what)
        self.stop = stop
        self.at_once = at_once


def _windows() -> bool:
    return os.name == "nt"


def _kernel32() -> Any:
    import ctypes

    return ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]


@dataclass
class _Run:
    loop: asyncio.AbstractEventLoop
    task: asyncio.Task[Any]
    cancel: Callable[[], None] | None  # the cooperative stop (RunControl.cancel); None: stop at once


class Stops:
    """The process's stop handling for one headless command (install, run, uninstall)."""

    def __init__(self, say: Callable[[str], None], *, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic, cancel_queries: Callable[[], int] | None = None) -> None:
        self.say = say
        self.window_s = window_s
        self.clock = clock
        self.cancel_queries = cancel_queries or _cancel_source_queries
        self.first: Stop | None = None
        self._last_at: float | None = None
        self._run: _Run | None = None
        self._pending: Stop | None = None  # a stop from the console thread, raised in the main thread
        self._lock = threading.Lock()
        self.finished = threading.Event()  # the command is done and its state written
        self._saved: dict[int, Any] = {}
        self._console_handler: Any = None

    # -- installing ------------------------------------------------------------------

    def install(self) -> None:
        for name in POSIX_SIGNALS:
            number = getattr(signal, name, None)
            if number is None:
                continue
            try:
                self._saved[number] = signal.signal(number, self._on_signal)
            except (OSError, ValueError):  # not the main thread, or not settable here
                continue
        if _windows():
            self._install_console_handler()

    def uninstall(self) -> None:
        for number, previous in self._saved.items():
            try:
                signal.signal(number, previous)
            except (OSError, ValueError):
                continue
        self._saved.clear()
        if self._console_handler is not None:
            _kernel32().SetConsoleCtrlHandler(self._console_handler, False)
            self._console_handler = None

    def _install_console_handler(self) -> None:
        import ctypes

        handler_type = ctypes.WINFUNCTYPE(ctypes.c_int, ctypes.c_uint)  # type: ignore[attr-defined]
        self._console_handler = handler_type(self.on_console_event)  # kept: ctypes must not free it
        if not _kernel32().SetConsoleCtrlHandler(self._console_handler, True):
            self._console_handler = None  # no console (a service): the signals still work

    # -- receiving -------------------------------------------------------------------

    def _on_signal(self, number: int, frame: Any) -> None:
        """A POSIX signal (or Windows' SIGINT from interrupt_main), in the main thread."""
        pending, self._pending = self._pending, None
        if pending is not None:  # the console thread asked the main thread to stop
            raise StopRequested(self.first or pending)
        name = signal.Signals(number).name
        what, code = POSIX_SIGNALS.get(name, (name, TERMINATED))
        self.request(Stop(what, code), main_thread=True)

    def on_console_event(self, event: int) -> int:
        """SetConsoleCtrlHandler's callback, on a thread Windows starts: True = handled."""
        if event not in CONSOLE_EVENTS:
            return 0
        what, code = CONSOLE_EVENTS[event]
        self.request(Stop(what, code), main_thread=False)
        if event in ENDING_EVENTS:  # Windows ends the process when this returns: let the stop finish first
            if not self.finished.wait(CLOSE_GRACE_S):
                self.request(Stop(what, code), main_thread=False, at_once=True)
                self.finished.wait(0.8)
        return 1

    def request(self, stop: Stop, *, main_thread: bool, at_once: bool = False) -> None:
        """Act on a stop: ask the run to stop safely, or at once when repeated within the window."""
        with self._lock:
            now = self.clock()
            if self.first is None:
                self.first = stop
            repeated = self._last_at is not None and now - self._last_at <= self.window_s
            self._last_at = now
            run = self._run
        if run is None or run.cancel is None:
            self.cancel_queries()
            if run is not None:
                run.loop.call_soon_threadsafe(run.task.cancel)
            elif main_thread:
                raise StopRequested(self.first)
            else:
                self._pending = stop
                import _thread

                _thread.interrupt_main(signal.SIGINT)
            return
        if repeated or at_once:
            self.say(f"stopping at once after {stop.what}: the writes that were in flight are checked when the run "
                     "resumes")
            self.cancel_queries()
            run.loop.call_soon_threadsafe(run.task.cancel)
        else:
            self.say(f"stopping safely after {stop.what}: the writes in flight finish first; "
                     f"stop again within {self.window_s:g} s to stop at once")
            run.cancel()

    # -- running ---------------------------------------------------------------------

    def run(self, coroutine: Callable[[], Coroutine[Any, Any, T]], *, cancel: Callable[[], None] | None = None) -> T:
        """`asyncio.run` with stops wired in: `cancel` is the run's cooperative stop (a
        RunControl's), or None for work that may stop at once. A run cut short raises
        StopRequested(at_once=True)."""
        import asyncio

        async def main() -> T:
            task = asyncio.current_task()
            assert task is not None
            with self._lock:
                self._run = _Run(asyncio.get_running_loop(), task, cancel)
                stopped = self.first is not None
            try:
                if stopped:  # a stop arrived before the loop ran
                    raise asyncio.CancelledError
                return await coroutine()
            finally:
                with self._lock:
                    self._run = None

        try:
            return asyncio.run(main())
        except asyncio.CancelledError:
            if self.first is None:
                raise
            raise StopRequested(self.first, at_once=cancel is not None) from None


def _cancel_source_queries() -> int:
    """Cancel the SQL source queries running now (a stop must not wait for a long scan)."""
    import sys

    queries = sys.modules.get("connectors.sql.queries")
    return queries.cancel_queries() if queries is not None else 0
