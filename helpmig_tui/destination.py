"""The Intercom destination: where it is, a connection test, and recording it in the project.

The test asks Intercom who the token belongs to (`/me`: workspace, region, time zone),
which admins and teams exist (source agents and groups are matched onto them), and how
many custom data attributes are already used against the workspace's 250. Several tokens
(private apps of one workspace, for a higher combined rate) must all reach the same
workspace. A project records the base URL, the region and the workspace, never a token.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from connectors.intercom import (
    Forbidden,
    IntercomApiError,
    IntercomClient,
    IntercomConnectionError,
    NotFound,
    RetryPolicy,
    Unauthorized,
)
from connectors.intercom.failures import Timeout
from connectors.intercom.models.attributes import MAX_CUSTOM_DATA_ATTRIBUTES
from helpmig_tui import redact
from helpmig_tui.logs import get_logger
from helpmig_tui.project import DESTINATION_KEY
from helpmig_tui.settings import INTERCOM_URLS, Settings
from helpmig_tui.state import ProjectStore
from helpmig_tui.state.models import Project

if TYPE_CHECKING:
    import httpx

log = get_logger("destination")

TOKEN_PLACE = "Settings > Developer Hub > your app > Authentication"
# A connection test should answer in seconds: one quick retry, short timeouts.
CHECK_RETRY = RetryPolicy(max_attempts=2, backoff_base=0.2, backoff_cap=1.0, max_rate_limit_waits=3)
CHECK_TIMEOUT = Timeout(30.0, connect=10.0)
FEW_ATTRIBUTES_LEFT = 25


class DestinationError(Exception):
    """The destination cannot be used; `hint` says what to do. Never carries the token."""

    def __init__(self, message: str, *, hint: str = "", code: str = "destination.error") -> None:
        super().__init__(message)
        self.hint = hint
        self.code = code

    def line(self) -> str:
        return redact.redact(f"{self}" + (f" ({self.hint})" if self.hint else ""))


@dataclass(frozen=True)
class DestinationUrl:
    """An Intercom API base URL, and the region it was chosen by (None for any other URL)."""

    base_url: str
    region: str | None = None


def resolve_destination(region: str | None = None, url: str | None = None) -> DestinationUrl:
    """A region's host, or any http(s) URL (a sandbox, a proxy); a regional URL keeps its region."""
    if url:
        base = url.strip().rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DestinationError(
                f"not an Intercom API URL: {url!r}",
                hint="give the API's base URL, e.g. https://api.intercom.io or http://127.0.0.1:8765",
                code="destination.bad_url",
            )
        known = {value: key for key, value in INTERCOM_URLS.items()}
        return DestinationUrl(base, known.get(base))
    chosen = (region or "us").lower()
    if chosen not in INTERCOM_URLS:
        raise DestinationError(
            f"unknown Intercom region {region!r}", hint="use us, eu or au, or give a URL", code="destination.bad_region"
        )
    return DestinationUrl(INTERCOM_URLS[chosen], chosen)


def default_destination(store: ProjectStore, settings: Settings) -> DestinationUrl:
    """The project's recorded destination, else the settings' (HELPMIG_INTERCOM_URL or _REGION)."""
    project = store.project()
    if project.intercom_url:
        return DestinationUrl(project.intercom_url, project.settings.get(DESTINATION_KEY, {}).get("region"))
    return resolve_destination(settings.intercom_region, settings.intercom_url)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str


@dataclass(frozen=True)
class TeamInfo:
    id: str
    name: str
    members: int


@dataclass(frozen=True)
class DestinationCheck:
    """What the token reached: the workspace, its admins and teams, attribute room."""

    base_url: str
    region: str | None  # as chosen; None for a custom URL
    workspace: str
    workspace_id: str
    workspace_region: str | None  # as Intercom reports it (US, EU, AU)
    time_zone: str | None
    me: Person
    admins: tuple[Person, ...]
    teams: tuple[TeamInfo, ...]
    custom_attributes: dict[str, int]  # per model (contact, company): custom, not archived
    attribute_limit: int = MAX_CUSTOM_DATA_ATTRIBUTES
    apps: int = 1  # access tokens (private apps of this workspace) the load spreads over
    limit_per_10s: int | None = None  # the requests all of them may send per 10-second window
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def attributes_free(self) -> int:
        return max(self.attribute_limit - sum(self.custom_attributes.values()), 0)

    @property
    def warnings(self) -> tuple[str, ...]:
        found = []
        if self.attributes_free < FEW_ATTRIBUTES_LEFT:
            found.append(
                f"only {self.attributes_free} of {self.attribute_limit} custom data attributes are free: "
                "archive unused ones before the map adds its own"
            )
        if not self.teams:
            found.append("the workspace has no teams: source groups will wait in the reconciliation queue")
        return tuple(found)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["checked_at"] = self.checked_at.isoformat(timespec="seconds")
        data["attributes_free"] = self.attributes_free
        data["warnings"] = list(self.warnings)
        return data

    def summary_lines(self) -> list[str]:
        """The check as text, for `helpmig connect` (the wizard lays it out itself)."""
        region = self.workspace_region or "unknown region"
        lines = [
            f"Intercom workspace {self.workspace} ({self.workspace_id}), region {region}, time zone {self.time_zone or '?'}",
            f"Reached {self.base_url} as {self.me.name} <{self.me.email}>",
            *([f"Rate limit: {self.limit_per_10s:,} requests per 10 s"
               + (f" ({self.apps} apps of this workspace together)" if self.apps > 1 else "")]
              if self.limit_per_10s else []),
            f"Admins ({len(self.admins)}):",
            *(f"  {a.id:>12}  {a.name}  {a.email}" for a in self.admins),
            f"Teams ({len(self.teams)}):",
            *(f"  {t.id:>12}  {t.name}  ({t.members} admin{'' if t.members == 1 else 's'})" for t in self.teams),
            "Custom data attributes: "
            + ", ".join(f"{n} {model}" for model, n in self.custom_attributes.items())
            + f"; {self.attributes_free} of {self.attribute_limit} free",
        ]
        lines += [f"Warning: {w}" for w in self.warnings]
        return lines


def clean_token(token: str) -> str:
    """The token without the whitespace around it (a copied line break); DestinationError
    for one with a space, line break or control character inside, which no HTTP header can
    carry (it used to surface as "cannot reach ... check the network"), and for one of
    blanks only (`HELPMIG_INTERCOM_TOKEN='   '` was a ValueError deep in the client)."""
    value = token.strip()
    if not value:
        raise DestinationError(
            "the Intercom token is empty: HELPMIG_INTERCOM_TOKEN (or the credential store) holds only blanks",
            hint=f"set it to the token from {TOKEN_PLACE}, or unset it and keep the token with "
                 "`helpmig secret set intercom_token`",
            code="destination.bad_token",
        )
    inside = next((ch for ch in value if ch.isspace() or ord(ch) < 32 or ord(ch) == 127), None)
    if inside is not None:
        what = {"\n": "a line break", "\r": "a line break", " ": "a space", "\t": "a tab"}.get(inside, "a control character")
        raise DestinationError(
            f"the Intercom token contains {what}, so it cannot be sent",
            hint=f"copy it again from {TOKEN_PLACE} as one line, then store it with `helpmig secret set intercom_token`",
            code="destination.bad_token",
        )
    return value


def _unreachable(destination: DestinationUrl, exc: Exception) -> DestinationError:
    """Why Intercom could not be reached, naming TLS when the handshake is what failed."""
    text = str(exc)
    if destination.base_url.startswith("https://") and any(
            word in text for word in ("SSL", "TLS", "WRONG_VERSION_NUMBER", "record layer")):
        plain = "http://" + destination.base_url.removeprefix("https://")
        return DestinationError(
            f"the TLS handshake with {destination.base_url} failed: {text}",
            hint=f"the port may speak plain HTTP (then use {plain}), or a proxy replaces the certificate",
            code="destination.tls_failed",
        )
    return DestinationError(
        f"cannot reach {destination.base_url}: {text}",
        hint="check the URL, the network, and that this server may reach the Intercom API (proxy, firewall)",
        code="destination.unreachable",
    )


def _token_rejected(destination: DestinationUrl) -> DestinationError:
    hint = f"check it in {TOKEN_PLACE}"
    if destination.region:
        others = ", ".join(r for r in INTERCOM_URLS if r != destination.region)
        hint += (
            f"; a token works only at its workspace's region: if the workspace is hosted in another region, "
            f"choose it ({others})"
        )
    return DestinationError(
        f"Intercom rejected the token (401) at {destination.base_url}", hint=hint, code="destination.token_rejected"
    )


async def check_destination(
    destination: DestinationUrl,
    token: str | list[str] | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy = CHECK_RETRY,
) -> DestinationCheck:
    """Reach Intercom with `token` (or several tokens of one workspace); a
    DestinationError says why not.

    `transport` replaces the network (the in-process sandbox in tests and the demo).
    """
    tokens = [t for t in ([token] if isinstance(token, str) else token or []) if t]
    if not tokens:
        raise DestinationError(
            "no Intercom access token",
            hint=f"`helpmig secret set intercom_token` keeps it, HELPMIG_INTERCOM_TOKEN sets it for one session; "
                 f"it is in {TOKEN_PLACE}",
            code="destination.token_missing",
        )
    for t in tokens:
        redact.register(t)
    tokens = [clean_token(t) for t in tokens]
    client = IntercomClient(
        tokens, base_url=destination.base_url, transport=transport, retry=retry, timeout=CHECK_TIMEOUT, max_concurrency=2
    )
    try:
        async with client:
            me = await client.me()
            await same_workspace(client, me)
            admins = await client.admins.list()
            teams = await client.teams.list()
            attributes = {model: await client.data_attributes.list(model) for model in ("contact", "company")}
    except Unauthorized:
        raise _token_rejected(destination) from None
    except Forbidden as exc:
        raise DestinationError(
            f"the token may not read {exc.path} (403)",
            hint="give the app in the Developer Hub read access to admins, teams and data attributes",
            code="destination.forbidden",
        ) from None
    except NotFound as exc:
        raise DestinationError(
            f"{destination.base_url} has no {exc.path} (404): it does not look like the Intercom API",
            hint="use the API host (https://api.intercom.io, https://api.eu.intercom.io, https://api.au.intercom.io)",
            code="destination.not_intercom",
        ) from None
    except IntercomConnectionError as exc:
        raise _unreachable(destination, exc) from None
    except IntercomApiError as exc:
        raise DestinationError(
            f"Intercom answered {exc.status} {exc.code}: {exc.error_message}", code="destination.api_error"
        ) from None
    except ValueError as exc:  # a body that is not Intercom's (an HTML page, a proxy's answer)
        raise DestinationError(
            f"{destination.base_url} did not answer like the Intercom API ({type(exc).__name__})",
            hint="check the URL: it should be the API host, not the app's web address",
            code="destination.not_intercom",
        ) from None
    app = me.app
    reported = (app.region or "").lower() if app else ""
    if destination.region and reported and reported != destination.region:
        raise DestinationError(
            f"the workspace {app.name if app else ''} is hosted in {reported.upper()}, not {destination.region.upper()}",
            hint=f"choose {reported.upper()} as the region (--region {reported})",
            code="destination.wrong_region",
        )
    check = DestinationCheck(
        base_url=destination.base_url,
        region=destination.region,
        workspace=(app.name if app else None) or "(unnamed workspace)",
        workspace_id=(app.id_code if app else None) or "",
        workspace_region=app.region if app else None,
        time_zone=app.timezone if app else None,
        me=Person(me.id, me.name or "", me.email or ""),
        admins=tuple(Person(a.id, a.name or "", a.email or "") for a in admins),
        teams=tuple(TeamInfo(t.id, t.name or "", len(t.admin_ids)) for t in teams),
        custom_attributes={
            model: sum(1 for a in found if a.custom and not a.archived) for model, found in attributes.items()
        },
        apps=len(tokens),
        limit_per_10s=client.metrics().window.limit,
    )
    log.info("Intercom at %s: workspace %s (%s), %d app(s)", check.base_url, check.workspace, check.workspace_id,
             check.apps)
    return check


async def same_workspace(client: IntercomClient, me: Any) -> None:
    """Ask /me with every further token, all at once (each app's own window is learned on the way):
    they must all belong to the first one's workspace, whose limit they share."""
    first = me.app.id_code if me.app else None
    others = await asyncio.gather(*(client.admins.me(app=n) for n in range(1, client.apps)),  # at once
                                  return_exceptions=True)
    for number, other in enumerate(others, start=2):
        if isinstance(other, Unauthorized):  # the first token was taken: say which of the others was not
            raise DestinationError(
                f"Intercom rejected token {number} (401): HELPMIG_INTERCOM_TOKEN_{number} or intercom_token_{number} "
                "in the credential store", hint=f"check that app's access token in {TOKEN_PLACE}",
                code="destination.token_rejected")
        if isinstance(other, BaseException):
            raise other
        workspace = other.app.id_code if other.app else None
        if workspace != first:
            raise DestinationError(
                f"Intercom token {number} belongs to another workspace ({workspace or 'unknown'}) than the first "
                f"({first or 'unknown'})",
                hint="every HELPMIG_INTERCOM_TOKEN_N must be an access token of an app of the same workspace",
                code="destination.tokens_mixed",
            )


def check_destination_sync(
    destination: DestinationUrl, token: str | list[str] | None, *, transport: httpx.AsyncBaseTransport | None = None
) -> DestinationCheck:
    """`check_destination` for callers without an event loop (the command line)."""
    return asyncio.run(check_destination(destination, token, transport=transport))


def record_destination(store: ProjectStore, check: DestinationCheck) -> None:
    """Keep where the project loads (URL, region, workspace); the token stays out."""
    with store.writing() as session:
        project = session.get(Project, 1)
        assert project is not None
        project.intercom_url = check.base_url
        project.settings = {
            **project.settings,
            DESTINATION_KEY: {
                "region": check.region,
                "workspace": check.workspace,
                "workspace_id": check.workspace_id,
                "workspace_region": check.workspace_region,
                "time_zone": check.time_zone,
                "checked_at": check.checked_at.isoformat(timespec="seconds"),
            },
        }
