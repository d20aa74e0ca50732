"""Embedding one client in an asyncio web service (ASGI), shared by all requests.

The client is opened once, in the app's *lifespan*, and every request uses
it: one OpenD connection, one quota, no per-request connect. This is plain
ASGI, so it runs under any ASGI server with no framework::

    pip install uvicorn
    OPEND_PORT=11111 uvicorn examples.asgi_service:app
    curl localhost:8000/watchlist/HK

With FastAPI or Starlette the lifespan function below is used as is:
``FastAPI(lifespan=...)`` / ``Starlette(lifespan=...)``, storing the client
on ``app.state``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote

import asyncquote

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@asynccontextmanager
async def lifespan(state: dict[str, Any]) -> AsyncIterator[None]:
    """Open the shared client at start-up, close it at shutdown."""
    host = os.environ.get("OPEND_HOST", "127.0.0.1")
    port = int(os.environ.get("OPEND_PORT", "11111"))
    async with asyncquote.connect(host, port) as client:
        state["client"] = client
        yield


async def watchlist(client: asyncquote.QuoteClient, group: str) -> tuple[int, object]:
    """GET /watchlist/{group}: the group as JSON rows, served from a 5-second cache."""
    try:
        items = await client.get_user_security(group, max_age=5.0)
    except asyncquote.InvalidArgumentError as exc:
        return 400, {"error": str(exc)}
    except asyncquote.OpenDError as exc:
        return 404, {"error": exc.message}
    except asyncquote.AsyncQuoteError as exc:
        return 503, {"error": str(exc)}
    return 200, [item.model_dump(mode="json") for item in items]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI application."""
    if scope["type"] == "lifespan":
        await _run_lifespan(scope, receive, send)
        return
    if scope["type"] != "http":
        return
    path: str = scope["path"]
    if scope["method"] == "GET" and path.startswith("/watchlist/"):
        group = unquote(path.removeprefix("/watchlist/"))
        status, body = await watchlist(scope["state"]["client"], group)
    else:
        status, body = 404, {"error": "try GET /watchlist/{group}"}
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _run_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    # The server keeps `scope["state"]` and copies it into every request's scope.
    state: dict[str, Any] = scope.setdefault("state", {})
    await receive()  # lifespan.startup
    started = False
    try:
        async with lifespan(state):
            await send({"type": "lifespan.startup.complete"})
            started = True
            await receive()  # lifespan.shutdown: leaving the block closes the client
    except Exception as exc:
        phase = "shutdown" if started else "startup"
        await send({"type": f"lifespan.{phase}.failed", "message": str(exc)})
        return
    await send({"type": "lifespan.shutdown.complete"})
