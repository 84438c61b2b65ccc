"""What a sandbox instance is: its limits, latency, faults, tokens and storage."""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.intercom.clock import Clock, SystemClock

FAULT_KINDS = ("error_before", "error_after", "drop_after", "hang_after", "refuse")
APP_LIMIT = 1667  # Intercom's 10,000 calls a minute per app, in 10-second windows
WORKSPACE_LIMIT = 4167  # 25,000 a minute per workspace


@dataclass
class SandboxConfig:
    """Defaults behave like a quiet Intercom workspace: Intercom's published limits, no
    latency, no faults, every request held to the API description.

    rate_limit: requests per window for each token (an Intercom "app": 10,000 a minute);
        None: unlimited.
    workspace_rate_limit: requests per window for all tokens together (25,000 a minute);
        None: unlimited.
    strict: refuse (and count) what breaks the API description; off only for benchmarks
        of the client itself.
    search_lag: how long search lags behind a create (Intercom: up to a few minutes).
    faults: probability that a request meets a fault, drawn from `fault_kinds` with
        `fault_seed` (the same seed and request order give the same faults).
    tokens: accepted access tokens; None accepts any non-empty token (each distinct
        token then counts as its own app).
    workspaces: token -> workspace id, for tokens of other workspaces (their /me names
        that workspace, and they count against its own limit); every other token belongs
        to the sandbox's workspace. The objects are one store whatever the token.
    state_path: a SQLite file that keeps the workspace across restarts; None: in memory.
    """

    rate_limit: int | None = APP_LIMIT
    workspace_rate_limit: int | None = WORKSPACE_LIMIT
    window_seconds: float = 10.0
    latency_ms: float = 0.0
    faults: float = 0.0
    fault_kinds: tuple[str, ...] = ("error_before", "error_after", "drop_after")
    fault_seed: int = 0
    hang_seconds: float = 120.0  # how long a "hang_after" fault holds a real connection
    tokens: frozenset[str] | None = None
    workspaces: dict[str, str] = field(default_factory=dict)
    state_path: str | None = None
    custom_object_types: tuple[str, ...] = ("Order",)
    clock: Clock = field(default_factory=SystemClock)
    strict: bool = True
    search_lag: float = 0.0  # seconds before a new contact or conversation shows up in search

    def __post_init__(self) -> None:
        # 0 means "no limit", as on the command line
        self.rate_limit = self.rate_limit or None
        self.workspace_rate_limit = self.workspace_rate_limit or None
        unknown = set(self.fault_kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.faults <= 1.0:
            raise ValueError("faults is a probability between 0 and 1")
