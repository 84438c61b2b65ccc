"""Plumbing shared by the fake REST APIs: one handler, three ways to reach it.

A fake is a function `httpx.Request -> httpx.Response`. In process it runs behind
`httpx.MockTransport` (sync and async clients; `InProcess` gives a fake class its
`transport()`); `asgi_app` serves the same handler as an ASGI app, so `uvicorn` or
`httpx.ASGITransport` can reach it too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


class InProcess:
    """A fake server (a class with `handle`) reached in process through httpx."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


# where a fake's text holds this, its reply holds a byte that is not UTF-8 (a cp1252 "é"),
# as servers that pass a database's bytes through do
INVALID_BYTE = "\u2063invalid-byte\u2063"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body, ensure_ascii=False).encode("utf-8").replace(INVALID_BYTE.encode("utf-8"), b"\xe9"),
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


def text_response(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> httpx.Response:
    return httpx.Response(status, content=text.encode("utf-8"), headers={"Content-Type": content_type})


def asgi_app(handler: Handler) -> Callable:
    """An ASGI 3 app that feeds each HTTP request to `handler`."""

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "fake")
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        url = f"{scope.get('scheme', 'http')}://{host}{raw_path.decode('latin-1')}"
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        request = httpx.Request(
            scope["method"], url, headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]], content=body
        )
        response = handler(request)
        content = response.read()
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items() if k.lower() != "content-length"]
        headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    return app
