"""Several private apps (tokens) of one workspace: requests spread over them, each app
paced by its own window and all of them by the workspace's; priority requests go first.

Virtual time (VirtualTimeLoop) against the in-process sandbox, which counts every token's
window and the workspace's: nothing here depends on the machine's speed.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from connectors.intercom import IntercomClient, RatePacer, prioritized
from connectors.intercom.sandbox import SANDBOX_URL, Sandbox
from tests.support.virtual_time import LoopClock, run_virtual

EPOCH = 1_767_225_600
TOKENS = ("app-one", "app-two", "app-three")


class CountingTransport(httpx.AsyncBaseTransport):
    """The sandbox's transport, counting requests per token and the time of each."""

    def __init__(self, inner: httpx.AsyncBaseTransport, clock: LoopClock) -> None:
        self.inner = inner
        self.clock = clock
        self.by_token: Counter[str] = Counter()
        self.sent: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.by_token[request.headers["authorization"].removeprefix("Bearer ")] += 1
        self.sent.append(self.clock.time())
        return await self.inner.handle_async_request(request)


def test_three_tokens_hold_the_workspace_limit_without_a_429():
    clock = LoopClock(EPOCH)
    # each app may send 100 per window, the workspace 250: together the apps could send 300
    sandbox = Sandbox(rate_limit=100, workspace_rate_limit=250, clock=clock, tokens=frozenset(TOKENS))
    transport = CountingTransport(sandbox.transport(), clock)

    async def main() -> tuple[float, IntercomClient]:
        client = IntercomClient(list(TOKENS), base_url=SANDBOX_URL, transport=transport, clock=clock,
                                max_concurrency=8, workspace_limit_per_minute=250 * 6)
        start = clock.time()
        await asyncio.gather(*(client.me() for _ in range(1500)))
        await client.aclose()
        return clock.time() - start, client

    elapsed, client = run_virtual(main())
    snapshot = client.metrics()
    assert snapshot.rate_limited == 0 and sandbox.limiter.refused == 0
    assert snapshot.calls["me"] == {"200": 1500}
    assert set(transport.by_token) == set(TOKENS)
    assert min(transport.by_token.values()) >= 1500 / 3 * 0.8  # spread over the three apps
    per_window = Counter(int(t // 10) for t in transport.sent)
    assert max(per_window.values()) <= 250
    # six windows at the workspace's 250; at one app's 100 it would take fifteen
    assert elapsed <= 1500 / 250 * 10 / 0.9
    assert snapshot.window.limit == 250  # the combined limit: three apps' 300, within the workspace's 250


def test_one_token_keeps_its_own_window_only():
    clock = LoopClock(EPOCH)
    sandbox = Sandbox(rate_limit=100, workspace_rate_limit=250, clock=clock)

    async def main() -> IntercomClient:
        client = sandbox.client("solo", clock=clock, max_concurrency=8)
        await asyncio.gather(*(client.me() for _ in range(150)))
        await client.aclose()
        return client

    client = run_virtual(main())
    assert client.session.workspace_pacer is None and client.metrics().window.limit == 100
    assert client.metrics().rate_limited == 0


def test_a_token_given_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        IntercomClient(["same", "same"], base_url=SANDBOX_URL, transport=httpx.MockTransport(lambda r: None))


def test_priority_requests_go_before_those_already_waiting():
    clock = LoopClock(EPOCH)

    async def main() -> list[str]:
        pacer = RatePacer(clock, limit=20, reserve_fraction=0)
        pacer.observe(0, {"x-ratelimit-limit": "20", "x-ratelimit-remaining": "20",
                          "x-ratelimit-reset": str(EPOCH + 10)})
        order: list[str] = []

        async def one(name: str, first: bool) -> None:
            with prioritized(first):
                await pacer.acquire()
            order.append(name)

        waiting = [asyncio.create_task(one(f"n{i}", False)) for i in range(10)]
        await asyncio.sleep(0)  # the ten are queued at the pacer
        urgent = asyncio.create_task(one("urgent", True))
        await asyncio.gather(*waiting, urgent)
        return order

    order = run_virtual(main())
    assert order.index("urgent") <= 2  # behind at most the grant in progress, not behind the ten
