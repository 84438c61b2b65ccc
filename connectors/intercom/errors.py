"""Intercom failures as typed exceptions.

An `error.list` body becomes an `IntercomApiError` subclass chosen by HTTP status, carrying
the first error's code and message, every error, the request id and the status. Failures
without an answer are `IntercomConnectionError`. A write whose outcome is unknown is
`WriteInDoubt`: it carries what was sent so the caller can reconcile; the client never
re-sends it. No exception here ever holds the access token: requests are described by
operation, method, path and body only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorItem:
    code: str
    message: str | None = None
    field: str | None = None


@dataclass(frozen=True)
class SentRequest:
    """What the client sent, without headers (so without the token)."""

    operation: str
    method: str
    path: str
    params: dict[str, Any] | None = None
    body: Any = None


class IntercomError(Exception):
    """Base class of everything the Intercom client raises."""

    def __init__(self, message: str, *, operation: str = "") -> None:
        super().__init__(message)
        self.operation = operation


class IntercomApiError(IntercomError):
    """Intercom answered with an error status (usually an `error.list` body)."""

    def __init__(
        self,
        status: int,
        errors: tuple[ErrorItem, ...],
        *,
        request_id: str | None = None,
        operation: str = "",
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.errors = errors
        self.request_id = request_id
        self.method = method
        self.path = path
        self.after_uncertain_attempt = False  # an earlier attempt of the same call may have been applied
        first = errors[0] if errors else ErrorItem("unknown")
        self.code = first.code
        self.error_message = first.message or ""
        where = f"{operation} {method} {path}".strip()
        super().__init__(f"{where}: HTTP {status} {self.code}: {self.error_message} (request id {request_id})", operation=operation)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r}, message={self.error_message!r}, request_id={self.request_id!r})"


class BadRequest(IntercomApiError):
    """400: invalid parameters (names, types, missing fields)."""


class Unauthorized(IntercomApiError):
    """401: the token is missing, wrong or revoked."""


class Forbidden(IntercomApiError):
    """403: the token's app may not do this (plan, scope)."""


class NotFound(IntercomApiError):
    """404: no such object (or no such route)."""


class Conflict(IntercomApiError):
    """409: the object already exists (contacts) or matches several."""


class Gone(IntercomApiError):
    """410: the contact was merged into another."""


class Unprocessable(IntercomApiError):
    """422: the request is well formed but cannot be applied."""


class RateLimited(IntercomApiError):
    """429 that persisted through every wait the retry policy allows."""


class ServerError(IntercomApiError):
    """5xx that persisted through every safe retry."""


_BY_STATUS: dict[int, type[IntercomApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Unprocessable,
    429: RateLimited,
}


class IntercomConnectionError(IntercomError):
    """No usable answer (connection refused, timeout, dropped) after every safe retry."""


class WriteInDoubt(IntercomError):
    """A write that may or may not have been applied; it was not re-sent.

    Raised when a non-idempotent write (create conversation, reply, create article, ...)
    timed out after it was sent, lost its connection, or got a 5xx. `sent` is what went
    out; `cause` says what happened. The caller looks the object up (e.g. conversations
    by contact and created_at) before deciding to send it again.
    """

    def __init__(self, sent: SentRequest, cause: str, *, status: int | None = None, attempts: int = 1) -> None:
        self.sent = sent
        self.cause = cause
        self.status = status
        self.attempts = attempts
        super().__init__(
            f"{sent.operation} {sent.method} {sent.path}: outcome unknown ({cause}); not re-sent",
            operation=sent.operation,
        )

    def __repr__(self) -> str:
        return f"WriteInDoubt(operation={self.sent.operation!r}, cause={self.cause!r}, status={self.status})"


def parse_error_body(content: bytes) -> tuple[tuple[ErrorItem, ...], str | None]:
    """The errors and request id of an `error.list` body; a generic item for anything else."""
    try:
        data = json.loads(content) if content else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        text = content[:200].decode("utf-8", "replace") if content else None
        return (ErrorItem("unknown", text),), None
    items = []
    for raw in data.get("errors") or ():
        if isinstance(raw, dict) and raw.get("code"):
            items.append(ErrorItem(str(raw["code"]), raw.get("message"), raw.get("field")))
    if not items:  # some old endpoints answer {"type": "error", "message": ...}
        items.append(ErrorItem(str(data.get("code") or "unknown"), data.get("message")))
    request_id = data.get("request_id")
    return tuple(items), str(request_id) if request_id else None


def api_error(status: int, content: bytes, *, operation: str, method: str, path: str) -> IntercomApiError:
    errors, request_id = parse_error_body(content)
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else IntercomApiError)
    return cls(status, errors, request_id=request_id, operation=operation, method=method, path=path)
