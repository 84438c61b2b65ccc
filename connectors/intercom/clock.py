"""Time as the client and the sandbox see it, injectable so tests run in virtual time.

Everything that waits or reads the time goes through a `Clock`: `time()` is Unix seconds
(Intercom's X-RateLimit-Reset is a Unix timestamp), `monotonic()` measures latency, and
`sleep()` waits. `SystemClock` is the real thing; the tests' `LoopClock`
(tests/support/virtual_time.py) reads an event loop's clock that jumps ahead.
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

