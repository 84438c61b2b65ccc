"""Benchmark: the CPU of one request to the in-process sandbox through the Intercom client (not a test).

    PYTHONPATH=$PWD python bench/sandbox_requests.py

The session's two ways in: the direct one (`InProcessConnection`: the wire's request bytes
as one ASGI request) and httpx's client and ASGI transport (what the session used before,
and still uses for any other injected transport), alternated five times; each round is a
fresh strict sandbox, 400 contacts created and each read back, CPU per request
(`time.process_time`), the median and the spread.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx

from connectors.intercom import IntercomClient
from connectors.intercom.models import ContactCreate
from connectors.intercom.sandbox import SANDBOX_URL, Sandbox

REQUESTS = 400


class _ThroughHttpx(httpx.AsyncBaseTransport):
    """The sandbox's transport as an httpx transport only."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)


async def per_request_ms(direct: bool, round_: int) -> float:
    sandbox = Sandbox()
    transport: httpx.AsyncBaseTransport = sandbox.transport()
    if not direct:
        transport = _ThroughHttpx(transport)  # not a DirectTransport: the session drives it through httpx
    async with IntercomClient("token", base_url=SANDBOX_URL, transport=transport, clock=sandbox.config.clock) as client:
        await client.contacts.create(ContactCreate(external_id="warm-up", email="warm@example.com"))
        start = time.process_time()
        for n in range(REQUESTS):
            contact = await client.contacts.create(ContactCreate(external_id=f"st-{round_}-{n}", email=f"p{n}@example.com"))
            await client.contacts.get(contact.id)
        return (time.process_time() - start) / (2 * REQUESTS) * 1000


def main() -> None:
    results: dict[bool, list[float]] = {True: [], False: []}
    for round_ in range(5):
        for direct in (False, True):
            results[direct].append(asyncio.run(per_request_ms(direct, round_)))
    for direct, name in ((False, "httpx client + ASGITransport"), (True, "InProcessConnection")):
        values = results[direct]
        print(f"{name}: {statistics.median(values):.3f} ms CPU a request (min {min(values):.3f}, max {max(values):.3f})")


if __name__ == "__main__":
    main()
