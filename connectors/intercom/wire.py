"""HTTP/1.1 to Intercom on plain asyncio streams: one keep-alive connection per slot.

Through httpx a request costs more CPU than the loader's own work on it: the client
builds and merges URLs and headers, httpcore searches its pool and checks every idle
connection, anyio wraps every read and write in a cancel scope, h11 parses byte by byte.
The session never has more requests in flight than it has slots, so each slot owns one
connection and there is no pool to search; the requests are JSON in and out, HTTP/1.1,
no proxy (the session never read the environment's), no cookies, no redirects.

What reaches the session is an `Answer` (status, headers, body: what it reads of an
`httpx.Response`, without building one), or the failure (`failures.py`: httpx's names
without httpx; `ConnectError`/`ConnectTimeout` before anything was sent; `WriteError`,
`ReadError`, `ReadTimeout`, `RemoteProtocolError` after), so the retry and in-doubt rules
read the same whatever carried the request. The in-process sandbox is handed these very
bytes (`sandbox/transport.py`); other injected transports (test doubles) still go through
httpx. Nothing here imports httpx: a load's start-up does not pay for it.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import time
import zlib
from typing import Any
from urllib.parse import urlencode, urlsplit

from connectors.intercom.failures import (
    ConnectError,
    ConnectTimeout,
    DecodingError,
    LocalProtocolError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    Timeout,
    UnsupportedProtocol,
    WriteError,
    WriteTimeout,
    timeout_of,
)

MAX_HEADER_BYTES = 256 * 1024  # the status line and headers of one answer (and the read buffer)


class Answer:
    """An HTTP answer as the session and the resources read it: the status, the headers
    (names in lower case) and the body; `exchange_s`, the time from sending the request to
    the end of the answer, without opening the connection (TCP and TLS handshakes): the
    latency a chain of calls on a kept-alive connection pays."""

    __slots__ = ("status_code", "headers", "content", "exchange_s")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes, exchange_s: float | None = None) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.exchange_s = exchange_s

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)

    def __repr__(self) -> str:
        return f"<Answer [{self.status_code}]>"


class Wire:
    """Where an app's requests go and what every one of them carries (its token among
    the headers): shared by the app's connections."""

    def __init__(self, base_url: str, headers: dict[str, str], *, timeout: Timeout | float | None,
                 keepalive_expiry: float, tls: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(base_url)
        self.scheme = parts.scheme.lower()
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        self._tls = tls
        default_port = self.port == (443 if self.scheme == "https" else 80)
        host = f"[{self.host}]" if ":" in self.host else self.host
        lines = [f"Host: {host if default_port else f'{host}:{self.port}'}",
                 *(f"{name}: {value}" for name, value in headers.items())]
        try:
            self.headers: bytes | None = ("\r\n".join(lines) + "\r\n").encode("ascii")
        except UnicodeEncodeError:
            self.headers = None  # refused at the first request, as httpx refuses such a header
        timeout = timeout_of(timeout)
        self.connect_timeout = timeout.connect
        self.read_timeout = timeout.read
        self.write_timeout = timeout.write
        self.keepalive_expiry = keepalive_expiry

    @property
    def tls(self) -> ssl.SSLContext | None:
        """The TLS context of an https connection, built when the first one opens (~30 ms)."""
        if self.scheme != "https":
            return None
        if self._tls is None:
            self._tls = tls_context()
        return self._tls

    def request_bytes(self, method: str, path: str, params: dict[str, Any] | None, body: Any) -> bytes:
        if self.scheme not in ("http", "https") or not self.host:
            raise UnsupportedProtocol(f"Request URL has an unsupported protocol or no host: {self.scheme}://{self.host}")
        if self.headers is None:
            raise LocalProtocolError("a header value is not ASCII")
        target = self.prefix + path
        if params:
            target += "?" + query_string(params)
        try:
            head = f"{method} {target} HTTP/1.1\r\n".encode("ascii") + self.headers
        except UnicodeEncodeError:
            raise LocalProtocolError(f"the request target is not ASCII: {target[:80]!r}") from None
        if body is None:
            return head + (b"Content-Length: 0\r\n\r\n" if method in ("POST", "PUT", "PATCH") else b"\r\n")
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        return head + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(content) + content


def tls_context() -> ssl.SSLContext:
    """The certificates httpx trusts, as it finds them: SSL_CERT_FILE, else SSL_CERT_DIR,
    else certifi's bundle (installed with httpx); built once per session (~30 ms)."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def query_string(params: dict[str, Any]) -> str:
    """Query parameters as httpx writes them: a list or tuple repeats its key, True and
    False are `true` and `false`, None is empty, spaces are `+`."""
    items = []
    for key, value in params.items():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            items.append((str(key), "true" if item is True else "false" if item is False else
                          "" if item is None else str(item)))
    return urlencode(items)


class Connection:
    """One keep-alive connection, opened on first use and again once the server closed it
    or it sat idle for `keepalive_expiry` (a server closing it just then would leave the
    request unanswered). A second caller while it is busy gets a connection of its own."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._idle_since = 0.0
        self._busy = False

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                      json: Any = None) -> Answer:
        if self._busy:
            spare = Connection(self.wire)
            try:
                return await spare.request(method, path, params=params, json=json)
            finally:
                await spare.aclose()
        data = self.wire.request_bytes(method, path, params, json)
        self._busy = True
        try:
            reader, writer = await self._open()
            try:
                return await self._exchange(reader, writer, method, data)
            except BaseException:
                self._drop()  # half a request or half an answer: the connection is unusable
                raise
        finally:
            self._busy = False

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = self._reader, self._writer
        if reader is not None and writer is not None:
            fresh = time.monotonic() - self._idle_since < self.wire.keepalive_expiry
            if fresh and not reader.at_eof() and not writer.is_closing():
                return reader, writer
            self._drop()
        wire = self.wire
        try:
            async with asyncio.timeout(wire.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    wire.host, wire.port, ssl=wire.tls, server_hostname=wire.host if wire.tls else None,
                    limit=MAX_HEADER_BYTES)
        except TimeoutError:
            raise ConnectTimeout(f"connecting to {wire.host}:{wire.port} timed out") from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(str(exc) or type(exc).__name__) from None
        self._reader, self._writer = reader, writer
        return reader, writer

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str,
                        data: bytes) -> Answer:
        wire = self.wire
        sent = time.monotonic()
        try:
            writer.write(data)
            if writer.transport.get_write_buffer_size():
                async with asyncio.timeout(wire.write_timeout):
                    await writer.drain()
        except TimeoutError:
            raise WriteTimeout("sending the request timed out") from None
        except OSError as exc:
            raise WriteError(str(exc) or type(exc).__name__) from None
        try:
            async with asyncio.timeout(wire.read_timeout):
                while True:
                    status, headers, close = await _head(reader)
                    if status >= 200 or status == 101:
                        break  # 1xx: an interim answer, the real one follows
                if method == "HEAD" or status in (204, 304):
                    content = b""
                else:
                    content, close = await _body(reader, headers, close)
        except TimeoutError:
            raise ReadTimeout("no answer in time") from None
        except asyncio.IncompleteReadError:
            raise RemoteProtocolError("Server disconnected without sending a complete response.") from None
        except asyncio.LimitOverrunError:
            raise RemoteProtocolError("the answer's headers are too long") from None
        except (OSError, ssl.SSLError) as exc:
            raise ReadError(str(exc) or type(exc).__name__) from None
        now = time.monotonic()
        if close:
            self._drop()
        else:
            self._idle_since = now
        return Answer(status, {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in headers},
                      content, now - sent)

    def _drop(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()

    async def aclose(self) -> None:
        writer = self._writer
        self._drop()
        if writer is not None:
            try:
                await writer.wait_closed()
            except (OSError, ssl.SSLError):
                pass


async def _head(reader: asyncio.StreamReader) -> tuple[int, list[tuple[bytes, bytes]], bool]:
    """The status, the headers and whether the server closes the connection after this answer."""
    block = await reader.readuntil(b"\r\n\r\n")
    lines = block[:-4].split(b"\r\n")
    status_line = lines[0].split(b" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/1.") or not status_line[1].isdigit():
        raise RemoteProtocolError(f"not an HTTP/1.1 answer: {lines[0][:80]!r}")
    headers = []
    close = status_line[0] == b"HTTP/1.0"
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise RemoteProtocolError(f"malformed header line {line[:80]!r}")
        value = value.strip()
        headers.append((name, value))
        if name.lower() == b"connection":
            tokens = value.lower()
            close = b"close" in tokens or (close and b"keep-alive" not in tokens)
    return int(status_line[1]), headers, close


async def _body(reader: asyncio.StreamReader, headers: list[tuple[bytes, bytes]],
                close: bool) -> tuple[bytes, bool]:
    """The answer's body, and whether the connection ends with it (no length given: the
    body runs to the end of the connection)."""
    length = chunked = encoding = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length":
            if not value.isdigit() or (length is not None and int(value) != length):
                raise RemoteProtocolError(f"bad Content-Length {value[:40]!r}")
            length = int(value)
        elif lowered == b"transfer-encoding":
            chunked = value.lower().endswith(b"chunked")
        elif lowered == b"content-encoding":
            encoding = value.lower()
    if chunked:
        pieces = []
        while True:
            size_line = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise RemoteProtocolError(f"bad chunk size {size_line[:40]!r}") from None
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                break
            pieces.append(await reader.readexactly(size + 2))
            if not pieces[-1].endswith(b"\r\n"):
                raise RemoteProtocolError("a chunk does not end where its size says")
            pieces[-1] = pieces[-1][:-2]
        content = b"".join(pieces)
    elif length is not None:
        content = await reader.readexactly(length) if length else b""
    else:
        content, close = await reader.read(), True  # to the end of the connection
    if encoding in (b"gzip", b"x-gzip", b"deflate") and content:
        try:
            content = zlib.decompress(content, 47)  # a gzip or a zlib header
        except zlib.error as exc:
            raise DecodingError(f"the answer's {encoding.decode()} body cannot be decoded: {exc}") from None
        headers[:] = [(n, v) for n, v in headers if n.lower() not in (b"content-encoding", b"content-length")]
    return content, close
