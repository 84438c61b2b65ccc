"""Requests that got no usable answer, and how long each step of a request may take, without httpx.

The wire (`wire.py`) raises these; they bear httpx's names and mean what httpx's do, so a
failure reads the same in a message whichever carried the request. httpx is imported only
when a transport is injected (test doubles): a load's start-up does not pay for it. The
session's retry and in-doubt rules ask `failure_kinds()` and so recognise both families:
httpx's classes of the same names count wherever httpx is in use.
"""

from __future__ import annotations

import sys


class RequestError(Exception):
    """No usable answer to a request."""


class TimeoutException(RequestError):
    """A step of the exchange took longer than its timeout."""


class ConnectError(RequestError):
    """The connection could not be opened (refused, unreachable, TLS refused): nothing was sent."""


class ConnectTimeout(TimeoutException):
    """The connection was not open in time: nothing was sent."""


class WriteError(RequestError):
    """The request could not be written whole: part of it may have reached the server."""


class WriteTimeout(TimeoutException):
    """The request was not written in time."""


class ReadError(RequestError):
    """The connection failed while the answer was awaited."""


class ReadTimeout(TimeoutException):
    """No answer in time, after the request was sent."""


class RemoteProtocolError(RequestError):
    """The server hung up or answered with something that is not HTTP/1.1."""


class DecodingError(RequestError):
    """The answer's body could not be decoded (its content encoding)."""


class UnsupportedProtocol(RequestError):
    """The URL is not http or https, or has no host: retrying cannot help."""


class LocalProtocolError(RequestError):
    """The request cannot be written (a header or target that is not ASCII): retrying cannot help."""


def failure_kinds(*names: str) -> tuple[type[BaseException], ...]:
    """The failure classes of these names: this module's, and httpx's while httpx is
    imported (an httpx exception cannot exist without it)."""
    ours = globals()
    found: list[type[BaseException]] = [ours[name] for name in names if name in ours]
    httpx = sys.modules.get("httpx")
    if httpx is not None:
        found += [kind for name in names if isinstance(kind := getattr(httpx, name, None), type)]
    return tuple(found)


_DEFAULT = object()  # a step not given apart takes the default


class Timeout:
    """Seconds each step of a request may take (None: no limit), as `httpx.Timeout(60.0,
    connect=10.0)` reads: one default, any step given apart. Anything with the four
    attributes (an `httpx.Timeout`) is read the same by `timeout_of`."""

    __slots__ = ("connect", "read", "write", "pool")

    def __init__(self, default: float | None, *, connect: object = _DEFAULT, read: object = _DEFAULT,
                 write: object = _DEFAULT, pool: object = _DEFAULT) -> None:
        self.connect = default if connect is _DEFAULT else connect
        self.read = default if read is _DEFAULT else read
        self.write = default if write is _DEFAULT else write
        self.pool = default if pool is _DEFAULT else pool

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeout) and self.as_tuple() == other.as_tuple()

    def __hash__(self) -> int:
        return hash(self.as_tuple())

    def as_tuple(self) -> tuple[float | None, float | None, float | None, float | None]:
        return self.connect, self.read, self.write, self.pool

    def __repr__(self) -> str:
        return f"Timeout(connect={self.connect}, read={self.read}, write={self.write}, pool={self.pool})"


def timeout_of(value: object) -> Timeout:
    """A number of seconds for every step, a `Timeout`, or an `httpx.Timeout`."""
    if value is None or isinstance(value, (int, float)):
        return Timeout(value)
    if isinstance(value, Timeout):
        return value
    return Timeout(None, connect=getattr(value, "connect"), read=getattr(value, "read"),
                   write=getattr(value, "write"), pool=getattr(value, "pool"))
