"""Pause, resume and cancel a run from any thread (the UI, a signal handler), safely.

The loader calls `await control.checkpoint()` between writes: while paused it waits
(without spinning), when cancelled it raises RunCancelled at a point where the journal
is consistent. Nothing is ever interrupted in the middle of a write.
"""

from __future__ import annotations

import asyncio
import threading

POLL_S = 0.1


class RunCancelled(Exception):
    """The operator cancelled; the journal is consistent and the run can be resumed."""


class RunControl:
    def __init__(self) -> None:
        self._paused = threading.Event()
        self._cancelled = threading.Event()

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    async def checkpoint(self) -> None:
        while self._paused.is_set() and not self._cancelled.is_set():
            await asyncio.sleep(POLL_S)
        if self._cancelled.is_set():
            raise RunCancelled("cancelled by the operator")
