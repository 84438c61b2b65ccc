"""Time as the client and the sandbox see it, injectable so tests run in virtual time.

Everything that waits or reads the time goes through a `Clock`: `time()` is Unix seconds
(Intercom's X-RateLimit-Reset is a Unix timestamp), `monotonic()` measures latency, and
`sleep()` waits. `SystemClock` is the real thing; `LoopClock` reads the running event
loop's clock, which `virtual_time.VirtualTimeLoop` advances without waiting.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Unix time in seconds."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, never going back."""

    async def sleep(self, seconds: float) -> None:
        """Wait (at least) this long."""


class SystemClock:
    """The wall clock and asyncio.sleep."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


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
