"""`IntercomClient`: the one object the loader holds to talk to Intercom.

    async with IntercomClient(token, region="eu") as intercom:
        created = await intercom.contacts.create(ContactCreate(external_id="st-1", email="a@b.c"))
        started = await intercom.conversations.create(ConversationCreate(...))
        snapshot = intercom.metrics()

Every operation is paced to the rate-limit window, bounded in concurrency, retried when
safe, and reported `WriteInDoubt` when not (see session.py).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import SecretStr

from connectors.intercom.clock import Clock
from connectors.intercom.config import API_VERSION, Region, RetryPolicy, base_url_for
from connectors.intercom.failures import Timeout
from connectors.intercom.metrics import MetricsSnapshot
from connectors.intercom.models import Me
from connectors.intercom.ratelimit import RatePacer
from connectors.intercom.resources.admins import Admins, Teams
from connectors.intercom.resources.attributes import ConversationAttributes, DataAttributes
from connectors.intercom.resources.companies import Companies
from connectors.intercom.resources.contacts import Contacts
from connectors.intercom.resources.conversations import Conversations
from connectors.intercom.resources.custom_objects import CustomObjects
from connectors.intercom.resources.help_center import Articles, Collections
from connectors.intercom.resources.tags import Tags
from connectors.intercom.resources.tickets import Tickets
from connectors.intercom.session import WORKSPACE_LIMIT_PER_MINUTE, IntercomSession

if TYPE_CHECKING:
    import httpx


class IntercomClient:
    """Typed access to the Intercom operations a migration needs.

    `region` picks the regional host; `base_url` overrides it (`--intercom-url`, a
    sandbox). `transport` replaces the network (httpx.ASGITransport or the in-process
    sandbox's transport). `clock` makes time injectable (tests run in virtual time).
    `token` may be several access tokens of one workspace (private apps): requests spread
    over them, each paced by its own window and all by the workspace's
    (`workspace_limit_per_minute`); `max_concurrency` is then per token.
    """

    def __init__(
        self,
        token: str | SecretStr | Sequence[str | SecretStr],
        *,
        region: Region | str = Region.US,
        base_url: str | None = None,
        version: str = API_VERSION,
        max_concurrency: int = 32,
        timeout: Timeout | httpx.Timeout | float = Timeout(60.0, connect=10.0),
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        pacer: RatePacer | None = None,
        rng: random.Random | None = None,
        workspace_limit_per_minute: int | None = WORKSPACE_LIMIT_PER_MINUTE,
    ) -> None:
        self.session = IntercomSession(
            token,
            base_url_for(region, base_url),
            version=version,
            max_concurrency=max_concurrency,
            timeout=timeout,
            retry=retry,
            clock=clock,
            transport=transport,
            pacer=pacer,
            rng=rng,
            workspace_limit_per_minute=workspace_limit_per_minute,
        )
        self.admins = Admins(self.session)
        self.teams = Teams(self.session)
        self.contacts = Contacts(self.session)
        self.companies = Companies(self.session)
        self.tags = Tags(self.session)
        self.data_attributes = DataAttributes(self.session)
        self.conversation_attributes = ConversationAttributes(self.session)
        self.conversations = Conversations(self.session)
        self.collections = Collections(self.session)
        self.articles = Articles(self.session)
        self.custom_objects = CustomObjects(self.session)
        self.tickets = Tickets(self.session)

    def __repr__(self) -> str:
        return f"IntercomClient({self.session!r})"

    @property
    def base_url(self) -> str:
        return self.session.base_url

    async def me(self) -> Me:
        """The token's admin and its workspace (region, time zone): the connection test."""
        return await self.admins.me()

    @property
    def apps(self) -> int:
        """How many access tokens (private apps) share the work."""
        return len(self.session.apps)

    def metrics(self) -> MetricsSnapshot:
        return self.session.snapshot()

    async def aclose(self) -> None:
        await self.session.aclose()

    async def __aenter__(self) -> IntercomClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
