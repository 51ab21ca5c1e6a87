"""A fake Loymax-like loyalty provider on 127.0.0.1, the shape functions/loyalty/adapters/loymax.py documents
(docs/loyalty.md): `POST /v1/purchases/{purchase_id}/{hold|confirm|cancel|refund|accrue|cancel_accrual}`, a bearer
token and `{operation_id, card, points, amount?}`.

It keeps each card's balance and each purchase's held and written-off points, does each operation_id once
(a repeat gets the first answer with `repeated: true`; the same id with another body is refused as
`operation_conflict`), and refuses what the real flow would: a wrong token (401 unauthorized), an
unknown card (404 card_not_found), more points than the card has (422 not_enough_points), confirming,
cancelling or refunding more than the purchase holds, had written off or accrued (409 nothing_held). A request
outside the shape (a field it does not know, a missing operation_id, a non-integer point count) is a
violation that fails the test when the server stops. Tests make the next answers fail (an HTTP status or
a delay)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import serve

TOKEN = "loymax-test-token-5f1c"
CALLS = frozenset({"hold", "confirm", "cancel", "refund", "accrue", "cancel_accrual"})
FIELDS = frozenset({"operation_id", "card", "points", "amount"})


@dataclass(frozen=True)
class Failure:
    http_status: int | None = None
    delay_s: float = 0.0


@dataclass
class Purchase:
    card: str
    held: int = 0
    written_off: int = 0
    accrued: int = 0


@dataclass
class FakeLoymax:
    balances: dict[str, int] = field(default_factory=dict)  # card -> points
    purchases: dict[str, Purchase] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)  # every request: call, purchase, body
    done: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)  # id -> (body, answer)
    violations: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    url: str = ""  # where it is served

    def fail_next(self, failure: Failure, times: int = 1) -> None:
        self.failures.extend([failure] * times)

    def app(self) -> Starlette:
        app = Starlette(routes=[Route("/v1/purchases/{purchase_id}/{call}", self._operate, methods=["POST"])])
        app.partner_fake = self  # type: ignore[attr-defined]
        return app

    def assert_conforming(self) -> None:
        assert not self.violations, f"requests outside the provider's API: {self.violations}"

    def operations(self, call: str | None = None) -> list[dict[str, Any]]:
        """The operations done (once each), in order."""
        return [body for body, answer in self.done.values() if call is None or answer["call"] == call]

    async def _operate(self, request: Request) -> Response:
        call, purchase_id = request.path_params["call"], request.path_params["purchase_id"]
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.requests.append({"call": call, "purchase_id": purchase_id, "body": body})
        failure = self.failures.pop(0) if self.failures else Failure()
        if failure.delay_s:
            await asyncio.sleep(failure.delay_s)
        if failure.http_status is not None:
            return JSONResponse({"error": {"code": "unavailable", "message": "as the test asked"}}, failure.http_status)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return _refused(401, "unauthorized", "no or a wrong bearer token")
        problem = self._violation(call, body)
        if problem is not None:
            self.violations.append(problem)
            return _refused(400, "invalid_request", problem)
        return self._answer(call, purchase_id, body)

    def _violation(self, call: str, body: Any) -> str | None:
        if call not in CALLS or not isinstance(body, dict):
            return f"no such operation ({call}) or a body that is not a JSON object"
        if set(body) - FIELDS:
            return f"fields the provider does not take: {sorted(set(body) - FIELDS)}"
        if not isinstance(body.get("operation_id"), str) or not body["operation_id"]:
            return "no operation_id"
        if not isinstance(body.get("card"), str) or not isinstance(body.get("points"), int) or body["points"] <= 0:
            return "card and a positive whole number of points are required"
        if call in ("hold", "accrue") and not isinstance(body.get("amount"), (int, float)):
            return f"{call} needs the purchase's amount"
        return None

    def _answer(self, call: str, purchase_id: str, body: dict[str, Any]) -> Response:
        operation_id = body["operation_id"]
        if operation_id in self.done:
            first, answer = self.done[operation_id]
            if first != body or answer["call"] != call:
                return _refused(409, "operation_conflict", "this operation_id was used for another operation")
            return JSONResponse({**answer["body"], "repeated": True})
        card, points = body["card"], body["points"]
        if card not in self.balances:
            return _refused(404, "card_not_found", f"card {card} is not registered")
        purchase = self.purchases.setdefault(purchase_id, Purchase(card))
        refusal = self._move(call, purchase, points)
        if refusal is not None:
            return refusal
        answer = {"operation_id": operation_id, "points": points, "balance": self.balances[card], "repeated": False}
        self.done[operation_id] = (body, {"call": call, "body": answer})
        return JSONResponse(answer)

    def _move(self, call: str, purchase: Purchase, points: int) -> Response | None:
        card = purchase.card
        if call == "hold":
            if self.balances[card] < points:
                return _refused(422, "not_enough_points", f"card {card} has {self.balances[card]} points")
            self.balances[card] -= points
            purchase.held += points
        elif call in {"confirm", "cancel"}:
            if purchase.held < points:
                return _refused(409, "nothing_held", f"the purchase holds {purchase.held} points")
            purchase.held -= points
            if call == "confirm":
                purchase.written_off += points
            else:
                self.balances[card] += points
        elif call == "refund":
            if purchase.written_off < points:
                return _refused(409, "nothing_held", f"the purchase had {purchase.written_off} points written off")
            purchase.written_off -= points
            self.balances[card] += points
        elif call == "accrue":
            self.balances[card] += points
            purchase.accrued += points
        else:
            if purchase.accrued < points:
                return _refused(409, "nothing_held", f"the purchase accrued {purchase.accrued} points")
            self.balances[card] -= points  # the card may go below zero: the customer spent the points already
            purchase.accrued -= points
        return None


def _refused(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


@contextmanager
def served(balances: dict[str, int]) -> Iterator[FakeLoymax]:
    """A provider on 127.0.0.1 holding `balances`; every request it took is checked against its API at the end."""
    fake = FakeLoymax(balances=balances)
    with serve(fake.app()) as url:
        fake.url = url
        yield fake
    fake.assert_conforming()
