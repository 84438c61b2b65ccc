"""An injected httpx transport (test doubles) as a slot's sender: one `httpx.AsyncClient`,
whose failures become the wire's (`failures.py`) here, at the edge.

Imported only when a transport is injected: the wire (`wire.py`) carries every other
request, and a load's start-up does not import httpx. The session's retry and in-doubt
rules read the wire's failure classes only, so every httpx failure a transport can raise
is given the one of the same meaning: nothing sent (connect error or timeout, pool
timeout, a proxy that would not connect), sent (a write or read failed or timed out, the
server broke the protocol, a connection failed to close, an undecodable body, and any
other transport failure: a write may have applied), or hopeless (a bad URL, a request
that cannot be written). Anything else a transport raises goes through untouched.
"""

from __future__ import annotations

from typing import Any

import httpx

from connectors.intercom import failures
from connectors.intercom.failures import Timeout

# httpx's failure classes and their meaning among the wire's; a subclass takes its
# nearest ancestor's (found along its MRO), an unknown transport failure counts as sent.
_WIRE_FAILURE: dict[type[Exception], type[failures.RequestError]] = {
    httpx.ConnectError: failures.ConnectError,
    httpx.ConnectTimeout: failures.ConnectTimeout,
    httpx.PoolTimeout: failures.PoolTimeout,
    httpx.ProxyError: failures.ProxyError,
    httpx.WriteError: failures.WriteError,
    httpx.WriteTimeout: failures.WriteTimeout,
    httpx.ReadError: failures.ReadError,
    httpx.ReadTimeout: failures.ReadTimeout,
    httpx.RemoteProtocolError: failures.RemoteProtocolError,
    httpx.CloseError: failures.CloseError,
    httpx.DecodingError: failures.DecodingError,
    httpx.UnsupportedProtocol: failures.UnsupportedProtocol,
    httpx.LocalProtocolError: failures.LocalProtocolError,
    httpx.TimeoutException: failures.TimeoutException,
    httpx.RequestError: failures.RequestError,
}


def wire_failure(exc: httpx.RequestError) -> failures.RequestError:
    """The wire's failure that means what this httpx failure means, with its words."""
    kind = next(_WIRE_FAILURE[cls] for cls in type(exc).__mro__ if cls in _WIRE_FAILURE)
    return kind(str(exc))


class _NoCookies(httpx.Cookies):
    """Intercom's REST API sets no cookies; parsing every response for them costs CPU."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _ApiClient(httpx.AsyncClient):
    """An httpx client without a cookie jar, for an injected transport."""

    _no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("the Intercom client sends no cookies")


class HttpxSender:
    """A slot's sender (`session.Sender`) through an injected httpx transport."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: Timeout, transport: Any, connections: int,
                 keepalive_expiry: float) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections,
                              keepalive_expiry=keepalive_expiry)
        self._client = _ApiClient(base_url=base_url, headers=headers, limits=limits, transport=transport,
                                  trust_env=False, timeout=httpx.Timeout(timeout.read, connect=timeout.connect,
                                                                         write=timeout.write, pool=timeout.pool))

    async def request(self, method: str, url: str, *, params: dict[str, Any] | None = None,
                      json: Any = None) -> httpx.Response:
        try:
            return await self._client.request(method, url, params=params, json=json)
        except httpx.RequestError as exc:
            raise wire_failure(exc) from exc

    async def aclose(self) -> None:
        await self._client.aclose()
