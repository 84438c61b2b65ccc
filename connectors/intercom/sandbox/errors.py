"""Errors in Intercom's `error.list` shape."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any


class ApiError(Exception):
    """Raised by a route; rendered as `{"type": "error.list", "request_id", "errors": [...]}`."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 rule: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.rule = rule  # a refusal a careful loader never meets: counted as a violation


def not_found(message: str = "Resource Not Found", code: str = "not_found") -> ApiError:
    return ApiError(404, code, message)


def invalid(message: str, code: str = "parameter_invalid", *, rule: str | None = None) -> ApiError:
    return ApiError(400, code, message, rule=rule)


def error_body(code: str, message: str, rng: random.Random, field: str | None = None) -> bytes:
    item: dict[str, Any] = {"code": code, "message": message}
    if field:
        item["field"] = field
    request_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return json.dumps({"type": "error.list", "request_id": request_id, "errors": [item]}).encode()
