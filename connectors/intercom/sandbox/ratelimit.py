"""Fixed 10-second windows per token (app) and per workspace, like Intercom's.

Tokens of one workspace share its budget; `workspace_of` says which workspace a token
belongs to (all of them, by default, to one).

Windows are aligned on multiples of the window length in Unix time, so X-RateLimit-Reset
(whole seconds) is exact. The headers describe the binding budget: the app's limit and
the smaller of the app's and the workspace's remaining. A refused request is not counted.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    headers: list[tuple[bytes, bytes]]


class WindowLimiter:
    def __init__(self, per_token: int | None, per_workspace: int | None, window_seconds: float = 10.0,
                 workspace_of: Callable[[str], str] = lambda token: "") -> None:
        self.per_token = per_token
        self.per_workspace = per_workspace
        self.window_seconds = window_seconds
        self.workspace_of = workspace_of
        self._window = -1
        self._by_token: Counter[str] = Counter()
        self._by_workspace: Counter[str] = Counter()
        self.refused = 0

    def check(self, token: str, now: float) -> Verdict:
        window = math.floor(now / self.window_seconds)
        if window != self._window:
            self._window = window
            self._by_token.clear()
            self._by_workspace.clear()
        reset = math.ceil((window + 1) * self.window_seconds)
        workspace = self.workspace_of(token)
        limits = [
            (limit, limit - used)
            for limit, used in ((self.per_token, self._by_token[token]),
                                (self.per_workspace, self._by_workspace[workspace]))
            if limit is not None
        ]
        if not limits:
            return Verdict(True, [])
        allowed = all(left > 0 for _, left in limits)
        if allowed:
            self._by_token[token] += 1
            self._by_workspace[workspace] += 1
            limits = [(limit, left - 1) for limit, left in limits]
        else:
            self.refused += 1
        headers = [
            (b"x-ratelimit-limit", str(limits[0][0]).encode()),
            (b"x-ratelimit-remaining", str(max(0, min(left for _, left in limits))).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
        ]
        return Verdict(allowed, headers)
