"""Turning a source's local, naive timestamps into aware UTC datetimes.

Sources that send no offset (ITSM 365 `yyyy.MM.dd HH:mm:ss`, export files, Track-It!'s
datetime columns) are read in the time zone the operator configured for the tenant, the
job or the server; `SourceClock` falls back to this machine's zone (by its IANA name,
which for an on-prem tool is usually the source server's own) and says it assumed it.

Daylight saving time, one rule everywhere (PEP 495's fold=0, what zoneinfo does): a
wall-clock time always takes the UTC offset in force *before* the nearest change. So a
time in a gap (the hour skipped when clocks go forward: Europe/Berlin 2024-03-31 02:30)
is read as if the clock had not been moved yet (01:30 UTC, shown as 03:30 CEST), and a
time in an overlap (the hour repeated when clocks go back: 2024-10-27 02:30) is its
first occurrence, the daylight-saving one (00:30 UTC). `wall_time_problem` says which
values met the rule, so they are counted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import SourceError, ValueNote

DST_GAP = "date.dst_gap"  # a local time that does not exist (clocks went forward over it)
DST_OVERLAP = "date.dst_overlap"  # a local time that happened twice (clocks went back over it)
THIS_MACHINE = ("local", "machine", "this machine")  # what an operator types to accept the machine's zone
GAP_RULE = "read with the offset before the change, as if the clock had not moved yet"
OVERLAP_RULE = "read as the first of the two, the daylight-saving one"


def _windows_names() -> dict[str, str]:
    """Windows time zone names (`tzutil /g`: "W. Europe Standard Time") -> IANA names."""
    try:
        from tzlocal.windows_tz import win_tz
    except ImportError:  # pragma: no cover - tzlocal is a dependency
        return {}
    return dict(win_tz)


def zone_name(name: str) -> str:
    """The IANA name for what an operator typed: an IANA name, a Windows zone name, or
    `local` for this machine's zone. An unknown name is a clear SourceError."""
    text = " ".join(str(name).split())
    if text.casefold() in THIS_MACHINE:
        found = machine_zone_name()
        if found is None:
            raise SourceError(
                "this machine's time zone has no name helpmig can read",
                hint="give the zone by name, e.g. Europe/Berlin or W. Europe Standard Time",
                code="source.bad_options",
            )
        return found
    if text.upper() == "UTC":
        return "UTC"
    windows = {key.casefold(): value for key, value in _windows_names().items()}
    text = windows.get(text.casefold(), text)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceError(
            f"unknown time zone {name!r}",
            hint="use an IANA name such as Europe/Moscow or Asia/Kolkata, a Windows name such as "
            "'W. Europe Standard Time', or 'local' for this machine's zone (on Windows: pip install tzdata)",
            code="source.bad_options",
        ) from None
    return text


def zone(name: str | None) -> tzinfo:
    """The zone by name ("UTC" when empty; IANA or Windows names, see `zone_name`)."""
    if not name or name.upper() == "UTC":
        return UTC
    resolved = zone_name(name)
    return UTC if resolved == "UTC" else ZoneInfo(resolved)


def machine_zone_name() -> str | None:
    """This machine's zone as an IANA name (TZ, /etc/localtime, the Windows registry), or None."""
    try:
        import tzlocal

        name = tzlocal.get_localzone_name()
    except Exception:  # noqa: BLE001 - an unreadable system setting: the zone has no name
        return None
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def to_utc(value: datetime, local: tzinfo) -> datetime:
    """A naive value is read in `local` (the DST rule above); an aware one keeps its offset."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=local, fold=0)
    return value.astimezone(UTC)


def from_utc(value: datetime, local: tzinfo) -> datetime:
    """The naive local wall-clock time of an aware datetime (for filters a source reads locally)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(local).replace(tzinfo=None)


def wall_time_problem(value: datetime, local: tzinfo) -> str | None:
    """DST_GAP for a naive time that does not exist in `local`, DST_OVERLAP for one that
    exists twice, None for the rest (and for aware values, which carry their offset)."""
    if value.tzinfo is not None:
        return None
    first, second = value.replace(tzinfo=local, fold=0), value.replace(tzinfo=local, fold=1)
    try:
        if first.utcoffset() == second.utcoffset():
            return None
        back = first.astimezone(UTC).astimezone(local).replace(tzinfo=None)
    except (OverflowError, ValueError):
        return None
    return DST_OVERLAP if back == value else DST_GAP


def noted_utc(value: datetime, local: tzinfo, noted: list[tuple[str, str]] | None) -> datetime:
    """`to_utc`, adding to `noted` (when given) the (code, line) of a wall-clock time the
    DST rule settled: how a reader that parses values one by one counts them per record."""
    if noted is not None and value.tzinfo is None:
        found = wall_time_note(value, local, getattr(local, "key", None) or str(local))
        if found is not None:
            noted.append(found)
    return to_utc(value, local)


def value_notes(field: str, noted: list[tuple[str, str]]) -> list[ValueNote]:
    """The (code, line) pairs `noted_utc` collected for one field, as its record's notes."""
    return [ValueNote(field, code, f"{field} {line}") for code, line in noted]


def wall_time_note(value: datetime, local: tzinfo, zone_label: str) -> tuple[str, str] | None:
    """(code, one line) for a value the DST rule settled, naming the value and what it became."""
    problem = wall_time_problem(value, local)
    if problem is None:
        return None
    read = to_utc(value, local)
    what = "does not exist" if problem == DST_GAP else "happened twice"
    rule = GAP_RULE if problem == DST_GAP else OVERLAP_RULE
    return problem, f"{value:%Y-%m-%d %H:%M} {what} in {zone_label}: {rule} ({read:%H:%M} UTC)"


def parse_iso(text: str, local: tzinfo, noted: list[tuple[str, str]] | None = None) -> datetime | None:
    """ISO-8601 (with or without offset, `T` or space, trailing Z) into UTC, a naive value
    read in `local` (see `noted_utc`); None if it is not ISO."""
    text = text.strip()
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return noted_utc(value, local, noted)


class SourceClock:
    """Naive source times to aware UTC and back, in the configured zone or this machine's."""

    def __init__(self, name: str | None = None) -> None:
        self.name = zone_name(name) if (name or "").strip() else None  # as configured
        self.assumed = None if self.name else machine_zone_name()  # this machine's, when none is
        named = self.name or self.assumed
        self.zone: tzinfo | None = zone(named) if named else None

    @property
    def configured(self) -> bool:
        return self.name is not None

    @property
    def zone_label(self) -> str:
        return self.name or self.assumed or "this machine's local time zone"

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return f"{self.assumed} (this machine's zone)" if self.assumed else "this machine's local time zone"

    def to_utc(self, value: datetime) -> datetime:
        if value.tzinfo is not None or self.zone is not None:
            return to_utc(value, self.zone or UTC)
        try:
            return value.astimezone(UTC)  # the OS's rules for local time, daylight saving included
        except (OverflowError, OSError, ValueError):  # before 1970 on Windows, far future
            return (value - _current_offset()).replace(tzinfo=UTC)

    def note(self, value: datetime) -> tuple[str, str] | None:
        """What the DST rule did to a naive value, when it did something."""
        return wall_time_note(value, self.zone, self.zone_label) if self.zone is not None else None

    def to_source(self, value: datetime) -> datetime:
        """An aware time as the source writes it: naive local."""
        if self.zone is not None:
            return from_utc(value, self.zone)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        try:
            return value.astimezone().replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            return (value.astimezone(UTC) + _current_offset()).replace(tzinfo=None)


def _current_offset() -> timedelta:
    return datetime.now().astimezone().utcoffset() or timedelta(0)
