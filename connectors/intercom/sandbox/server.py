"""Running the sandbox as a real HTTP server (uvicorn): blocking, or in a thread for tests."""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import uvicorn

from connectors.intercom.sandbox.app import Sandbox
from connectors.intercom.sandbox.config import APP_LIMIT, WORKSPACE_LIMIT
from connectors.intercom.sandbox.middleware import SimulatedDisconnect


class _HideSimulatedDrops(logging.Filter):
    """A dropped connection is a fault we asked for, not a server error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], SimulatedDisconnect))


def _tokens(token: str | Iterable[str] | None) -> frozenset[str] | None:
    if token is None:
        return None
    if isinstance(token, str):
        return frozenset(part.strip() for part in token.split(",") if part.strip())
    return frozenset(token)


_HIDE_SIMULATED_DROPS = _HideSimulatedDrops()


def _config(sandbox: Sandbox, host: str, port: int) -> uvicorn.Config:
    logging.getLogger("uvicorn.error").addFilter(_HIDE_SIMULATED_DROPS)  # once: the same filter is not added twice
    # A request held by a "hang_after" fault must not hold up shutdown for long.
    return uvicorn.Config(
        sandbox.app, host=host, port=port, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2
    )


def listen(host: str, port: int) -> socket.socket:
    """The socket `serve()` answers on, bound first: a port in use or an address not of
    this machine is an OSError here, before anything says the sandbox is up (uvicorn
    logs its own ERROR line and exits instead)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        if os.name != "nt":  # Windows would let a second server share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen()
    except OSError:
        sock.close()
        raise
    return sock


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    sock: socket.socket | None = None,
    rate_limit: int | None = APP_LIMIT,
    latency_ms: float = 0,
    faults: float = 0.0,
    state_path: str | None = None,
    token: str | Iterable[str] | None = None,
    workspace_rate_limit: int | None = WORKSPACE_LIMIT,
    fault_seed: int = 0,
    search_lag: float = 0.0,
) -> None:
    """Serve a sandbox until interrupted (what `helpmig sandbox` runs); on the way out, say
    what it refused for breaking Intercom's rules.

    rate_limit: requests per 10-second window per token; workspace_rate_limit: for all
    tokens together (0 or None: no limit). token: the accepted token(s), comma-separated;
    None accepts any. sock: a socket from `listen()` (else uvicorn binds host and port).
    """
    sandbox = Sandbox(
        rate_limit=rate_limit,
        workspace_rate_limit=workspace_rate_limit,
        latency_ms=latency_ms,
        faults=faults,
        fault_seed=fault_seed,
        state_path=state_path,
        tokens=_tokens(token),
        search_lag=search_lag,
    )
    try:
        uvicorn.Server(_config(sandbox, host, port)).run(sockets=[sock] if sock else None)
    finally:
        if sandbox.violations.total:
            print(f"the sandbox refused {sandbox.violations.total} requests that break Intercom's rules:\n"
                  + sandbox.violations.describe(), file=sys.stderr)
        sandbox.close()


@contextmanager
def running_server(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `sandbox` from a thread on a free port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(_config(sandbox, host, bound_port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="intercom-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
