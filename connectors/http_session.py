"""HTTP for the REST sources: bounded retries that honour Retry-After, errors that carry no secret.

Both ITSM 365 and Infraon Desk go through `HttpSession`. It retries rate limiting
(429/503 and gateway errors) and unreachable hosts a bounded number of times with an
injectable `sleep` (tests stay fast), turns 401/403, unreachable hosts and non-JSON
replies into `SourceError`s, and masks secret query parameters (ITSM 365's accessKey)
in every message, in exceptions and in httpx's own request log.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from connectors.base import SourceError

MASK = "***"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6  # per request, rate limiting and unavailability included
    connect_attempts: int = 3  # for unreachable hosts and timeouts
    malformed_attempts: int = 3  # a proxy's HTML error page can be transient
    base_delay: float = 1.0
    max_delay: float = 60.0  # a Retry-After beyond this is capped
    retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504})


class HttpStatusError(SourceError):
    """A reply with an unexpected status; `status` lets callers treat 404 on an optional module as absence."""

    def __init__(self, message: str, *, status: int, hint: str = "", code: str = "source.http_status") -> None:
        super().__init__(message, hint=hint, code=code)
        self.status = status


class _SecretQueryFilter(logging.Filter):
    """Masks secret query parameters in httpx's "HTTP Request: GET <url>" log lines."""

    names: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.names:
            message = record.getMessage()
            masked = mask_params_in_text(message, self.names)
            if masked != message:
                record.msg, record.args = masked, ()
        return True


_LOG_FILTER = _SecretQueryFilter()
logging.getLogger("httpx").addFilter(_LOG_FILTER)


def mask_params_in_text(text: str, names: Iterable[str]) -> str:
    for name in names:
        text = re.sub(rf"(?i)({re.escape(name)}=)[^&\s\"'#]*", rf"\g<1>{MASK}", text)
    return text


def mask_url(url: str | httpx.URL, names: Iterable[str]) -> str:
    parts = urlsplit(str(url))
    lowered = {n.lower() for n in names}
    if not parts.query:
        return str(url)
    query = [(k, MASK if k.lower() in lowered else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*,$")))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


StatusHook = Callable[[httpx.Response, str], None]
WaitHook = Callable[[float, str], None]  # (seconds, why) before each wait, for progress


class HttpSession:
    """One platform's HTTP client: base URL, auth, retries and safe error messages."""

    def __init__(
        self,
        base_url: str,
        *,
        label: str,
        secrets: Iterable[str] = (),
        secret_params: Iterable[str] = (),
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        verify: bool = True,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_status: StatusHook | None = None,
    ) -> None:
        self.label = label
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._secrets = [s for s in secrets if s]
        self._secret_params = set(secret_params)
        _SecretQueryFilter.names |= self._secret_params
        self._on_status = on_status
        self._transport = transport
        self._client = httpx.Client(
            base_url=self.base_url,
            params=dict(params or {}),
            headers=dict(headers or {}),
            transport=transport,
            timeout=timeout,
            verify=verify,
            follow_redirects=True,
        )
        self.throttled = 0  # 429/503 answers met
        self.waited = 0.0  # seconds slept because of them
        self.requests = 0  # requests sent, retries included
        self.on_wait: WaitHook | None = None

    # -- safety -----------------------------------------------------------------

    def redact(self, text: str) -> str:
        text = mask_params_in_text(text, self._secret_params)
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def where(self, url: str | httpx.URL) -> str:
        return self.redact(mask_url(url, self._secret_params))

    def set_header(self, name: str, value: str | None, *, secret: bool = False) -> None:
        if secret and value:
            self._secrets.append(value)
        if value is None:
            self._client.headers.pop(name, None)
        else:
            self._client.headers[name] = value

    def has_header(self, name: str) -> bool:
        return name in self._client.headers

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    def __repr__(self) -> str:
        return f"HttpSession({self.label}, {self.where(self.base_url)})"

    # -- requests ---------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        return min(self.policy.max_delay, self.policy.base_delay * 2 ** (attempt - 1))

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        allow: Iterable[int] = (),
    ) -> httpx.Response:
        """Send with retries. 2xx and `allow`ed statuses come back; others become SourceErrors."""
        allowed = set(allow)
        attempt = connect_failures = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                response = self._client.request(method, url, params=params, json=json, headers=headers)
            except httpx.TransportError as exc:
                connect_failures += 1
                if connect_failures >= self.policy.connect_attempts:
                    reason = self.redact(str(exc)) or type(exc).__name__
                    raise SourceError(
                        f"cannot reach {self.label} at {self.where(self.base_url)} ({reason})",
                        hint="check the address, DNS, proxy and firewall; is the server up?",
                        code="source.unreachable",
                    ) from None
                self._sleep(self._backoff(connect_failures))
                continue
            status = response.status_code
            if status in allowed:
                return response
            if status in self.policy.retry_statuses:
                if attempt >= self.policy.max_attempts:
                    what_kind = "rate limiting" if status == 429 else f"HTTP {status}"
                    raise SourceError(
                        f"{self.label} kept answering {what_kind} for {what} after {attempt} attempts",
                        hint="try again later, or lower the request rate",
                        code="source.rate_limited" if status == 429 else "source.unavailable",
                    )
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                wait = self._backoff(attempt) if wait is None else min(wait, self.policy.max_delay)
                self.throttled += 1
                self.waited += wait
                response.close()
                if self.on_wait is not None:
                    why = "asked to slow down (HTTP 429)" if status == 429 else f"answered HTTP {status}"
                    self.on_wait(wait, f"{self.label} {why} for {what}")
                self._sleep(wait)
                continue
            if 200 <= status < 300:
                return response
            if self._on_status is not None:
                self._on_status(response, what)
            raise self.status_error(response, what)

    def status_error(self, response: httpx.Response, what: str) -> HttpStatusError:
        status = response.status_code
        where = self.where(response.request.url)
        if status == 401:
            return HttpStatusError(
                f"{self.label} rejected the credentials ({what}: HTTP 401 at {where})",
                hint="check the key, token or password and that it belongs to this server",
                status=status,
                code="source.auth_rejected",
            )
        if status == 403:
            return HttpStatusError(
                f"{self.label} refused access to {what} (HTTP 403 at {where})",
                hint="the account lacks a permission; grant read access to this module",
                status=status,
                code="source.permission_denied",
            )
        snippet = self.redact(response.text[:200].strip())
        return HttpStatusError(
            f"{self.label} answered HTTP {status} for {what} at {where}" + (f": {snippet}" if snippet else ""),
            status=status,
        )

    def fetch_json(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        allow: Iterable[int] = (),
    ) -> tuple[int, Any]:
        """(status, parsed body). A body that is not JSON is retried, then a SourceError."""
        for attempt in range(1, self.policy.malformed_attempts + 1):
            response = self.request(method, url, what=what, params=params, json=json, allow=allow)
            if not 200 <= response.status_code < 300:
                try:
                    return response.status_code, lenient_json(response)
                except ValueError:
                    return response.status_code, response.text
            try:
                return response.status_code, lenient_json(response)
            except ValueError:
                if attempt >= self.policy.malformed_attempts:
                    snippet = self.redact(response.text[:80].strip())
                    raise SourceError(
                        f"{self.label} sent a reply that is not JSON for {what} at {self.where(response.request.url)}"
                        f" (starts {snippet!r})",
                        hint="a proxy or an error page may be in the way; check the base URL",
                        code="source.malformed",
                    ) from None
                self._sleep(self._backoff(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def download(self, url: str, *, what: str, params: Mapping[str, Any] | None = None, auth: bool = True) -> bytes:
        """A file's bytes; `auth=False` for another origin (never send credentials elsewhere)."""
        if auth:
            return self.request("GET", url, what=what, params=params).content
        with httpx.Client(timeout=self._client.timeout, transport=self._transport, follow_redirects=True) as bare:
            try:
                response = bare.get(url)
            except httpx.TransportError as exc:
                raise SourceError(f"cannot download {what}: {self.redact(str(exc))}", code="source.unreachable") from None
            if response.status_code != 200:
                raise HttpStatusError(f"download of {what} answered HTTP {response.status_code}", status=response.status_code)
            return response.content

    def close(self) -> None:
        self._client.close()


def lenient_json(response: httpx.Response) -> Any:
    """A JSON reply, bytes that are not UTF-8 replaced by U+FFFD: one bad byte in a record's
    text costs that character (the audit names the record), never the page's records."""
    try:
        return response.json()
    except UnicodeDecodeError:
        return jsonlib.loads(response.content.decode("utf-8", errors="replace"))
