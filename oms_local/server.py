"""HTTP front of the local hub: every request goes through LocalHub.http, as through API Gateway.

A bare ASGI callable rather than a router: API Gateway routing (and its JSON 404) lives in
LocalHub, and any path, even one a router's patterns would not match, must reach it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from oms_local.runtime import LocalHub

Asgi = Callable[
    [dict[str, Any], Callable[[], Awaitable[dict[str, Any]]], Callable[[dict[str, Any]], Awaitable[None]]],
    Awaitable[None],
]


def build_app(hub: LocalHub) -> Asgi:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # nothing to set up: the hub is started before serving
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        request = Request(scope, receive)
        response: Response
        if request.url.path == "/":
            response = RedirectResponse("/v1/docs")
        else:
            body = await request.body()
            client = request.client.host if request.client else "127.0.0.1"
            # Handlers block on moto; run them off the event loop so requests overlap as on Lambda.
            answer = await run_in_threadpool(
                hub.http,
                request.method,
                request.url.path,
                query=request.url.query,
                headers=dict(request.headers),
                body=body,
                source_ip=client,
            )
            response = Response(content=answer.body, status_code=answer.status, headers=answer.headers)
        await response(scope, receive, send)

    return app


class HubTransport(httpx.BaseTransport):
    """An httpx transport straight into LocalHub.http: clients (the stock import, the bench) speak to an
    in-process hub exactly as they would over the network, minus the socket."""

    def __init__(self, hub: LocalHub) -> None:
        self.hub = hub

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.hub.http(
            request.method,
            request.url.path,
            query=request.url.query.decode(),
            headers=dict(request.headers),
            body=request.read(),
        )
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body)
