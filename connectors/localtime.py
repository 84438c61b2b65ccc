"""Sources that store wall-clock time (Track-It!'s datetime columns are server local time).

Records promise aware UTC, so a connector converts with the source's time zone: an IANA
name from the project (Europe/Berlin), or, when none is set, the zone of the machine
helpmig runs on, which for an on-prem tool is usually the source's own server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import SourceError


class SourceClock:
    """Naive source times to aware UTC and back."""

    def __init__(self, zone: str | None = None) -> None:
        self.name = (zone or "").strip() or None
        self.zone: ZoneInfo | None = None
        if self.name:
            try:
                self.zone = ZoneInfo(self.name)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise SourceError(
                    f"unknown time zone {self.name!r}",
                    hint="use an IANA name such as Europe/Berlin or America/New_York "
                    "(on Windows, pip install tzdata provides the names)",
                    code="source.bad_option",
                ) from exc

    @property
    def label(self) -> str:
        return self.name or "this machine's local time zone"

    def to_utc(self, value: datetime) -> datetime:
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        if self.zone is not None:
            return value.replace(tzinfo=self.zone).astimezone(UTC)
        try:
            return value.astimezone(UTC)  # the OS's rules for local time, daylight saving included
        except (OverflowError, OSError, ValueError):  # before 1970 on Windows, far future
            return (value - _current_offset()).replace(tzinfo=UTC)

    def to_source(self, value: datetime) -> datetime:
        """An aware time as the source writes it: naive local."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if self.zone is not None:
            return value.astimezone(self.zone).replace(tzinfo=None)
        try:
            return value.astimezone().replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            return (value.astimezone(UTC) + _current_offset()).replace(tzinfo=None)


def _current_offset() -> timedelta:
    return datetime.now().astimezone().utcoffset() or timedelta(0)
