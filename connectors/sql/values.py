"""Turning raw column values into what Records promise: aware UTC datetimes, bools, lists."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from connectors.flags import read_flag


def lenient_text(raw: bytes) -> str:
    """A text column's bytes as UTF-8, bytes that are not UTF-8 replaced by U+FFFD
    (`connectors.base.REPLACEMENT`): one bad byte costs a character, never the read (the
    audit counts and names such records, the load counts them)."""
    return raw.decode("utf-8", errors="replace")


def parse_datetime(value: Any) -> Any:
    """A datetime from a driver's datetime or from SQLite text; other values as they are."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return value


def utc(value: Any) -> Any:
    """A *Utc column (naive UTC) as an aware UTC datetime."""
    value = parse_datetime(value)
    if not isinstance(value, datetime):
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def flag(value: Any) -> Any:
    """A bit column as bool, whether the driver gave bool, int or text; None when it says neither."""
    return read_flag(value)


def lines(value: Any) -> Any:
    """Options kept one per line (st_CustomDataFields.Options) as a list."""
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    return value


def integer(value: Any) -> Any:
    """An integer a driver handed over as text (SQLite ODBC types computed columns as text)."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value
