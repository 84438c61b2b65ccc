"""Reading a class in date windows when one `find` cannot return it whole.

Naumen's REST `find` has no paging; a tenant may cut large replies silently. A reply
that looks cut (at or over `split_at`, a round number a cap would produce, or as long as
the reply that made us window) is split in halves and each half read again, starting
from one window over all time: requests grow with the records, not with the years the
tenant covers. A one-second window cannot shrink, so it is read as is and reported. A
window reply holding records outside the window means the server stopped honouring the
filter: reading stops with a clear error rather than splitting forever or yielding
duplicates.
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


ALL_TIME = Window(FLOOR, CEILING)


def suspicious(count: int, split_at: int, seen_cap: int | None = None) -> bool:
    """Whether a reply of `count` rows may have been cut by the server."""
    return count >= split_at or (count >= ROUND_CAP and count % ROUND_CAP == 0) or (
        seen_cap is not None and count >= seen_cap > 0)


Fetch = Callable[[Window], list[dict]]
DateOf = Callable[[dict], "datetime | None"]


def read_windows(
    start: Window,
    fetch: Fetch,
    date_of: DateOf,
    *,
    split_at: int,
    on_unsplittable: Callable[[Window, int], None],
    what: str,
    seen_cap: int | None = None,
) -> Iterator[list[dict]]:
    """Each window's rows, oldest window first, splitting the windows that look cut."""
    stack = [start]
    while stack:
        current = stack.pop()
        rows = fetch(current)
        for row in rows:
            when = date_of(row)
            if when is None or not current.holds(when):
                raise SourceError(
                    f"ITSM 365 stopped honouring the date filter for {what}: window {current} returned a record dated {when}",
                    hint="check the layout's date_filter and the class's date_attr for this tenant",
                    code="source.filter_ignored",
                )
        if suspicious(len(rows), split_at, seen_cap):
            halves = current.split()
            if halves is not None:
                stack.append(halves[1])
                stack.append(halves[0])
                continue
            on_unsplittable(current, len(rows))
        rows.sort(key=lambda row: (date_of(row) or FLOOR, str(row.get("UUID", ""))))
        yield rows
