"""Reading a class in date windows, since Naumen's REST `find` has no paging.

A window is an inclusive range of whole seconds in the tenant's local time. A window
whose reply is suspiciously large (at or over `split_at`, or a round number a server
cap would produce) is split in halves and read again; a one-second window cannot
shrink, so it is read as is and reported. A reply holding records outside its
window means the server ignored the filter: reading stops with a clear error rather
than splitting forever or yielding duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors.base import SourceError

SECOND = timedelta(seconds=1)
FLOOR = datetime(1970, 1, 1)
CEILING = datetime(2100, 1, 1)
ROUND_CAP = 50  # replies of a multiple of this size look like a silent server cap


@dataclass(frozen=True)
class Window:
    start: datetime  # naive, tenant-local, inclusive
    end: datetime  # naive, tenant-local, inclusive

    def split(self) -> tuple[Window, Window] | None:
        seconds = int((self.end - self.start).total_seconds())
        if seconds < 1:
            return None
        mid = self.start + timedelta(seconds=seconds // 2)
        return Window(self.start, mid), Window(mid + SECOND, self.end)

    def holds(self, value: datetime) -> bool:
        return self.start <= value <= self.end

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M:%S}..{self.end:%Y-%m-%d %H:%M:%S}"


def plan(start: datetime, end: datetime, days: int, *, outer: bool = True) -> Iterator[Window]:
    """Windows of `days` covering start..end, plus (with `outer`) everything before and after."""
    if outer and start > FLOOR:
        yield Window(FLOOR, start - SECOND)
    step = timedelta(days=max(1, days))
    cursor = start
    while cursor <= end:
        last = min(cursor + step - SECOND, end)
        yield Window(cursor, last)
        cursor = last + SECOND
    if outer and end < CEILING:
        yield Window(end + SECOND, CEILING)


def suspicious(count: int, split_at: int) -> bool:
    return count >= split_at or (count >= ROUND_CAP and count % ROUND_CAP == 0)


Fetch = Callable[[Window], list[list[dict]]]  # one list per request made for the window
DateOf = Callable[[dict], "datetime | None"]


def read_windows(
    windows: Iterator[Window],
    fetch: Fetch,
    date_of: DateOf,
    *,
    split_at: int,
    on_unsplittable: Callable[[Window, int], None],
    what: str,
) -> Iterator[list[dict]]:
    """Each window's rows, oldest window first, splitting suspicious windows."""
    for window in windows:
        stack = [window]
        while stack:
            current = stack.pop()
            replies = fetch(current)
            rows = [row for reply in replies for row in reply]
            for row in rows:
                when = date_of(row)
                if when is None or not current.holds(when):
                    raise SourceError(
                        f"ITSM 365 ignored the date filter for {what}: window {current} returned a record dated {when}",
                        hint="check the layout's date_filter and the class's date_attr for this tenant",
                        code="source.filter_ignored",
                    )
            biggest = max((len(reply) for reply in replies), default=0)
            if suspicious(biggest, split_at):
                halves = current.split()
                if halves is not None:
                    stack.append(halves[1])
                    stack.append(halves[0])
                    continue
                on_unsplittable(current, biggest)
            rows.sort(key=lambda row: (date_of(row) or FLOOR, str(row.get("UUID", ""))))
            yield rows
