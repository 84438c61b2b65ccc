"""Requests that got no usable answer, and how long each step of a request may take, without httpx.

Every sender of the Intercom session raises these and only these: the wire (`wire.py`),
the in-process sandbox's connection, and the httpx client of an injected transport, which
translates httpx's failures at its edge (`httpx_sender.py`). They bear httpx's names and
mean what httpx's do, so a failure reads the same in a message whichever carried the
request, and the session's retry and in-doubt rules are plain class checks. httpx is
imported only when a transport is injected (test doubles): a load's start-up does not pay
for it.
"""

from __future__ import annotations


class RequestError(Exception):
    """No usable answer to a request."""


class TimeoutException(RequestError):
    """A step of the exchange took longer than its timeout."""


class ConnectError(RequestError):
    """The connection could not be opened (refused, unreachable, TLS refused): nothing was sent."""


class ConnectTimeout(TimeoutException):
    """The connection was not open in time: nothing was sent."""


class PoolTimeout(TimeoutException):
    """No connection was free in time (an injected transport's pool): nothing was sent."""


class ProxyError(ConnectError):
    """A proxy would not open the way to the server (an injected transport's): nothing reached it.
    A `ConnectError` here (httpx's is not one): it means what a refused connection means."""


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


class CloseError(RequestError):
    """Closing a connection failed (an injected transport's): the request may have reached the server."""


class DecodingError(RequestError):
    """The answer's body could not be decoded (its content encoding)."""


class UnsupportedProtocol(RequestError):
    """The URL is not http or https, or has no host: retrying cannot help."""


class LocalProtocolError(RequestError):
    """The request cannot be written (a header or target that is not ASCII): retrying cannot help."""


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
