"""Turning a source's local, naive timestamps into aware UTC datetimes.

Sources that send no offset (ITSM 365 `yyyy.MM.dd HH:mm:ss`, export files, Track-It!'s
datetime columns) are read in the time zone the operator configured for the tenant, the
job or the server; `SourceClock` falls back to this machine's zone, which for an on-prem
tool is usually the source server's own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import SourceError


def zone(name: str | None) -> tzinfo:
    """The IANA zone by name ("UTC" when empty); an unknown name is a clear SourceError."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceError(
            f"unknown time zone {name!r}",
            hint="use an IANA name such as Europe/Moscow or Asia/Kolkata (on Windows: pip install tzdata)",
            code="source.bad_options",
        ) from None


def to_utc(value: datetime, local: tzinfo) -> datetime:
    """A naive value is read in `local`; an aware one keeps its offset. Result is UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=local)
    return value.astimezone(UTC)


def from_utc(value: datetime, local: tzinfo) -> datetime:
    """The naive local wall-clock time of an aware datetime (for filters a source reads locally)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(local).replace(tzinfo=None)


def parse_iso(text: str, local: tzinfo) -> datetime | None:
    """ISO-8601 (with or without offset, `T` or space, trailing Z) into UTC; None if it is not ISO."""
    text = text.strip()
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return to_utc(datetime.fromisoformat(text), local)
    except ValueError:
        return None


class SourceClock:
    """Naive source times to aware UTC and back, in a named zone or this machine's."""

    def __init__(self, name: str | None = None) -> None:
        self.name = (name or "").strip() or None
        self.zone: tzinfo | None = zone(self.name) if self.name else None

    @property
    def label(self) -> str:
        return self.name or "this machine's local time zone"

    def to_utc(self, value: datetime) -> datetime:
        if value.tzinfo is not None or self.zone is not None:
            return to_utc(value, self.zone or UTC)
        try:
            return value.astimezone(UTC)  # the OS's rules for local time, daylight saving included
        except (OverflowError, OSError, ValueError):  # before 1970 on Windows, far future
            return (value - _current_offset()).replace(tzinfo=UTC)

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
