"""The HTTP pipeline under every operation: shards, pacing, retries, in-doubt, metrics.

One `httpx.AsyncClient` slows down badly with many requests in flight (its pool does work
per connection on every request), so concurrency is spread over several clients with a
few connections each. A slot queue holds one entry per allowed request in flight, tagged
with its client: taking a slot is both the concurrency bound and the choice of client.

Retry rules: a 429 was not applied, so every request waits for the window and goes
again. A failure before the request left (connect error or timeout, pool timeout) is
retried for every request. After the request left (read timeout, dropped connection,
5xx), only idempotent requests are retried, with capped exponential backoff and jitter;
anything else is reported as `WriteInDoubt` and never re-sent.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import random
import weakref
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.intercom.clock import Clock, SystemClock
from connectors.intercom.config import API_VERSION, RetryPolicy
from connectors.intercom.errors import (
    IntercomApiError,
    IntercomConnectionError,
    SentRequest,
    WriteInDoubt,
    api_error,
)
from connectors.intercom.metrics import ClientMetrics, MetricsSnapshot
from connectors.intercom.ratelimit import RatePacer

log = logging.getLogger("connectors.intercom")

# Failures that prove the request never reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures that retrying cannot fix (a bad URL, a request httpx refuses to write).
_HOPELESS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
# Every open session, so a command line can say what the process is waiting for.
_LIVE: weakref.WeakSet[IntercomSession] = weakref.WeakSet()
WAIT_WORTH_SAYING_S = 1.0  # an answer slower than this is worth telling the operator about


@dataclass(frozen=True)
class Call:
    """One API operation to perform. `idempotent`: safe to send again after any failure."""

    operation: str
    method: str
    path: str
    idempotent: bool
    params: dict[str, Any] | None = None
    body: Any = None

    def sent(self) -> SentRequest:
        return SentRequest(self.operation, self.method, self.path, self.params, self.body)


def describe_waits() -> str | None:
    """What this process's Intercom sessions wait for, in one line; None when nothing is slow."""
    found = [text for session in list(_LIVE) if (text := session.waiting())]
    return "; ".join(found) or None


def _failure_text(exc: httpx.RequestError) -> str:
    """A transport failure's own words (a refused connection, a TLS handshake), one line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _outcome(exc: httpx.RequestError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect_error"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return "disconnected"
    return "transport_error"


class _NoCookies(httpx.Cookies):
    """Intercom's REST API sets no cookies; parsing every response for them costs CPU."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _ApiClient(httpx.AsyncClient):
    """An httpx client without a cookie jar (about 0.1 ms of CPU saved per response)."""

    _no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("the Intercom client sends no cookies")


class IntercomSession:
    def __init__(
        self,
        token: str | SecretStr,
        base_url: str,
        *,
        version: str = API_VERSION,
        max_concurrency: int = 32,
        connections_per_client: int = 4,
        timeout: httpx.Timeout | float = httpx.Timeout(60.0, connect=10.0),
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        pacer: RatePacer | None = None,
        rng: random.Random | None = None,
        user_agent: str = "helpmig-intercom",
    ) -> None:
        if max_concurrency < 1 or connections_per_client < 1:
            raise ValueError("max_concurrency and connections_per_client must be at least 1")
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        if not self._token.get_secret_value():
            raise ValueError("the Intercom access token is empty")
        self.base_url = base_url
        self.clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self.pacer = pacer or RatePacer(self.clock)
        self.metrics = ClientMetrics()
        self._rng = rng or random.Random()
        headers = {
            "Authorization": f"Bearer {self._token.get_secret_value()}",
            "Intercom-Version": version,
            "Accept": "application/json",
            "User-Agent": user_agent,
        }
        # An injected transport (the in-process sandbox, a test double) has no pool to shard.
        shard_count = 1 if transport is not None else -(-max_concurrency // connections_per_client)
        per_shard = max_concurrency if transport is not None else connections_per_client
        limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        # one TLS context for every shard: each costs ~30 ms to build (the CA bundle is parsed)
        tls = httpx.create_ssl_context()
        self._clients = [
            _ApiClient(
                base_url=base_url,
                headers=headers,
                timeout=timeout,
                limits=limits,
                transport=transport,
                trust_env=False,
                verify=tls,
            )
            for _ in range(shard_count)
        ]
        self._requests: dict[int, tuple[str, float]] = {}  # in flight: ticket -> (operation, started)
        self._tickets = itertools.count()
        _LIVE.add(self)
        self._free: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        for index in range(max_concurrency):
            self._free.put_nowait(self._clients[index % shard_count])
        self.shards = shard_count

    def __repr__(self) -> str:
        return f"IntercomSession(base_url={self.base_url!r}, token={self._token!r}, shards={self.shards})"

    async def aclose(self) -> None:
        _LIVE.discard(self)
        for client in self._clients:
            await client.aclose()

    def waiting(self) -> str | None:
        """What this session waits for now: a rate-limit window (with a countdown), or an answer."""
        now = self.clock.time()
        budget = self.pacer.budget()
        refused = self.metrics.rate_limited
        storm = f"{refused} answer was 429" if refused == 1 else f"{refused} answers were 429"
        if budget.blocked_until and budget.blocked_until > now:
            return f"Intercom's rate limit: {storm} so far; next try in {math.ceil(budget.blocked_until - now)} s"
        if (budget.limit and budget.estimated_remaining is not None and budget.estimated_remaining < 1
                and budget.reset_at and budget.reset_at > now):
            spent = f"Intercom's rate limit: the window of {budget.limit} requests is used up"
            return spent + (f" ({storm} so far)" if refused else "") + \
                f"; next try in {math.ceil(budget.reset_at - now)} s"
        pending = list(self._requests.values())
        if not pending:
            return None
        operation, started = min(pending, key=lambda p: p[1])
        age = self.clock.monotonic() - started
        if age < WAIT_WORTH_SAYING_S:
            return None
        return f"waiting for Intercom to answer {operation} ({age:.0f} s; {len(pending)} in flight)"

    def snapshot(self) -> MetricsSnapshot:
        return self.metrics.snapshot(self.pacer.budget())

    async def _exchange(self, call: Call) -> tuple[httpx.Response | None, httpx.RequestError | None, int]:
        """One attempt: a slot, the pacer's permission, the request."""
        client = await self._free.get()
        try:
            sequence = await self.pacer.acquire()
            self.metrics.started()
            started = self.clock.monotonic()
            ticket = next(self._tickets)
            self._requests[ticket] = (call.operation, started)
            try:
                response = await client.request(call.method, call.path, params=call.params, json=call.body)
            except httpx.RequestError as exc:
                self.metrics.finished(call.operation, _outcome(exc), None)
                return None, exc, sequence
            except asyncio.CancelledError:  # the caller stopped (pause, quit): no longer in flight
                self.metrics.finished(call.operation, "cancelled", None)
                raise
            finally:
                self._requests.pop(ticket, None)
            self.metrics.finished(call.operation, response.status_code, self.clock.monotonic() - started)
            return response, None, sequence
        finally:
            self._free.put_nowait(client)

    async def send(self, call: Call) -> httpx.Response:
        """Perform a call; a 2xx response, or a typed exception (see module doc)."""
        attempt = 0
        rate_limit_waits = 0
        uncertain = False  # an earlier attempt may have been applied
        while True:
            attempt += 1
            response, failure, sequence = await self._exchange(call)
            if response is not None:
                status = response.status_code
                self.pacer.observe(sequence, response.headers)
                if status < 400:
                    self.pacer.succeeded()
                    return response
                if status == 429:
                    rate_limit_waits += 1
                    if rate_limit_waits > self.retry.max_rate_limit_waits:
                        raise self._api_error(call, response, uncertain)
                    wait = self.pacer.rate_limited(sequence, response.headers)
                    self.metrics.retries += 1
                    attempt -= 1  # a 429 is not a failed attempt: nothing was applied
                    log.info("%s %s %s: 429, waiting %.1f s for the rate-limit window", call.operation, call.method, call.path, wait)
                    continue
                if status < 500:
                    raise self._api_error(call, response, uncertain)
                if not call.idempotent:
                    raise self._in_doubt(call, f"HTTP {status}", status, attempt)
                if attempt >= self.retry.max_attempts:
                    raise self._api_error(call, response, uncertain)
                uncertain = True
                reason = f"HTTP {status}"
            else:
                assert failure is not None
                if isinstance(failure, _HOPELESS):
                    raise IntercomConnectionError(f"{call.operation} {call.method} {call.path}: {_failure_text(failure)}", operation=call.operation) from None
                was_sent = not isinstance(failure, _NOT_SENT)
                if was_sent and not call.idempotent:
                    raise self._in_doubt(call, _outcome(failure), None, attempt)
                if attempt >= self.retry.max_attempts:
                    raise IntercomConnectionError(
                        f"{call.operation} {call.method} {call.path}: {_outcome(failure)} after {attempt} attempts ({_failure_text(failure)})",
                        operation=call.operation,
                    ) from None
                uncertain = uncertain or was_sent
                reason = _outcome(failure)
            delay = self.retry.backoff(attempt, self._rng)
            self.metrics.retries += 1
            log.info("%s %s %s: %s, retry %d in %.2f s", call.operation, call.method, call.path, reason, attempt, delay)
            await self.clock.sleep(delay)

    def _api_error(self, call: Call, response: httpx.Response, uncertain: bool) -> IntercomApiError:
        error = api_error(response.status_code, response.content, operation=call.operation, method=call.method, path=call.path)
        error.after_uncertain_attempt = uncertain
        return error

    def _in_doubt(self, call: Call, cause: str, status: int | None, attempts: int) -> WriteInDoubt:
        self.metrics.in_doubt += 1
        log.warning("%s %s %s: %s after sending; reported in doubt, not re-sent", call.operation, call.method, call.path, cause)
        return WriteInDoubt(call.sent(), cause, status=status, attempts=attempts)
