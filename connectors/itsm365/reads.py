"""Every `find` the ITSM 365 connector makes: sized first, windowed only when needed, kept per run.

A class is asked for whole, once. A reply that does not look cut is the class (small
classes cost one request however many years they span). A reply that looks cut is read
again in date windows, but only when the tenant's date filter has been seen to work:
the filter form is Naumen's scripting syntax, which a REST server may read literally
(every window empty) or ignore (every window everything). `probe_dates` asks for a
one-second window around a record it has just seen, once per run, and says which; when
the filter does not work the whole reply is used and the possible cut is a finding.
Replies that must belong to one owner (a call's comments) are checked row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from connectors.base import Severity
from connectors.finding_tally import FindingTally
from connectors.itsm365.client import NaumenClient
from connectors.itsm365.fields import check_date_format, naumen_local
from connectors.itsm365.windows import ALL_TIME, CEILING, FLOOR, Window, read_windows, suspicious
from connectors.local_time import from_utc
from connectors.read_cache import Grouper, ReadCache


@dataclass(frozen=True)
class DateProbe:
    works: bool
    note: str  # what was seen, for the finding and the connection test


def uuid_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("UUID") or value.get("uuid")
    return str(value) if value not in (None, "") else None


class Reads:
    def __init__(self, client: NaumenClient, date_filter: str, zone: tzinfo, split_at: int, tally: FindingTally,
                 cache: ReadCache, tell: Callable[[str], None]) -> None:
        self.client = client
        self.date_filter = date_filter
        self.zone = zone
        self.split_at = split_at
        self.tally = tally
        self.cache = cache
        self.tell = tell
        self.date_probe: DateProbe | None = None
        self.incomplete: set[str] = set()  # keys whose reply looked cut and could not be windowed

    # -- the date filter ----------------------------------------------------------

    def local_date(self, row: dict, attr: str, what: str) -> datetime | None:
        value = check_date_format(row.get(attr), self.zone, what)
        return from_utc(value, self.zone) if value is not None else None

    def _clause(self, window: Window) -> str:
        return self.date_filter.format(start=naumen_local(window.start), end=naumen_local(window.end))

    def window_find(self, fqn: str, attr: str, window: Window, extra: Mapping[str, Any] | None,
                    attrs: Sequence[str], what: str) -> list[dict]:
        rows, _ = self.client.find(fqn, {**(extra or {}), attr: self._clause(window)}, attrs, what=what)
        return rows

    def probe_dates(self, fqn: str, attr: str, rows: list[dict], what: str) -> DateProbe:
        """Whether the date filter narrows a find to a window (asked once per run)."""
        if self.date_probe is not None:
            return self.date_probe
        dated = sorted((d, str(r.get("UUID"))) for r in rows if (d := self.local_date(r, attr, what)) is not None)
        if not dated:
            return DateProbe(False, f"no dated {fqn} record to try the date filter with")
        shared: dict[datetime, int] = {}
        for d, _ in dated:
            shared[d] = shared.get(d, 0) + 1
        rarest = min(shared.values())  # a second few records share: a server cap cannot hide the one asked about
        candidates = [(d, uuid) for d, uuid in dated if shared[d] == rarest]
        when, uuid = candidates[len(candidates) // 2]
        got = self.window_find(fqn, attr, Window(when, when), None, ["UUID", attr], f"date filter probe on {fqn}")
        keys = {str(r.get("UUID")) for r in got}
        outside = [r for r in got if self.local_date(r, attr, what) != when]
        form = self.date_filter.split("(")[0]
        if uuid in keys and not outside:
            probe = DateProbe(True, f"the date filter {form}(...) narrows {fqn} to a one-second window")
        elif not got:
            probe = DateProbe(False, f"the date filter {form}(...) found nothing in a window holding {uuid}: "
                                     "the tenant does not read it as a date range")
        elif outside:
            probe = DateProbe(False, f"the date filter {form}(...) answered {len(outside)} {fqn} records outside "
                                     "its window: the tenant ignores it")
        else:
            probe = DateProbe(False, f"the date filter {form}(...) left out {uuid}, which its window holds")
        self.date_probe = probe
        return probe

    # -- whole reads --------------------------------------------------------------

    def whole(self, key: str, fqn: str, attrs: Sequence[str], date_attr: str, *, what: str,
              extra: Mapping[str, Any] | None = None, group: Grouper | None = None,
              belongs: Callable[[dict], bool] | None = None, per_owner: bool = False) -> Iterator[dict]:
        """The objects of `fqn` (narrowed by `extra`), oldest first, read once per run. With
        `per_owner`, a cut reply is not a loss: the caller reads each owner's objects instead."""
        return self.cache.rows(key, lambda: self._whole(key, fqn, attrs, date_attr, what, extra, belongs, per_owner),
                               group)

    def _whole(self, key: str, fqn: str, attrs: Sequence[str], date_attr: str, what: str,
               extra: Mapping[str, Any] | None, belongs: Callable[[dict], bool] | None,
               per_owner: bool) -> Iterator[dict]:
        self.incomplete.discard(key)
        rows, total = self.client.find(fqn, extra or None, attrs, what=what)
        cut = (total is not None and total > len(rows)) or suspicious(len(rows), self.split_at)
        if cut and self.probe_dates(fqn, date_attr, rows, what).works:
            self.tell(f"reading {what} in date windows ({len(rows)} came at once)")
            for batch in self._windows(ALL_TIME, fqn, attrs, date_attr, what, extra, seen_cap=len(rows)):
                yield from self._owned(batch, belongs, fqn)
            return
        if cut and per_owner:
            self.incomplete.add(key)
            self.tally.add("itsm365.read_per_owner", Severity.INFO,
                           f"{what}: {len(rows)} records came at once and the date filter cannot split the read: "
                           "each owner's are read on their own (one request per record)", count=len(rows),
                           detail=self.date_probe.note if self.date_probe else "")
        elif cut:
            self.incomplete.add(key)
            self.tally.add(
                "itsm365.reply_may_be_cut", Severity.WARNING,
                f"{what}: ITSM 365 answered {len(rows)} records at once, a size a server limit could produce, and "
                "its date filter cannot split the read on this tenant: records past a limit would be missing",
                object=None, count=len(rows),
                detail=(self.date_probe.note if self.date_probe else "") + "; compare with the count ITSM 365 shows, "
                       "and set layout.date_filter to a form the tenant accepts if they differ")
        rows.sort(key=lambda row: (self._date_or_floor(row, date_attr, what), str(row.get("UUID", ""))))
        yield from self._owned(rows, belongs, fqn)

    def since(self, fqn: str, attrs: Sequence[str], attr: str, since: datetime, *, what: str) -> Iterator[dict]:
        """Objects whose `attr` is at or after `since` (tenant-local): windows when the date filter
        works, else the whole class filtered here. Never kept: a delta wants the source as it is now."""
        rows, total = self.client.find(fqn, None, attrs, what=what)
        cut = (total is not None and total > len(rows)) or suspicious(len(rows), self.split_at)
        if self.probe_dates(fqn, attr, rows, what).works and cut:
            for batch in self._windows(Window(since, CEILING), fqn, attrs, attr, what, None, seen_cap=len(rows)):
                yield from batch
            return
        if cut:
            self.tally.add("itsm365.reply_may_be_cut", Severity.WARNING,
                           f"{what}: ITSM 365 answered {len(rows)} records at once; changes past a server limit "
                           "would be missing from this delta", count=len(rows))
        kept = [r for r in rows if (d := self.local_date(r, attr, what)) is not None and d >= since]
        kept.sort(key=lambda row: (self._date_or_floor(row, attr, what), str(row.get("UUID", ""))))
        yield from kept

    def _windows(self, start: Window, fqn: str, attrs: Sequence[str], date_attr: str, what: str,
                 extra: Mapping[str, Any] | None, seen_cap: int) -> Iterator[list[dict]]:
        def unsplittable(window: Window, count: int) -> None:
            self.tally.add("itsm365.window_not_splittable", Severity.WARNING,
                           f"{count} records of {what} share one second ({window}); a server cap at {count} would "
                           "hide more", count=count,
                           detail="raise split_at above the server's cap, or check these records in ITSM 365")

        yield from read_windows(start, lambda w: self.window_find(fqn, date_attr, w, extra, attrs, what),
                                lambda row: self.local_date(row, date_attr, what), split_at=self.split_at,
                                on_unsplittable=unsplittable, what=what, seen_cap=seen_cap)

    def _owned(self, rows: list[dict], belongs: Callable[[dict], bool] | None, fqn: str) -> Iterator[dict]:
        for row in rows:
            if belongs is None or belongs(row):
                yield row
            else:
                self.tally.add("itsm365.stray_child", Severity.WARNING,
                               f"ITSM 365 returned {fqn} records asked for one owner that belong to another; "
                               "they were left out there",
                               key=str(row.get("UUID")),
                               detail="the tenant ignored the owner filter; each record is still read with its own owner")

    def _date_or_floor(self, row: dict, attr: str, what: str) -> datetime:
        return self.local_date(row, attr, what) or FLOOR
