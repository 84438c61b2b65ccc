"""What the loader records when an injected httpx transport fails a conversation's create:
one failure of each meaning (nothing sent, sent and maybe applied, hopeless) in one load.
The session reads them as the wire's failures (`connectors/intercom/httpx_sender.py`);
`tests/intercom/test_transport_failures.py` holds every httpx failure class."""

from __future__ import annotations

import json
from collections import Counter

import httpx
from sqlalchemy import select

from helpmig_tui.demo import prepare_demo
from helpmig_tui.pipeline.context import LoadOptions
from helpmig_tui.pipeline.session import Destination, PipelineSession
from helpmig_tui.project import open_project
from helpmig_tui.state.models import JournalEntry

# what the n-th conversation met: the failure, raised before or after the sandbox applied it, and how often
FATES = [(httpx.ConnectTimeout, "before", "once"), (httpx.ReadTimeout, "after", "once"),
         (httpx.UnsupportedProtocol, "before", "always")]


class Failing(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.fate: dict[tuple[str, int], int] = {}  # a conversation (its contact, created_at) -> its row in FATES
        self.posts: Counter[int] = Counter()  # creates sent, per row of FATES

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST" or request.url.path != "/conversations":
            return await self.inner.handle_async_request(request)
        body = json.loads(await request.aread())
        which = (body["from"]["id"], body["created_at"])
        if which not in self.fate and len(self.fate) < len(FATES):
            self.fate[which] = len(self.fate)
        row = self.fate.get(which)
        if row is None:
            return await self.inner.handle_async_request(request)
        self.posts[row] += 1
        failure, when, how_often = FATES[row]
        if how_often == "once" and self.posts[row] > 1:
            return await self.inner.handle_async_request(request)
        if when == "after":
            await self.inner.handle_async_request(request)
        raise failure(f"{failure.__name__} on purpose", request=request)


async def test_each_meaning_of_a_failure_ends_as_the_loader_records_it(tmp_path):
    from helpmig_tui.settings import resolve_paths

    paths = resolve_paths(tmp_path)
    demo = prepare_demo(paths, "smartertrack", 10)
    target = demo.target()
    transport = Failing(target.transport)
    async with PipelineSession(paths, demo.project, Destination(target.base_url, target.token, transport),
                               source=demo.source_factory(), close_source=True) as session:
        await session.load(LoadOptions(sample=4, accept_gates=True))  # a sample: 4 records of each object
    assert len(transport.fate) == len(FATES)
    # nothing sent: sent again; applied then lost: read back and found, never sent again; hopeless: once
    assert [transport.posts[row] for row in range(len(FATES))] == [2, 1, 1]
    with open_project(paths, demo.project) as store, store.reader() as db:
        rows = db.execute(select(JournalEntry.status, JournalEntry.intercom_id, JournalEntry.last_error)
                          .where(JournalEntry.kind.in_(("conversation", "conversation_segment")))).all()
    failed = [error for status, _, error in rows if status == "failed"]
    assert len(failed) == 1 and "UnsupportedProtocol: UnsupportedProtocol on purpose" in failed[0]
    made = [c["id"] for c in demo.sandbox.store.all("conversations")]
    assert sorted(made) == sorted(intercom_id for status, intercom_id, _ in rows if status == "done")
    assert len(rows) == len(made) + 1 and not [status for status, _, _ in rows if status not in ("done", "failed")]
