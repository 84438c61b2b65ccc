"""The sandbox as an httpx transport, in process: no sockets, faults become httpx errors."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from connectors.intercom.sandbox.middleware import IN_PROCESS, SimulatedDisconnect, SimulatedTimeout


class SandboxTransport(httpx.AsyncBaseTransport):
    """httpx.ASGITransport over the sandbox app; a dropped or hung answer raises what a
    real connection would (RemoteProtocolError, ReadTimeout)."""

    def __init__(self, app: Any) -> None:
        async def marked(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await app({**scope, IN_PROCESS: True}, receive, send)

        self._inner = httpx.ASGITransport(app=marked)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # A request over a network lets the event loop run others while it waits; in process
        # nothing waits, and without this a long chain of calls (a 300-message thread) would
        # hold the loop to itself, starving every other task (progress, heartbeats, the UI's
        # worker messages) until it ends.
        await asyncio.sleep(0)
        try:
            return await self._inner.handle_async_request(request)
        except SimulatedDisconnect:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request) from None
        except SimulatedTimeout:
            raise httpx.ReadTimeout("The read operation timed out", request=request) from None
