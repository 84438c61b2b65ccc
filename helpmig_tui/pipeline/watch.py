"""A record that takes long says why: the load never stalls silently.

Each record in flight carries what it is doing now (`Doing`, set by the steps it goes
through: mapping, preparing a long body, a write to Intercom and its retries). A watcher
beside it says so in the run's events once the record has taken longer than
`LoadOptions.slow_record_s`, and again each time that long passes while it still runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass
class Doing:
    step: str = "reading it from the source"


_current: ContextVar[Doing | None] = ContextVar("helpmig_record_doing", default=None)


def doing(step: str) -> None:
    """Say what the record in flight in this task is doing now (nothing outside a watched record)."""
    current = _current.get()
    if current is not None:
        current.step = step


async def watched(what: str, work: Awaitable[T], after: float, say: Callable[[str], None]) -> T:
    """Run `work` (one record: `what` names it); while it runs longer than `after` seconds,
    `say` why, once per `after` seconds."""
    state = Doing()
    token = _current.set(state)

    async def watch() -> None:
        waited = 0.0
        while True:
            await asyncio.sleep(after)
            waited += after
            say(f"{what} is taking longer than {waited:.3g} s: {state.step}")

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        return await work
    finally:
        watcher.cancel()
        _current.reset(token)
