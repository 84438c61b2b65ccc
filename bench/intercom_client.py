"""Benchmark: IntercomClient against the sandbox in another process, over loopback.

    python bench/intercom_client.py --scenario app          # 10,000/min per app, one token
    python bench/intercom_client.py --scenario workspace    # 25,000/min per workspace, two tokens

Starts `python -m connectors.intercom.sandbox` with 100 ms added latency, then keeps
`--concurrency` workers per token busy for `--duration` seconds with the loader's mix of
calls (create contact, create conversation, admin reply, read contact), starting on a
window boundary so the run spans whole windows. Reports requests/s
sustained, the share of the allowed rate, the share answered 429, and this process's CPU
time per request (the sandbox runs elsewhere). Not a test: figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.intercom import IntercomClient, IntercomError  # noqa: E402
from connectors.intercom.models import AdminReply, ContactCreate, ConversationCreate  # noqa: E402

ADMIN = "991267001"
WINDOW = 10.0
SCENARIOS = {
    # name: (tokens, per-token limit per window, workspace limit per window)
    "app": (1, 1667, None),
    "workspace": (2, None, 4167),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sandbox(port: int, per_token: int | None, workspace: int | None, latency_ms: float) -> subprocess.Popen:
    command = [sys.executable, "-m", "connectors.intercom.sandbox", "--port", str(port), "--latency-ms", str(latency_ms)]
    if per_token:
        command += ["--rate-limit", str(per_token)]
    if workspace:
        command += ["--workspace-rate-limit", str(workspace)]
    process = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[1], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/__sandbox/state", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the sandbox did not start")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of another process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def worker(client: IntercomClient, prefix: str, deadline: float, errors: list[str]) -> None:
    """The loader's rhythm: a contact, its conversation, a reply, a read-back."""
    n = 0
    while time.monotonic() < deadline:
        n += 1
        try:
            contact = await client.contacts.create(ContactCreate(external_id=f"{prefix}-{n}", email=f"{prefix}-{n}@bench.example", name="Bench User"))
            if time.monotonic() >= deadline:
                return
            started = await client.conversations.create(
                ConversationCreate.model_validate({"from": {"type": "user", "id": contact.id}, "body": "The printer is on fire again.", "created_at": 1_600_000_000 + n})
            )
            if time.monotonic() >= deadline:
                return
            await client.conversations.reply(started.conversation_id, AdminReply(admin_id=ADMIN, body="We are on it.", created_at=1_600_000_060 + n))
            if time.monotonic() >= deadline:
                return
            await client.contacts.get(contact.id)
        except IntercomError as exc:
            errors.append(type(exc).__name__)


async def run(args: argparse.Namespace, base_url: str, tokens: int) -> dict:
    clients = [
        IntercomClient(f"bench-token-{t}", base_url=base_url, max_concurrency=args.concurrency)
        for t in range(tokens)
    ]
    errors: list[str] = []
    # Start on a window boundary (the sandbox aligns windows on multiples of 10 s of Unix
    # time) so that a 60-second run spans exactly six windows.
    await asyncio.sleep(WINDOW - time.time() % WINDOW + 0.01)
    cpu0, wall0 = time.process_time(), time.monotonic()
    deadline = wall0 + args.duration
    await asyncio.gather(
        *(worker(client, f"t{t}w{w}", deadline, errors) for t, client in enumerate(clients) for w in range(args.concurrency))
    )
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    snapshots = [client.metrics() for client in clients]
    for client in clients:
        await client.aclose()
    requests = sum(s.requests for s in snapshots)
    answered_429 = sum(s.rate_limited for s in snapshots)
    ok = requests - answered_429 - sum(count for s in snapshots for op in s.calls.values() for status, count in op.items() if not status.startswith("2") and status != "429")
    return {
        "seconds": round(wall, 2),
        "requests": requests,
        "answered_2xx": ok,
        "answered_429": answered_429,
        "share_429": round(answered_429 / requests, 5) if requests else None,
        "requests_per_second": round(requests / wall, 1),
        "ok_per_second": round(ok / wall, 1),
        "client_cpu_seconds": round(cpu, 2),
        "client_cpu_ms_per_request": round(cpu * 1000 / requests, 3) if requests else None,
        "latency_p50_ms": [round(s.latency_p50_ms or 0, 1) for s in snapshots],
        "latency_p95_ms": [round(s.latency_p95_ms or 0, 1) for s in snapshots],
        "errors": {name: errors.count(name) for name in set(errors)},
    }


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?")
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(), "load": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="app")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight per token")
    args = parser.parse_args()
    tokens, per_token, workspace = SCENARIOS[args.scenario]
    allowed_per_second = (workspace or per_token * tokens) / WINDOW
    port = free_port()
    before = machine()
    sandbox = start_sandbox(port, per_token, workspace, args.latency_ms)
    try:
        sandbox_cpu0 = process_cpu_seconds(sandbox.pid)
        result = asyncio.run(run(args, f"http://127.0.0.1:{port}", tokens))
        sandbox_cpu = process_cpu_seconds(sandbox.pid) - sandbox_cpu0
        server = httpx.get(f"http://127.0.0.1:{port}/__sandbox/stats").json()
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
    result.update(
        scenario=args.scenario,
        allowed_per_second=round(allowed_per_second, 1),
        share_of_allowed_rate=round(result["ok_per_second"] / allowed_per_second, 4),
        sandbox_cpu_ms_per_request=round(sandbox_cpu * 1000 / result["requests"], 3),
        sandbox_refused_429=server["rate_limited"],
        concurrency_per_token=args.concurrency,
        machine_before=before,
        machine_after=machine(),
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
