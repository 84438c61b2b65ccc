"""The wire client (one keep-alive connection per slot) against a raw HTTP server on
127.0.0.1 that answers as a script says: what it sends, how it frames answers, when it
reuses, drops and re-opens connections, and which failure each fault becomes (the wire's
own, `failures.py`, bearing httpx's names; the wire never imports httpx)."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Callable

import httpx
import pytest

from connectors.intercom import failures
from connectors.intercom.wire import Connection, Wire, query_string, tls_context

Answer = Callable[[int, bytes], bytes | None | float]  # (n-th request, raw request) -> bytes, None (hang up), seconds


def answer(status: int = 200, body: bytes = b'{"ok":true}', *, headers: str = "") -> bytes:
    return (f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{headers}\r\n").encode() + body


class Server:
    """Accepts connections; reads one request at a time (head and Content-Length body) and
    writes what `script` returns for it: bytes, None (close without answering) or a number
    (wait that long, then close)."""

    def __init__(self, script: Answer) -> None:
        self.script = script
        self.requests: list[bytes] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                raw = head + (await reader.readexactly(length) if length else b"")
                self.requests.append(raw)
                reply = self.script(len(self.requests), raw)
                if isinstance(reply, (int, float)):
                    await asyncio.sleep(reply)
                    return
                if reply is None:
                    return
                writer.write(reply)
                await writer.drain()
                if b"connection: close" in reply.lower():
                    return
        finally:
            writer.close()


def connection(url: str, *, read: float = 5.0, expiry: float = 3.0) -> Connection:
    wire = Wire(url, {"Authorization": "Bearer t", "Accept": "application/json"},
                timeout=httpx.Timeout(read, connect=2.0), keepalive_expiry=expiry)
    return Connection(wire)


async def test_requests_reuse_one_connection_and_carry_headers_body_and_params():
    server = Server(lambda n, raw: answer(body=b'{"n":%d}' % n))
    async with server as url:
        conn = connection(url + "/prefix")
        first = await conn.request("POST", "/contacts", json={"name": "Zoë", "n": 1})
        second = await conn.request("GET", "/data_attributes", params={"model": "contact", "include_archived": True})
        deleted = await conn.request("DELETE", "/contacts/1")
        await conn.aclose()
    assert (first.status_code, first.json(), second.json(), deleted.json()) == (200, {"n": 1}, {"n": 2}, {"n": 3})
    assert server.connections == 1
    post, get, delete = (raw.decode("utf-8") for raw in server.requests)
    head, body = post.split("\r\n\r\n")
    lines = head.split("\r\n")
    assert lines[0] == "POST /prefix/contacts HTTP/1.1"
    port = url.rsplit(":", 1)[1]
    assert {f"Host: 127.0.0.1:{port}", "Authorization: Bearer t", "Content-Type: application/json",
            f"Content-Length: {len(body.encode())}"} <= set(lines[1:])
    assert json.loads(body) == {"name": "Zoë", "n": 1}
    assert get.startswith("GET /prefix/data_attributes?model=contact&include_archived=true HTTP/1.1\r\n")
    assert "Content-Length" not in get and "Content-Length" not in delete


async def test_chunked_gzip_and_to_the_end_answers_are_read_whole():
    payload = json.dumps({"parts": ["x" * 5000] * 3}).encode()
    packed = gzip.compress(payload)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(packed[i:i + 4000]), packed[i:i + 4000])
                       for i in range(0, len(packed), 4000))
    script = {
        1: (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n" + chunked
            + b"0\r\nX-Trailer: 1\r\n\r\n"),
        2: answer(body=b'{"after":"chunks"}'),
        3: b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b'{"to":"the end"}',
    }
    server = Server(lambda n, raw: script.get(n, answer()))
    async with server as url:
        conn = connection(url)
        first = await conn.request("GET", "/a")
        second = await conn.request("GET", "/b")
        third = await conn.request("GET", "/c")
        fourth = await conn.request("GET", "/d")
        await conn.aclose()
    assert first.json() == {"parts": ["x" * 5000] * 3} and "content-encoding" not in first.headers
    assert (second.json(), third.json(), fourth.json()) == ({"after": "chunks"}, {"to": "the end"}, {"ok": True})
    assert server.connections == 2  # the answer that ran to the end closed the first


async def test_a_connection_the_server_closed_or_left_idle_too_long_is_opened_again():
    closing = Server(lambda n, raw: answer(headers="Connection: close\r\n") if n == 1 else answer())
    async with closing as url:
        conn = connection(url)
        await conn.request("GET", "/a")
        await conn.request("GET", "/b")
        await conn.aclose()
    assert closing.connections == 2

    idle = Server(lambda n, raw: answer())
    async with idle as url:
        conn = connection(url, expiry=0.0)  # every connection counts as idle too long
        await conn.request("GET", "/a")
        await conn.request("GET", "/b")
        await conn.aclose()
    assert idle.connections == 2


async def test_a_request_the_server_hangs_up_on_is_sent_and_unanswered():
    server = Server(lambda n, raw: None if n == 2 else answer())
    async with server as url:
        conn = connection(url)
        await conn.request("GET", "/a")
        with pytest.raises(failures.RemoteProtocolError):
            await conn.request("POST", "/conversations", json={"body": "x"})
        again = await conn.request("GET", "/b")  # a new connection: the broken one was dropped
        await conn.aclose()
    assert again.status_code == 200 and server.connections == 2


async def test_no_answer_in_time_is_a_read_timeout_and_the_connection_is_dropped():
    server = Server(lambda n, raw: 5.0 if n == 1 else answer())
    async with server as url:
        conn = connection(url, read=0.2)
        with pytest.raises(failures.ReadTimeout):
            await conn.request("POST", "/conversations", json={"body": "x"})
        assert (await conn.request("GET", "/a")).status_code == 200
        await conn.aclose()
    assert server.connections == 2


async def test_a_refused_connection_was_never_sent():
    server = Server(lambda n, raw: answer())
    async with server as url:
        pass  # closed: nothing listens on its port any more
    conn = connection(url)
    with pytest.raises(failures.ConnectError):
        await conn.request("POST", "/contacts", json={})
    await conn.aclose()


async def test_answers_that_are_not_http_are_protocol_errors():
    server = Server(lambda n, raw: b"SSH-2.0-OpenSSH\r\n\r\n" if n == 1 else
                    b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n{}")
    async with server as url:
        conn = connection(url)
        with pytest.raises(failures.RemoteProtocolError, match="not an HTTP"):
            await conn.request("GET", "/a")
        with pytest.raises(failures.RemoteProtocolError, match="Content-Length"):
            await conn.request("GET", "/b")
        await conn.aclose()


async def test_a_busy_connection_lends_a_spare_to_a_second_caller():
    server = Server(lambda n, raw: answer(body=raw.split(b" ")[1].strip(b"/") and b'{"path":"%s"}' % raw.split(b" ")[1]))
    async with server as url:
        conn = connection(url)
        first, second = await asyncio.gather(conn.request("GET", "/one"), conn.request("GET", "/two"))
        await conn.aclose()
    assert (first.json(), second.json()) == ({"path": "/one"}, {"path": "/two"})
    assert server.connections == 2


async def test_bad_urls_and_headers_fail_before_anything_is_sent():
    wire = Wire("ftp://example.invalid", {}, timeout=failures.Timeout(1.0), keepalive_expiry=1.0)
    with pytest.raises(failures.UnsupportedProtocol):
        await Connection(wire).request("GET", "/me")
    wire = Wire("http://127.0.0.1:9", {"Authorization": "Bearer tök"}, timeout=failures.Timeout(1.0), keepalive_expiry=1.0)
    with pytest.raises(failures.LocalProtocolError):
        await Connection(wire).request("GET", "/me")


def _certificate(tmp_path) -> tuple[str, str, str]:
    """A self-signed certificate for 127.0.0.1: (cert file, key file, PEM text)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    (tmp_path / "cert.pem").write_text(pem)
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"), pem


async def test_https_checks_the_servers_certificate(tmp_path):
    import ssl

    cert, key, pem = _certificate(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(answer(body=b'{"secure":true}'))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client that does not trust the certificate hangs up in the handshake
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=served)
    url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        trusting = Connection(Wire(url, {}, timeout=httpx.Timeout(5.0), keepalive_expiry=3.0,
                                   tls=ssl.create_default_context(cadata=pem)))
        assert (await trusting.request("GET", "/me")).json() == {"secure": True}
        await trusting.aclose()
        stranger = Connection(Wire(url, {}, timeout=httpx.Timeout(5.0), keepalive_expiry=3.0,
                                   tls=ssl.create_default_context()))  # the system's CAs only
        with pytest.raises(failures.ConnectError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            await stranger.request("POST", "/contacts", json={})
        await stranger.aclose()
    finally:
        server.close()
        await server.wait_closed()
    assert len(seen) == 1 and seen[0].startswith(b"GET /me HTTP/1.1\r\nHost: 127.0.0.1:")


def test_query_parameters_are_written_as_httpx_writes_them():
    for params in ({"per_page": 150, "starting_after": "WzE3MDk="}, {"q": "a b&c=d/é", "flag": True, "off": False},
                   {"empty": None, "ids": [1, "two", None], "pair": ("x", "y")}, {"percent": "50%25 and 100%"}):
        assert query_string(params) == str(httpx.QueryParams(params))


def test_https_trusts_what_httpx_trusts(monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    ours, theirs = tls_context(), httpx.create_ssl_context()
    assert ours.verify_mode == theirs.verify_mode and ours.check_hostname and theirs.check_hostname
    assert ours.cert_store_stats() == theirs.cert_store_stats() and ours.cert_store_stats()["x509_ca"] > 0
    assert ours.minimum_version == theirs.minimum_version and ours.options == theirs.options


def test_a_timeout_is_read_from_a_number_ours_or_httpxs():
    given = failures.Timeout(60.0, connect=10.0)
    assert failures.timeout_of(given).as_tuple() == (10.0, 60.0, 60.0, 60.0)
    assert failures.timeout_of(httpx.Timeout(60.0, connect=10.0)) == given
    assert failures.timeout_of(5).as_tuple() == (5, 5, 5, 5)
    assert failures.timeout_of(None).as_tuple() == (None, None, None, None)
