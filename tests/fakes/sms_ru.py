"""A fake SMS.ru (`POST /sms/send`) on 127.0.0.1, answering as the real API documents it
(https://sms.ru/api/send): form parameters in UTF-8, `json=1` for a JSON answer, HTTP 200 with a status
and status_code per request and per number (100 taken; 200/301 bad api_id, 202 bad number, 203 no text,
204 sender not approved, 210 GET instead of POST, 212 not UTF-8, 220 service unavailable, 231 the same
text to this number within a minute).

It holds every request to that API: anything the real one would refuse, or that the hub must not send
(a parameter SMS.ru does not know, a plain-text answer asked for), is a violation that fails the test
when the server stops. Tests read the taken messages back (`messages`) and make the next answers fail:
an HTTP status, a status_code, or a delay (a timeout on the hub's side)."""

from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_ID = "A3CA597E-3ACF-4E7D-82EE-CF82B52B1A8B"
APPROVED_SENDERS = frozenset({"SHOP"})
PARAMETERS = frozenset(
    {
        "api_id",
        "login",
        "password",
        "to",
        "msg",
        "json",
        "from",
        "ip",
        "time",
        "ttl",
        "daytime",
        "translit",
        "test",
        "partner_id",
    }
)
REPEAT_WINDOW_S = 60.0


@dataclass(frozen=True)
class Failure:
    http_status: int | None = None  # answer this HTTP status
    status_code: int | None = None  # answer HTTP 200 with this request-level status_code
    message_code: int | None = None  # answer OK for the request and this status_code for the number
    delay_s: float = 0.0  # answer only after this long


@dataclass
class FakeSmsRu:
    requests: list[dict[str, str]] = field(default_factory=list)
    messages: list[dict[str, str]] = field(default_factory=list)  # taken: to, msg, from, sms_id
    violations: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    clock: Any = None  # seconds; the event loop's by default
    _ids: Any = field(default_factory=lambda: itertools.count(10000001))

    def fail_next(self, failure: Failure, times: int = 1) -> None:
        self.failures.extend([failure] * times)

    def app(self) -> Starlette:
        app = Starlette(routes=[Route("/sms/send", self._send, methods=["GET", "POST"])])
        app.partner_fake = self  # type: ignore[attr-defined]
        return app

    def assert_conforming(self) -> None:
        assert not self.violations, f"requests outside the SMS.ru API: {self.violations}"

    def _now(self) -> float:
        return float(self.clock()) if self.clock is not None else asyncio.get_running_loop().time()

    async def _send(self, request: Request) -> Response:
        raw = await request.body()
        if request.method != "POST":
            return _refused(210, "GET used where POST is required")
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            self.violations.append(f"body sent as {request.headers.get('content-type')!r}, not a form")
        try:
            form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return _refused(212, "the text must be sent in UTF-8")
        self.requests.append(form)
        unknown = set(form) - PARAMETERS
        if unknown:
            self.violations.append(f"parameters SMS.ru does not take: {sorted(unknown)}")
        if form.get("json") != "1":
            self.violations.append("json=1 missing: SMS.ru would answer in plain text")
        failure = self.failures.pop(0) if self.failures else Failure()
        if failure.delay_s:
            await asyncio.sleep(failure.delay_s)
        if failure.http_status is not None:
            return Response("Service Unavailable", status_code=failure.http_status)
        if failure.status_code is not None:
            return _refused(failure.status_code, "refused (as the test asked)")
        return self._answer(form, failure.message_code)

    def _answer(self, form: dict[str, str], message_code: int | None) -> Response:
        to, text = form.get("to", ""), form.get("msg", "")
        refusal = _refusal(form)
        if refusal is not None:
            return refusal
        if message_code is not None:
            return _per_number(to, message_code, "refused (as the test asked)")
        now = self._now()
        if any(m["to"] == to and m["msg"] == text and now - float(m["at"]) < REPEAT_WINDOW_S for m in self.messages):
            return _per_number(to, 231, "limit of identical messages to this number per minute exceeded")
        sms_id = f"000000-{next(self._ids)}"
        self.messages.append({"to": to, "msg": text, "from": form.get("from", ""), "sms_id": sms_id, "at": str(now)})
        return JSONResponse(
            {
                "status": "OK",
                "status_code": 100,
                "sms": {to: {"status": "OK", "status_code": 100, "sms_id": sms_id}},
                "balance": 4122.56,
            }
        )


def _refusal(form: dict[str, str]) -> Response | None:
    """What SMS.ru answers a request it does not take (None: it takes it)."""
    to = form.get("to", "")
    if form.get("api_id") != API_ID:
        return _refused(200, "wrong api_id")
    if "from" in form and form["from"] not in APPROVED_SENDERS:
        return _refused(204, "the sender name is not approved")
    if not form.get("msg"):
        return _per_number(to, 203, "no message text")
    if not re.fullmatch(r"[1-9][0-9]{10,14}", to):
        return _per_number(to, 202, "wrong recipient number, or no route to it")
    return None


def _refused(code: int, text: str) -> JSONResponse:
    return JSONResponse({"status": "ERROR", "status_code": code, "status_text": text})


def _per_number(to: str, code: int, text: str) -> JSONResponse:
    return JSONResponse(
        {
            "status": "OK",
            "status_code": 100,
            "sms": {to: {"status": "ERROR", "status_code": code, "status_text": text}},
            "balance": 4122.56,
        }
    )
