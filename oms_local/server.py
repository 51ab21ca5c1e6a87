"""HTTP front of the local hub: every request goes through LocalHub.http, as through API Gateway."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from oms_local.runtime import LocalHub


def build_app(hub: LocalHub) -> Starlette:
    async def proxy(request: Request) -> Response:
        body = await request.body()
        client = request.client.host if request.client else "127.0.0.1"
        # Handlers block on moto; run them off the event loop so requests overlap as on Lambda.
        answer = await run_in_threadpool(
            hub.http, request.method, request.url.path, query=request.url.query,
            headers=dict(request.headers), body=body, source_ip=client)
        return Response(content=answer.body, status_code=answer.status, headers=answer.headers)

    async def home(_: Request) -> Response:
        return RedirectResponse("/v1/docs")

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/", home), Route("/{path:path}", proxy, methods=methods)])
