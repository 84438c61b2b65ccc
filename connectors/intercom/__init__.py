"""The Intercom destination: a rate-limit-aware async client and an Intercom sandbox.

The client is `IntercomClient` (client.py); the sandbox is `connectors.intercom.sandbox`.
Nothing here imports helpmig_tui or screens.
"""

from connectors.intercom.client import IntercomClient
from connectors.intercom.clock import Clock, SystemClock
from connectors.intercom.config import API_VERSION, BASE_URLS, Region, RetryPolicy, base_url_for
from connectors.intercom.errors import (
    BadRequest,
    Conflict,
    ErrorItem,
    Forbidden,
    Gone,
    IntercomApiError,
    IntercomConnectionError,
    IntercomError,
    NotFound,
    RateLimited,
    SentRequest,
    ServerError,
    Unauthorized,
    Unprocessable,
    WriteInDoubt,
)
from connectors.intercom.metrics import MetricsSnapshot
from connectors.intercom.ratelimit import RatePacer, WindowBudget, prioritized

__all__ = [
    "API_VERSION",
    "BASE_URLS",
    "BadRequest",
    "Clock",
    "Conflict",
    "ErrorItem",
    "Forbidden",
    "Gone",
    "IntercomApiError",
    "IntercomClient",
    "IntercomConnectionError",
    "IntercomError",
    "MetricsSnapshot",
    "NotFound",
    "RateLimited",
    "RatePacer",
    "Region",
    "RetryPolicy",
    "SentRequest",
    "ServerError",
    "SystemClock",
    "Unauthorized",
    "Unprocessable",
    "WindowBudget",
    "WriteInDoubt",
    "base_url_for",
    "prioritized",
]
