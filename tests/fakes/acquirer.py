"""A fake payment acquirer on 127.0.0.1: an ASGI app served by uvicorn in a thread.

It issues payment links and refunds, remembers every request (with its Idempotency-Key), answers an
Idempotency-Key it has seen with the same result, can be told to fail the next requests (429/5xx,
with Retry-After), and signs the callbacks it would send, as the real one does.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from common.signatures import hmac_sha256_hex

API_KEY = "acq-test-key-0001"
WEBHOOK_SECRET = "acq-webhook-secret-0001"


@dataclass
class FakeAcquirer:
    requests: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[int, str | None]] = field(default_factory=list)  # (status, Retry-After) for the next calls
    _answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    url: str = ""

    def fail_next(self, status: int, retry_after: str | None = None, times: int = 1) -> None:
        self.failures.extend([(status, retry_after)] * times)

    def app(self) -> Starlette:
        async def payments(request: Request) -> JSONResponse:
            return await self._answer(
                request,
                lambda body, n: {"payment_id": f"pay_{n}", "url": f"https://pay.example/{body['order_id']}/{n}"},
            )

        async def refunds(request: Request) -> JSONResponse:
            return await self._answer(request, lambda body, n: {"refund_id": f"ref_{n}", "status": "succeeded"})

        return Starlette(
            routes=[Route("/v1/payments", payments, methods=["POST"]), Route("/v1/refunds", refunds, methods=["POST"])]
        )

    async def _answer(self, request: Request, make: Any) -> JSONResponse:
        body = json.loads(await request.body())
        key = request.headers.get("idempotency-key", "")
        self.requests.append(
            {
                "path": request.url.path,
                "body": body,
                "idempotency_key": key,
                "authorization": request.headers.get("authorization"),
            }
        )
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if self.failures:
            status, retry_after = self.failures.pop(0)
            return JSONResponse(
                {"error": "try later"},
                status_code=status,
                headers={"Retry-After": retry_after} if retry_after else None,
            )
        if key not in self._answers:
            self._answers[key] = make(body, len(self._answers) + 1)
        return JSONResponse(self._answers[key])

    def served(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


def signed_callback(body: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {"X-Signature": f"sha256={hmac_sha256_hex(secret, raw)}", "content-type": "application/json"}


class Served:
    """`with Served(fake) as url:` the fake on a free port of 127.0.0.1 for the block."""

    def __init__(self, fake: FakeAcquirer) -> None:
        self.fake = fake
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(fake.app(), host="127.0.0.1", port=self.port, log_level="warning", access_log=False)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake acquirer did not start")
            time.sleep(0.02)
        self.fake.url = f"http://127.0.0.1:{self.port}"
        return self.fake.url

    def __exit__(self, *_: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
