"""The operator's stop in a test, counted in records written rather than timed: a stop on
a progress report raced the load, which could end before a report met its condition."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from helpmig_tui.pipeline.control import RunControl
from helpmig_tui.pipeline.loader import Loader


@contextmanager
def stopped_after(conversations: int, control: RunControl) -> Iterator[None]:
    """The operator's stop, counted in conversations written rather than timed."""
    one = Loader._one
    written = 0

    async def counted(self: Loader, *args: Any) -> None:
        nonlocal written
        await one(self, *args)
        written += 1
        if written >= conversations:
            control.cancel()

    Loader._one = counted  # type: ignore[method-assign]
    try:
        yield
    finally:
        Loader._one = one  # type: ignore[method-assign]


class HeldAfter:
    """Lets the first `conversations` jobs of a load run, and holds every later one until the
    run is cancelled (it then stops at its first step): a test that stops the load from
    outside (ctrl+q in the wizard, whose load runs in a thread) knows exactly what was done
    when it stopped. `reached` is set once the first ones are all settled."""

    def __init__(self, conversations: int) -> None:
        self.conversations = conversations
        self.reached = threading.Event()
        self._started = self._settled = 0

    @contextmanager
    def installed(self) -> Iterator[None]:
        one = Loader._one
        held = self

        async def gated(self: Loader, *args: Any) -> None:
            if held._started >= held.conversations:
                while not self.ctx.control.cancelled:
                    await asyncio.sleep(0.01)
                return await one(self, *args)
            held._started += 1
            try:
                await one(self, *args)
            finally:
                held._settled += 1
                if held._settled == held.conversations:
                    held.reached.set()

        Loader._one = gated  # type: ignore[method-assign]
        try:
            yield
        finally:
            Loader._one = one  # type: ignore[method-assign]

    async def wait(self, seconds: float) -> None:
        """Until the first jobs are settled (from the test's own event loop)."""
        if not await asyncio.to_thread(self.reached.wait, seconds):
            raise TimeoutError(f"the load did not settle {self.conversations} conversations in {seconds} s")
