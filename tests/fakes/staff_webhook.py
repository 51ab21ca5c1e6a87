"""A receiver of the hub's staff webhook (`POST`, docs/notifications.md "Staff notifications") on 127.0.0.1,
checking each post as the docs tell a receiver to: the HMAC-SHA256 of "<timestamp>.<raw body>" under the shared
secret compared in constant time, a timestamp at most 5 minutes from its own clock, and the documented JSON.

Written from the docs, not from the hub's code: a post that fails a check is a violation that fails the test
when the server stops. Tests read the accepted posts back (`received`) and make the next answers an HTTP
status or a delay (a timeout on the hub's side)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PATH = "/hooks/sla"
TOLERANCE_S = 300
FIELDS = {"type", "order_id", "status", "channel", "location_id", "role", "due_at", "overdue_seconds", "link"}
TYPES = {"sla.warned", "sla.escalated", "sla.breached"}


@dataclass(frozen=True)
class Answer:
    status: int = 200
    delay_s: float = 0.0


@dataclass
class FakeStaffWebhook:
    secret: str
    received: list[dict[str, Any]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    posts: int = 0
    in_flight: int = 0
    most_in_flight: int = 0  # the most posts being answered at one time

    def answer_next(self, answer: Answer, times: int = 1) -> None:
        self.answers.extend([answer] * times)

    def app(self) -> Starlette:
        app = Starlette(routes=[Route(PATH, self._post, methods=["POST"])])
        app.partner_fake = self  # type: ignore[attr-defined]
        return app

    def assert_conforming(self) -> None:
        assert not self.violations, f"posts outside the staff webhook's documented form: {self.violations}"

    def _refusal(self, request: Request, raw: bytes) -> str | None:
        timestamp = request.headers.get("x-omshub-timestamp", "")
        signature = request.headers.get("x-omshub-signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_S:
            return f"timestamp {timestamp!r} is not within {TOLERANCE_S} s of now"
        expected = (
            "sha256=" + hmac.new(self.secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return "the signature does not match"
        if request.headers.get("content-type") != "application/json":
            return f"content-type {request.headers.get('content-type')!r}"
        body = json.loads(raw)
        if set(body) != FIELDS or body["type"] not in TYPES or not isinstance(body["overdue_seconds"], int):
            return f"body {body!r}"
        return None

    async def _post(self, request: Request) -> Response:
        self.posts += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: Request) -> Response:
        raw = await request.body()
        refusal = self._refusal(request, raw)
        if refusal is not None:
            self.violations.append(refusal)
            return Response(status_code=401)
        answer = self.answers.pop(0) if self.answers else Answer()
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        if answer.status < 300:
            self.received.append(json.loads(raw))
        return Response(status_code=answer.status)
