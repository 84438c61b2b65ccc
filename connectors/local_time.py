"""Turning a source's local, naive timestamps into aware UTC datetimes.

Sources that send no offset (ITSM 365 `yyyy.MM.dd HH:mm:ss`, export files) are read in
the time zone the operator configured for the tenant or the job.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
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
