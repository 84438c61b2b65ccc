"""The Naumen SMP REST calls ITSM 365 offers: find, get, get-file, check-status.

Every request carries `accessKey` as a query parameter (masked in every message and
log). An invalid key is answered with HTTP 500 and a body saying the key was not
found: that becomes "access key rejected". `find` replies are a plain array or a
`{value, Count}` envelope; both are accepted, anything else is a malformed reply.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from connectors.base import SourceError
from connectors.http_session import HttpSession, HttpStatusError, RetryPolicy

REST = "/services/rest"
_KEY_REJECTED = re.compile(r"(?i)(access\s*key|accesskey|authori[sz]ation\s+key|ключ)")


def encode_filter(filter: Mapping[str, Any], style: str = "base64") -> str:
    """A find filter for the URL path: `40x` + base64url(JSON) (safe in any path) or raw JSON."""
    text = json.dumps(dict(filter), ensure_ascii=False, separators=(",", ":"))
    if style == "json":
        return text
    return "40x" + base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


class NaumenClient:
    def __init__(
        self,
        base_url: str,
        access_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        policy: RetryPolicy | None = None,
        verify: bool = True,
        timeout: float = 120.0,
        filter_style: str = "base64",
    ) -> None:
        if not access_key:
            raise SourceError(
                "ITSM 365 needs an access key",
                hint="give the secret itsm365_access_key (an employee's REST access key)",
                code="source.auth_missing",
            )
        kwargs: dict[str, Any] = {}
        if sleep is not None:
            kwargs["sleep"] = sleep
        self.session = HttpSession(
            base_url,
            label="ITSM 365",
            secrets=[access_key],
            secret_params=["accessKey"],
            params={"accessKey": access_key},
            headers={"Accept": "application/json"},
            transport=transport,
            timeout=timeout,
            verify=verify,
            policy=policy,
            on_status=self._status_hook,
            **kwargs,
        )
        self.filter_style = filter_style

    def _status_hook(self, response: httpx.Response, what: str) -> None:
        if response.status_code == 500 and _KEY_REJECTED.search(response.text[:2000]):
            raise HttpStatusError(
                f"ITSM 365 access key rejected by {self.session.where(self.session.base_url)}",
                hint="the key is wrong, expired or belongs to another tenant; create a new one for a read-only employee",
                status=500,
                code="source.auth_rejected",
            )

    def check_status(self) -> str:
        response = self.session.request("GET", f"{REST}/check-status", what="check-status")
        return response.text.strip()[:200]

    def find(self, fqn: str, filter: Mapping[str, Any] | None, attrs: Sequence[str], *,
             what: str) -> tuple[list[dict], int | None]:
        """The objects found, and the total the server announced (an envelope's Count) or None."""
        path = f"{REST}/find/{fqn}"
        if filter:
            path += "/" + encode_filter(filter, self.filter_style)
        _, body = self.session.fetch_json("GET", path, what=what, params={"attrs": ",".join(attrs)})
        return self.rows(body, what)

    def rows(self, body: Any, what: str) -> tuple[list[dict], int | None]:
        total = None
        if isinstance(body, dict) and isinstance(body.get("value"), list):
            rows = body["value"]
            count = body.get("Count", body.get("count"))
            total = count if isinstance(count, int) and not isinstance(count, bool) else None
        elif isinstance(body, list):
            rows = body
        else:
            raise SourceError(
                f"ITSM 365 sent an unexpected reply shape for {what}: {type(body).__name__}",
                hint="expected a JSON array or {value, Count}",
                code="source.malformed",
            )
        if not all(isinstance(row, dict) for row in rows):
            raise SourceError(f"ITSM 365 sent non-object items for {what}", code="source.malformed")
        return rows, total

    def get(self, uuid: str, attrs: Sequence[str], *, what: str) -> dict | None:
        status, body = self.session.fetch_json(
            "GET", f"{REST}/get/{uuid}", what=what, params={"attrs": ",".join(attrs)}, allow=(404,)
        )
        if status == 404:
            return None
        if not isinstance(body, dict):
            raise SourceError(f"ITSM 365 sent an unexpected reply shape for {what}", code="source.malformed")
        return body

    def get_file(self, uuid: str) -> bytes:
        return self.session.download(f"{REST}/get-file/{uuid}", what=f"file {uuid}")

    def close(self) -> None:
        self.session.close()
