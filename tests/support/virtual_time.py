"""An asyncio event loop whose clock jumps to the next timer instead of waiting, and the
client's `Clock` that reads it (`LoopClock`).

For tests of pacing, backoff and rate-limit waits against the in-process sandbox: when no
callback is ready, the loop advances its clock to the earliest scheduled timer. Only for
code without real sockets (httpx.ASGITransport): real I/O would not get the time it needs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
DEADLOCK_AFTER = 10.0  # real seconds


class _JumpingSelector(selectors.DefaultSelector):
    """Polls without blocking and reports how long the loop wanted to wait."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None):  # type: ignore[override]
        events = super().select(0)
        if events or timeout == 0:
            return events
        if timeout is not None:
            self._loop.advance(timeout)
            return events
        # Nothing scheduled: only another thread can wake the loop now. Wait for it a
        # little (real time), then call it a deadlock rather than hang the test run.
        events = super().select(DEADLOCK_AFTER)
        if not events:
            raise RuntimeError(f"virtual time: nothing scheduled and no I/O for {DEADLOCK_AFTER} s (deadlock)")
        return events


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """`time()` is virtual: it starts at 0 and moves only when the loop would sleep."""

    def __init__(self) -> None:
        self._virtual_now = 0.0
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        self._virtual_now += seconds


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion in virtual time and close the loop."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


class LoopClock:
    """The running event loop's clock, offset to look like Unix time.

    With a `VirtualTimeLoop` this is virtual time: sleeps return at once and the clock
    jumps ahead, so a test that waits out three rate-limit windows takes milliseconds.
    """

    def __init__(self, epoch: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self.epoch = epoch

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    def time(self) -> float:
        return self.epoch + asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def source_inline(monkeypatch: Any) -> None:
    """The loader's source reads run in the loop's own thread, timed on its clock.

    In its thread a read takes real time, and while the loop waits for it the clock jumps
    from timer to timer (the sandbox's latencies): a busy machine then makes a phase take
    longer in virtual time. Inline, a read takes no virtual time, whatever the machine.
    The reader itself is unchanged: only its thread pool and its clock are replaced.
    """
    from helpmig_tui.pipeline import reader

    monkeypatch.setattr(reader, "ThreadPoolExecutor", _InlineExecutor)
    monkeypatch.setattr(reader, "time", _LoopTime())


class _InlineExecutor(concurrent.futures.Executor):
    """Runs each call as it is submitted, in the caller's thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # the read's error, raised where it is awaited
            future.set_exception(exc)
        return future


class _LoopTime:
    """`time` as the reader uses it (`perf_counter`), on the running loop's clock."""

    @staticmethod
    def perf_counter() -> float:
        return asyncio.get_running_loop().time()
