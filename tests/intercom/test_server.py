"""The sandbox as a real server: the module entry point, and faults over real sockets."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest

from connectors.intercom import IntercomClient, WriteInDoubt
from connectors.intercom.models import ContactCreate, ConversationCreate
from connectors.intercom.sandbox import Sandbox, running_server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_python_dash_m_serves_the_sandbox_with_its_options():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "connectors.intercom.sandbox", "--port", str(port), "--rate-limit", "5", "--token", "cli-token"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"{url}/me", headers={"Authorization": "Bearer cli-token"})
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        assert response.status_code == 200 and response.json()["type"] == "admin"
        assert response.headers["x-ratelimit-limit"] == "5"
        assert httpx.get(f"{url}/me", headers={"Authorization": "Bearer other"}).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(("kind", "cause", "timeout_s"), [("drop_after", "disconnected", 30), ("hang_after", "timeout", 0.5)])
async def test_a_write_lost_on_a_real_connection_is_in_doubt(kind, cause, timeout_s):
    """Only the faulted call runs under a short timeout (the hang's): the contact it needs and
    the read-back take what a loaded machine takes."""
    sandbox = Sandbox(hang_seconds=60)
    with running_server(sandbox) as url:
        async with IntercomClient("t", base_url=url, timeout=httpx.Timeout(30, connect=30)) as client, \
                IntercomClient("t", base_url=url, timeout=httpx.Timeout(timeout_s, connect=30)) as faulted:
            contact = await client.contacts.create(ContactCreate(external_id="st-1"))
            sandbox.faults.plan(kind, method="POST", path="/conversations")
            with pytest.raises(WriteInDoubt) as doubt:
                await faulted.conversations.create(ConversationCreate.model_validate({"from": {"type": "user", "id": contact.id}, "body": "x", "created_at": 1_600_000_000}))
            assert doubt.value.cause == cause
            assert len(await client.conversations.find_by_contact_and_created_at(contact.id, 1_600_000_000)) == 1
    assert sandbox.state.counts()["conversations"] == 1
