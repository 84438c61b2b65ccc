"""Infraon's REST calls: the two auth styles and guarded page-number pagination.

Auth: an API key sent in `Authorization` (raw, as the endpoint samples show, or as
`ApiKey <key>` as the Authorization page shows), or a token from
`POST /ux/api-token-auth/` sent raw. With `auth="auto"` the first request probes the
styles in that order and keeps the one that works; an expired token is renewed once.

Lists come as `{count, next, previous, results, max_page_limit}`. Paging goes by page
number and stops when `next` is empty or a page is empty, and also, with a finding,
when a page repeats the previous page's records, the page cap is reached, or pages go
on past `count`. A repeating `next` link is reported but does not stop paging: the
page numbers still bring new records, and stopping there would lose them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from connectors.base import Severity, SourceError
from connectors.finding_tally import FindingTally
from connectors.http_session import HttpSession, RetryPolicy

TOKEN_PATH = "/ux/api-token-auth/"
PROBE_PATH = "/ux/sd/inci/incident/"
AUTH_STYLES = ("auto", "api_key", "api_key_prefixed", "token")


def record_id(item: dict, candidates: list[str]) -> str | None:
    for name in candidates:
        value = item.get(name)
        if value not in (None, ""):
            return str(value)
    return None


class InfraonClient:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        username: str | None,
        password: str | None,
        auth: str = "auto",
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        policy: RetryPolicy | None = None,
        verify: bool = True,
        timeout: float = 60.0,
    ) -> None:
        if not api_key and not (username and password):
            raise SourceError(
                "Infraon Desk needs an API key, or a username with a password",
                hint="give the secret infraon_api_key, or the option username and the secret infraon_password",
                code="source.auth_missing",
            )
        self._api_key = api_key
        self._username = username
        self._password = password
        self.auth = auth
        kwargs: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
        self.session = HttpSession(
            base_url, label="Infraon Desk", secrets=[s for s in (api_key, password) if s],
            headers={"Accept": "application/json"}, transport=transport, timeout=timeout, verify=verify,
            policy=policy, **kwargs,
        )
        self.style: str | None = None if auth == "auto" else auth
        self._token_renewed = False

    # -- auth ---------------------------------------------------------------------

    def _login(self) -> str:
        if not (self._username and self._password):
            raise SourceError("Infraon Desk token auth needs a username and the secret infraon_password",
                              code="source.auth_missing")
        response = self.session.request("POST", TOKEN_PATH, what="login", allow=(400, 401, 403),
                                        json={"username": self._username, "password": self._password})
        if response.status_code != 200:
            raise SourceError("Infraon Desk rejected the username or password",
                              hint="check the user, its password and that API access is enabled", code="source.auth_rejected")
        try:
            token = response.json().get("token")
        except (ValueError, AttributeError):
            token = None
        if not token:
            raise SourceError("Infraon Desk login answered without a token", code="source.malformed")
        return str(token)

    def _apply(self, style: str) -> None:
        if style == "api_key":
            value = self._api_key
        elif style == "api_key_prefixed":
            value = f"ApiKey {self._api_key}"
        else:
            value = self._login()
        if style != "token" and not self._api_key:
            raise SourceError(f"Infraon Desk auth {style} needs the secret infraon_api_key", code="source.auth_missing")
        self.session.set_header("Authorization", value, secret=True)

    def connect(self) -> str:
        """Settle the auth style (probing when auto); returns the style in use."""
        if self.style is not None and self.session.has_header("Authorization"):
            return self.style
        candidates = [self.style] if self.style else (
            (["api_key", "api_key_prefixed"] if self._api_key else []) + (["token"] if self._username and self._password else [])
        )
        for style in candidates:
            self._apply(style)
            response = self.session.request("GET", PROBE_PATH, what="auth probe", allow=(401,),
                                            params={"items_per_page": 1, "page": 1})
            if response.status_code != 401:
                self.style = style
                return style
        self.session.set_header("Authorization", None)
        raise SourceError(
            "Infraon Desk rejected the credentials (tried: " + ", ".join(candidates) + ")",
            hint="check the API key or user; set the option auth to the style your server uses",
            code="source.auth_rejected",
        )

    def get_json(self, path: str, *, what: str, params: Mapping[str, Any] | None = None) -> tuple[int, Any]:
        """GET with auth settled; 404 comes back (absent modules), an expired token is renewed once."""
        self.connect()
        status, body = self.session.fetch_json("GET", path, what=what, params=params, allow=(401, 404))
        if status == 401 and self.style == "token" and not self._token_renewed:
            self._token_renewed = True
            self._apply("token")
            status, body = self.session.fetch_json("GET", path, what=what, params=params, allow=(401, 404))
        if status == 401:
            raise SourceError(f"Infraon Desk rejected the credentials while reading {what}", code="source.auth_rejected")
        return status, body

    # -- lists --------------------------------------------------------------------

    def pages(
        self,
        path: str,
        *,
        what: str,
        object: str,
        tally: FindingTally,
        per_page: int,
        max_pages: int,
        params: Mapping[str, Any] | None = None,
        first: Any = None,
    ) -> Iterator[tuple[list[dict], int | None]]:
        """(items, count) per page, stopping safely on pagination that does not end.

        `first` is page 1's body when it was read already (the probe that sized the list).
        A 404 after page 1 ends the list: Django REST Framework answers "Invalid page" there.
        """
        seen_next: set[str] = set()
        previous: tuple | None = None
        count: int | None = None
        read = 0
        for page in range(1, max_pages + 1):
            if page == 1 and first is not None:
                status, body = 200, first
            else:
                status, body = self.get_json(path, what=f"{what} page {page}",
                                             params={**(params or {}), "items_per_page": per_page, "page": page})
            if status == 404 and page > 1:
                return
            if status == 404:
                raise SourceError(f"Infraon Desk has no {what} at {path}", code="source.object_absent")
            if isinstance(body, list):  # a plain array: the whole list at once
                yield [i for i in body if isinstance(i, dict)], len(body)
                return
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise SourceError(f"Infraon Desk sent an unexpected reply shape for {what} page {page}",
                                  hint="expected {count, next, results}", code="source.malformed")
            results = [i for i in body["results"] if isinstance(i, dict)]
            if len(results) != len(body["results"]):
                tally.add("infraon.malformed_item", Severity.WARNING, f"{object}: list items that are not objects were skipped",
                          object=object, count=len(body["results"]) - len(results))
            if page == 1 and isinstance(body.get("count"), int):
                count = body["count"]
            signature = tuple(sorted(repr(sorted(i.items()))[:200] for i in results))
            if results and signature == previous:
                tally.add("infraon.pagination_repeats", Severity.WARNING,
                          f"{object}: page {page} repeated the previous page; paging stopped there", object=object,
                          detail="the server's paging ignores the page number; compare the counts")
                return
            previous = signature
            yield results, count
            read += len(results)
            nxt = body.get("next")
            if not nxt or not results:
                return
            if str(nxt) in seen_next:
                tally.add("infraon.next_repeats", Severity.INFO,
                          f"{object}: the server's next links repeat; paging goes on by page number", object=object)
            seen_next.add(str(nxt))
            if count is not None and read >= count + per_page:
                tally.add("infraon.pagination_runaway", Severity.WARNING,
                          f"{object}: pages went on past the {count} records announced; paging stopped", object=object)
                return
        tally.add("infraon.pagination_capped", Severity.WARNING,
                  f"{object}: stopped after {max_pages} pages; raise max_pages if the list is really that long",
                  object=object)

    def close(self) -> None:
        self.session.close()
