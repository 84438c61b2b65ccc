"""Benchmark: three Intercom clients side by side against one sandbox process, in one run.

    python bench/side_by_side.py --duration 60 --repeat 2

Starts `python -m connectors.intercom.sandbox` (Intercom's 1,667 requests per 10 s per
app, 100 ms of added latency, no workspace limit so that the three apps do not share a
budget), then, at the same window boundary, three client processes, each with its own
token and 32 requests in flight, the loader's rhythm of calls (create a contact, create a
conversation, three admin replies, read the contact):

- helpmig: `IntercomClient` (32 keep-alive connections on asyncio streams, `connectors/intercom/wire.py`, the pacer);
- bare httpx: 8 `httpx.AsyncClient`s x 4 connections, JSON in and out, no pacer: on a 429
  it waits for X-RateLimit-Reset and goes again;
- sdk: the official SDK (`python-intercom`, `AsyncIntercom`, one httpx client with 32
  connections), its own retries.

Each process reports the requests it sent, the answers 2xx and 429, and its own CPU time
(`time.process_time()`); the parent adds the machine's load average. `--repeat` runs the
three again (each round starts all three together). Not a test: figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from intercom_client import free_port, machine, process_cpu_seconds  # noqa: E402

ADMIN = "991267001"
WINDOW = 10.0
LIMIT = 1667
KINDS = ("helpmig", "bare", "sdk")


ROUND = ["0"]  # set per round: the sandbox keeps the contacts of earlier rounds


def contact_body(prefix: str, n: int) -> dict[str, Any]:
    key = f"{prefix}-{ROUND[0]}-{n}"
    return {"role": "user", "external_id": key, "email": f"{key}@bench.example", "name": "Bench User"}


def conversation_body(contact_id: str, n: int) -> dict[str, Any]:
    return {"from": {"type": "user", "id": contact_id}, "body": "The printer is on fire again.",
            "created_at": 1_600_000_000 + n}


def reply_body(n: int, k: int) -> dict[str, Any]:
    return {"type": "admin", "admin_id": ADMIN, "message_type": "comment", "body": f"<p>We are on it ({k}).</p>",
            "created_at": 1_600_000_060 + n + k}


class Tally:
    def __init__(self) -> None:
        self.requests = self.ok = self.limited = self.other = 0

    def saw(self, status: int) -> None:
        self.requests += 1
        if status < 300:
            self.ok += 1
        elif status == 429:
            self.limited += 1
        else:
            self.other += 1


# -- the three clients --------------------------------------------------------------------


async def helpmig_worker(client: Any, prefix: str, deadline: float) -> None:
    from connectors.intercom import IntercomError
    from connectors.intercom.models import AdminReply, ContactCreate, ConversationCreate

    n = 0
    while time.monotonic() < deadline:
        n += 1
        try:
            contact = await client.contacts.create(ContactCreate.model_validate(contact_body(prefix, n)))
            started = await client.conversations.create(ConversationCreate.model_validate(conversation_body(contact.id, n)))
            for k in range(3):
                if time.monotonic() >= deadline:
                    return
                await client.conversations.reply(started.conversation_id, AdminReply.model_validate(reply_body(n, k)))
            await client.contacts.get(contact.id)
        except IntercomError:
            pass


async def run_helpmig(url: str, token: str, deadline: float, tally: Tally) -> None:
    from connectors.intercom import IntercomClient

    async with IntercomClient(token, base_url=url, max_concurrency=32) as client:
        await asyncio.gather(*(helpmig_worker(client, f"h{w}", deadline) for w in range(32)))
        snapshot = client.metrics()
    for outcomes in snapshot.calls.values():
        for status, count in outcomes.items():
            for _ in range(count):
                tally.saw(int(status) if status.isdigit() else 599)


async def run_bare(url: str, token: str, deadline: float, tally: Tally) -> None:
    headers = {"Authorization": f"Bearer {token}", "Intercom-Version": "2.16", "Accept": "application/json"}
    clients = [httpx.AsyncClient(base_url=url, headers=headers, limits=httpx.Limits(max_connections=4,
                                                                                   max_keepalive_connections=4))
               for _ in range(8)]
    blocked_until = 0.0

    async def call(client: httpx.AsyncClient, method: str, path: str, body: Any = None) -> Any:
        nonlocal blocked_until
        while True:
            wait = blocked_until - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            response = await client.request(method, path, json=body)
            tally.saw(response.status_code)
            if response.status_code == 429:
                blocked_until = max(blocked_until, float(response.headers.get("x-ratelimit-reset", time.time() + 1)))
                continue
            return response.json()

    async def worker(w: int) -> None:
        client, n = clients[w % len(clients)], 0
        while time.monotonic() < deadline:
            n += 1
            contact = await call(client, "POST", "/contacts", contact_body(f"b{w}", n))
            started = await call(client, "POST", "/conversations", conversation_body(contact["id"], n))
            for k in range(3):
                if time.monotonic() >= deadline:
                    return
                await call(client, "POST", f"/conversations/{started['conversation_id']}/reply", reply_body(n, k))
            await call(client, "GET", f"/contacts/{contact['id']}")

    try:
        await asyncio.gather(*(worker(w) for w in range(32)))
    finally:
        for client in clients:
            await client.aclose()


async def run_sdk(url: str, token: str, deadline: float, tally: Tally) -> None:
    from intercom import AdminReplyConversationRequest, AsyncIntercom, CreateContactRequestWithExternalId
    from intercom.conversations import CreateConversationRequestFrom

    async def count(response: httpx.Response) -> None:
        tally.saw(response.status_code)

    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
                             event_hooks={"response": [count]}, timeout=60)
    sdk = AsyncIntercom(token=token, base_url=url, httpx_client=http)

    async def worker(w: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            try:
                body = contact_body(f"s{w}", n)
                contact = await sdk.contacts.create(request=CreateContactRequestWithExternalId(
                    external_id=body["external_id"], email=body["email"], name=body["name"]))
                message = await sdk.conversations.create(from_=CreateConversationRequestFrom(type="user", id=contact.id),
                                                         body="The printer is on fire again.",
                                                         created_at=1_600_000_000 + n)
                for k in range(3):
                    if time.monotonic() >= deadline:
                        return
                    reply = reply_body(n, k)
                    await sdk.conversations.reply(message.conversation_id, request=AdminReplyConversationRequest(
                        message_type="comment", admin_id=ADMIN, body=reply["body"], created_at=reply["created_at"]))
                await sdk.contacts.find(contact.id)
            except Exception:  # the SDK raises after its retries; the 429 was counted by the hook
                await asyncio.sleep(0.1)

    try:
        await asyncio.gather(*(worker(w) for w in range(32)))
    finally:
        await http.aclose()


def child(kind: str, url: str, token: str, start_at: float, duration: float) -> dict[str, Any]:
    runner = {"helpmig": run_helpmig, "bare": run_bare, "sdk": run_sdk}[kind]
    ROUND[0] = str(int(start_at))
    tally = Tally()

    async def main() -> float:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        cpu0, wall0 = time.process_time(), time.monotonic()
        await runner(url, token, wall0 + duration, tally)
        return time.process_time() - cpu0, time.monotonic() - wall0

    cpu, wall = asyncio.run(main())
    return {"kind": kind, "seconds": round(wall, 2), "requests": tally.requests, "ok": tally.ok,
            "answered_429": tally.limited, "other": tally.other, "cpu_s": round(cpu, 2),
            "cpu_ms_per_request": round(cpu * 1000 / max(tally.requests, 1), 3),
            "ok_per_s": round(tally.ok / wall, 1), "share_of_limit": round(tally.ok / wall / (LIMIT / WINDOW), 4)}


def one_round(port: int, duration: float) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}"
    start_at = time.time() + 3
    start_at += WINDOW - start_at % WINDOW  # the same window boundary for all three
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen([sys.executable, __file__, "child", kind, url, f"token-{kind}-{port}-{start_at}",
                                   str(start_at), str(duration)], stdout=subprocess.PIPE, text=True, env=env)
                 for kind in KINDS]
    results = []
    for process in processes:
        out, _ = process.communicate()
        results.append(json.loads(out.strip().splitlines()[-1]))
    bare = next(r for r in results if r["kind"] == "bare")
    for r in results:
        r["cpu_vs_bare"] = round(r["cpu_ms_per_request"] / bare["cpu_ms_per_request"], 2)
    return results


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        kind, url, token, start_at, duration = sys.argv[2:7]
        print(json.dumps(child(kind, url, token, float(start_at), float(duration))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()
    port = free_port()
    sandbox = subprocess.Popen([sys.executable, "-m", "connectors.intercom.sandbox", "--port", str(port), "--latency-ms",
                                str(args.latency_ms), "--rate-limit", str(LIMIT), "--workspace-rate-limit", "0"],
                               cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/__sandbox/state", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                sandbox.kill()
                raise SystemExit("the sandbox did not start") from None
            time.sleep(0.05)
    rounds = []
    try:
        for _ in range(args.repeat):
            before = os.getloadavg()[0]
            cpu0 = process_cpu_seconds(sandbox.pid)
            results = one_round(port, args.duration)
            sent = sum(r["requests"] for r in results)
            rounds.append({"load_before": round(before, 2), "load_after": round(os.getloadavg()[0], 2),
                           "sandbox_cpu_ms_per_request": round((process_cpu_seconds(sandbox.pid) - cpu0) * 1000 / sent, 3),
                           "clients": results})
            print(json.dumps(rounds[-1]), flush=True)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
    print(json.dumps({"machine": machine(), "rounds": rounds}, indent=1))


if __name__ == "__main__":
    main()
