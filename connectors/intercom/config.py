"""Where the client connects and how patiently it retries."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

API_VERSION = "2.16"


class Region(enum.StrEnum):
    US = "us"
    EU = "eu"
    AU = "au"


BASE_URLS: dict[Region, str] = {
    Region.US: "https://api.intercom.io",
    Region.EU: "https://api.eu.intercom.io",
    Region.AU: "https://api.au.intercom.io",
}


def base_url_for(region: Region | str = Region.US, url: str | None = None) -> str:
    """The regional host, or `url` when given (`--intercom-url`, a sandbox)."""
    if url:
        return url.rstrip("/")
    try:
        return BASE_URLS[Region(str(region).lower())]
    except ValueError:
        raise ValueError(f"unknown Intercom region {region!r}: use one of us, eu, au or give a URL") from None


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter for safe requests, and a bound on 429 waits."""

    max_attempts: int = 5  # per request, for 5xx and transport failures
    backoff_base: float = 0.5  # seconds before the first retry (before jitter)
    backoff_cap: float = 20.0
    max_rate_limit_waits: int = 30  # 429s for one request before RateLimited is raised

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay after failed attempt number `attempt` (1-based): half fixed, half random."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)
