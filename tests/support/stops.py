"""The operator's stop in a test, counted in records written rather than timed: a stop on
a progress report raced the load, which could end before a report met its condition."""

from __future__ import annotations

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
