"""Pacing to the 10-second windows, 429 handling, and a budget shared by two clients.

All of it runs in virtual time (VirtualTimeLoop): waits take no real time and the outcome
does not depend on the machine's speed.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from connectors.intercom import IntercomClient, RateLimited, RatePacer, RetryPolicy
from connectors.intercom.sandbox import SANDBOX_URL, Sandbox
from tests.intercom.fakes import ADMIN_BODY, ScriptedTransport, error_list, json_response
from tests.support.virtual_time import LoopClock, run_virtual

EPOCH = 1_767_225_600  # a multiple of 10: sandbox windows start at whole tens of seconds


def windows_of(times: list[float], window: float = 10.0) -> Counter[int]:
    return Counter(int(t // window) for t in times)


def test_a_single_client_never_meets_a_429_and_uses_the_window():
    clock = LoopClock(EPOCH)
    sandbox = Sandbox(rate_limit=100, clock=clock)
    sent: list[float] = []

    async def main() -> tuple[float, IntercomClient]:
        client = sandbox.client(clock=clock, max_concurrency=16)
        start = clock.time()

        async def one() -> None:
            await client.me()
            sent.append(clock.time())

        await asyncio.gather(*(one() for _ in range(450)))
        await client.aclose()
        return clock.time() - start, client

    elapsed, client = run_virtual(main())
    snapshot = client.metrics()
    assert snapshot.rate_limited == 0 and sandbox.limiter.refused == 0
    assert snapshot.calls["me"] == {"200": 450}
    assert 40 <= elapsed <= 50  # 450 requests at 100 per window: four full windows and a half
    assert max(windows_of(sent).values()) <= 100
    per_second = Counter(int(t) for t in sent[100:])  # after the first window: spread, not bursts
    assert max(per_second.values()) <= 15
    assert snapshot.window.limit == 100 and snapshot.window.reset_at is not None


def test_two_clients_sharing_a_workspace_slow_each_other_down():
    clock = LoopClock(EPOCH)
    sandbox = Sandbox(workspace_rate_limit=200, clock=clock)

    async def main() -> tuple[list[IntercomClient], float]:
        clients = [sandbox.client(token, clock=clock, max_concurrency=16) for token in ("app-a", "app-b")]
        start = clock.time()
        await asyncio.gather(*(client.me() for client in clients for _ in range(600)))
        for client in clients:
            await client.aclose()
        return clients, clock.time() - start

    clients, elapsed = run_virtual(main())
    answered_429 = sum(client.metrics().rate_limited for client in clients)
    assert all(client.metrics().calls["me"]["200"] == 600 for client in clients)
    assert answered_429 / 1200 < 0.02
    assert sandbox.limiter.refused == answered_429
    assert 50 <= elapsed < 75  # 1200 at 200 per window: six windows, plus the 429 waits


def test_a_429_waits_for_the_reset_it_announces():
    clock = LoopClock(EPOCH)

    def respond(request, attempt):
        if attempt <= 2:
            return error_list(429, "rate_limit_exceeded", headers={"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(EPOCH + 7)})
        return json_response(200, ADMIN_BODY, {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "9", "X-RateLimit-Reset": str(EPOCH + 17)})

    transport = ScriptedTransport(respond, clock)

    async def main():
        async with IntercomClient("t", base_url=SANDBOX_URL, transport=transport, clock=clock) as client:
            await client.me()
            return client.metrics()

    snapshot = run_virtual(main())
    assert len(transport.sent_at) == 3
    assert transport.sent_at[1] >= EPOCH + 7  # waited for the reset, did not retry at once
    assert transport.sent_at[2] - transport.sent_at[1] >= 0.5  # a second 429 after the reset also backs off
    assert snapshot.rate_limited == 2 and snapshot.retries == 2


def test_retry_after_zero_and_a_stale_reset_still_back_off():
    clock = LoopClock(EPOCH)

    def respond(request, attempt):
        if attempt <= 5:
            return error_list(429, "rate_limit_exceeded", headers={"Retry-After": "0", "X-RateLimit-Reset": str(EPOCH - 60)})
        return json_response(200, ADMIN_BODY)

    transport = ScriptedTransport(respond, clock)

    async def main():
        async with IntercomClient("t", base_url=SANDBOX_URL, transport=transport, clock=clock) as client:
            await client.me()

    run_virtual(main())
    gaps = [b - a for a, b in zip(transport.sent_at, transport.sent_at[1:])]
    assert len(transport.sent_at) == 6
    assert gaps == pytest.approx([0.5, 1.0, 2.0, 4.0, 8.0], abs=0.01)  # growing, never a tight loop


def test_a_429_storm_ends_in_rate_limited_without_spinning():
    clock = LoopClock(EPOCH)
    transport = ScriptedTransport(lambda request, attempt: error_list(429, "rate_limit_exceeded", "Exceeded rate limit of 167 in 10_seconds"), clock)

    async def main():
        client = IntercomClient("t", base_url=SANDBOX_URL, transport=transport, clock=clock, retry=RetryPolicy(max_rate_limit_waits=6))
        with pytest.raises(RateLimited) as raised:
            await client.me()
        await client.aclose()
        return raised.value

    error = run_virtual(main())
    assert error.status == 429 and error.code == "rate_limit_exceeded"
    assert len(transport.sent_at) == 7
    assert transport.sent_at[-1] - transport.sent_at[0] >= 0.5 + 1 + 2 + 4 + 8 + 10  # capped at one window


def test_the_estimate_subtracts_requests_sent_after_the_reporting_one():
    clock = LoopClock(EPOCH)

    async def main():
        pacer = RatePacer(clock, reserve_fraction=0)
        sequences = [await pacer.acquire() for _ in range(5)]
        headers = {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "97", "x-ratelimit-reset": str(EPOCH + 10)}
        pacer.observe(sequences[2], headers)  # the third request saw 97 left; two more were sent after it
        assert pacer.budget().estimated_remaining == 95
        pacer.observe(sequences[0], {**headers, "x-ratelimit-remaining": "99"})  # older, higher: ignored
        assert pacer.budget().estimated_remaining == 95
        await asyncio.sleep(10)  # the next window
        pacer.observe(sequences[4], {**headers, "x-ratelimit-reset": str(EPOCH + 20), "x-ratelimit-remaining": "99"})
        assert pacer.budget().reset_at == EPOCH + 20 and pacer.budget().estimated_remaining == 99

    run_virtual(main())


def test_a_server_clock_far_ahead_never_stalls_the_pacer_beyond_a_window():
    clock = LoopClock(EPOCH)

    async def main():
        pacer = RatePacer(clock)
        first = await pacer.acquire()
        skewed = {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(EPOCH + 300)}
        pacer.observe(first, skewed)
        start = clock.time()
        await pacer.acquire()
        waited_for_budget = clock.time() - start
        assert pacer.rate_limited(first, skewed) <= 10.1
        return waited_for_budget

    assert run_virtual(main()) <= 10.1
