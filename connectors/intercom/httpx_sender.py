"""An injected httpx transport (test doubles) as a slot's sender: one `httpx.AsyncClient`.

Imported only when a transport is injected: the wire (`wire.py`) carries every other
request, and a load's start-up does not import httpx.
"""

from __future__ import annotations

from typing import Any

import httpx

from connectors.intercom.failures import Timeout


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


def httpx_client(base_url: str, headers: dict[str, str], timeout: Timeout, transport: Any, connections: int,
                 keepalive_expiry: float) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections,
                          keepalive_expiry=keepalive_expiry)
    return _ApiClient(base_url=base_url, headers=headers, limits=limits, transport=transport, trust_env=False,
                      timeout=httpx.Timeout(timeout.read, connect=timeout.connect, write=timeout.write,
                                            pool=timeout.pool))
