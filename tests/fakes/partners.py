"""Fake partner APIs (Starlette ASGI apps) with the partners' documented shapes, auth and failure modes.

Each fake records the requests it got, checks the partner's auth headers (401 otherwise) and can be
told to fail the next calls: `fail(429, retry_after=1)`, `fail(500)`, `fail("timeout")`.

Each fake also holds every request and every answer of its own to the partner's published spec
(`tests.support.partner_specs`): a request that does not conform is answered 400 and recorded in
`violations`, and `serve()` fails the test at the end of the block if any were recorded.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.partner_specs import spec

TIMEOUT_SECONDS = 2.0  # longer than the clients' test timeout
NOW = "2026-11-25T10:00:00+0300"  # CDEK writes offsets without a colon


@dataclass
class Fake:
    auth: dict[str, str]
    partner: str
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    faults: deque[tuple[int | str, dict[str, str]]] = field(default_factory=deque)
    violations: list[str] = field(default_factory=list)

    def served(self, app: Any, routes: Starlette | None = None) -> Any:
        """The ASGI app, carrying its fake so that `serve()` can hold the test to the spec at the end. A
        call the fake does not serve is still held to the spec (an operation it lacks, a deprecated one)."""

        async def unserved(request: Request) -> Response:
            refused, _ = await self._guard(request)
            return refused or JSONResponse({"message": "not served by the fake"}, 404)

        (routes or app).router.routes.append(
            Route("/{rest:path}", unserved, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        )
        app.partner_fake = self
        return app

    def assert_conforming(self) -> None:
        assert not self.violations, f"requests or answers outside the {self.partner} spec: {self.violations}"

    def check_answer(self, request: Request, response: Response) -> None:
        raw = bytes(response.body)
        body = json.loads(raw) if raw else None
        self.violations += spec(self.partner).response_violations(
            request.method, request.url.path, response.status_code, body
        )

    def fail(self, status: int | str, times: int = 1, retry_after: float | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.faults.extend([(status, headers)] * times)

    def calls(self, path: str) -> list[Any]:
        return [body for _, p, body in self.requests if p == path]

    async def _guard(self, request: Request) -> tuple[Response | None, Any]:
        raw = await request.body()
        body = (
            json.loads(raw) if raw and request.headers.get("content-type", "").startswith("application/json") else raw
        )
        self.requests.append((request.method, request.url.path, body))
        problems = spec(self.partner).request_violations(
            request.method,
            request.url.path,
            request.headers,
            request.query_params,
            request.headers.get("content-type", ""),
            raw,
        )
        if problems:
            self.violations += problems
            return JSONResponse({"message": "; ".join(problems)}, 400), body
        if self.faults:
            status, headers = self.faults.popleft()
            if status == "timeout":
                await asyncio.sleep(TIMEOUT_SECONDS)
                return JSONResponse({}, 200), body
            return JSONResponse({"message": "fault"}, int(status), headers=headers), body
        for header, value in self.auth.items():
            if request.headers.get(header) != value:
                return JSONResponse({"message": "unauthorized"}, 401), body
        return None, body


def _route(fake: Fake, path: str, methods: list[str], answer: Any) -> Route:
    async def endpoint(request: Request) -> Response:
        refused, body = await fake._guard(request)
        if refused is not None:
            return refused
        result = answer(request, body)
        response = result if isinstance(result, Response) else JSONResponse(result)
        fake.check_answer(request, response)
        return response

    return Route(path, endpoint, methods=methods)


# ------------------------------------------------------------------ Ozon

LIVE_OZON: weakref.WeakValueDictionary[int, FakeOzon] = weakref.WeakValueDictionary()


def ozon_pushed(push: dict[str, Any]) -> None:
    """Ozon holds every posting it pushes: each live fake Ozon learns the posting of a TYPE_NEW_POSTING."""
    if push.get("message_type") == "TYPE_NEW_POSTING" and isinstance(push.get("posting_number"), str):
        for fake in list(LIVE_OZON.values()):
            fake.hold(push)


class FakeOzon(Fake):
    def __init__(self) -> None:
        super().__init__({"Client-Id": "836", "Api-Key": "ozon-key"}, "ozon")
        self.postings: list[dict[str, Any]] = []  # unfulfilled/list
        self.held: dict[str, dict[str, Any]] = {}  # /v3/posting/fbs/get, by posting number
        self.shipped: set[str] = set()
        self.substatus = "posting_awaiting_passport_data"  # of shipped postings
        self.offers: dict[int, str] = {147451959: "SKU-A"}  # Ozon sku -> the seller's offer id
        self.prices: dict[str, str] = {"SKU-A": "1390.000000"}  # offer id -> unit price, as Ozon writes it
        self.stocks: dict[tuple[str, int], int] = {}
        self.unknown_offers: set[str] = set()  # per-pair failures inside a 200
        LIVE_OZON[id(self)] = self

    def hold(self, push: dict[str, Any]) -> None:
        """The posting behind a push: its products with the seller's offer ids and prices (a push may lack both)."""
        products = []
        for product in push.get("products") or []:
            offer = product.get("offer_id") or self.offers.get(product.get("sku", 0), "")
            products.append(
                {
                    "sku": product.get("sku", 0),
                    "offer_id": offer,
                    "quantity": product.get("quantity", 1),
                    "name": offer or "product",
                    "price": self.prices.get(offer, "1000.000000"),
                    "currency_code": "RUB",
                }
            )
        self.held[push["posting_number"]] = {
            "posting_number": push["posting_number"],
            "status": "awaiting_packaging",
            "substatus": "posting_created",
            "products": products,
            **({"shipment_date": push["shipment_date"]} if push.get("shipment_date") else {}),
        }

    def app(self) -> Starlette:
        def unfulfilled(request: Request, body: dict[str, Any]) -> Any:
            page = self.postings[body["offset"] : body["offset"] + body["limit"]]
            return {"result": {"postings": page, "count": len(self.postings)}}

        def ship(request: Request, body: dict[str, Any]) -> Any:
            numbers = [
                f"{body['posting_number']}-{n}" if len(body["packages"]) > 1 else body["posting_number"]
                for n, _ in enumerate(body["packages"], 1)
            ]
            self.shipped.update(numbers)
            return {"result": numbers}

        def stocks(request: Request, body: dict[str, Any]) -> Any:
            result = []
            for item in body["stocks"]:
                known = item["offer_id"] not in self.unknown_offers
                if known:
                    self.stocks[(item["offer_id"], item["warehouse_id"])] = item["stock"]
                result.append(
                    {
                        "offer_id": item["offer_id"],
                        "warehouse_id": item["warehouse_id"],
                        "product_id": 0,
                        "updated": known,
                        "errors": [] if known else [{"code": "NOT_FOUND", "message": "product not found"}],
                    }
                )
            return {"result": result}

        def get(request: Request, body: dict[str, Any]) -> Any:
            number = body["posting_number"]
            if number in self.shipped:
                return {"result": {"posting_number": number, "status": "awaiting_deliver", "substatus": self.substatus}}
            if number not in self.held:
                return JSONResponse({"code": 5, "message": "posting not found", "details": []}, 404)
            return {"result": self.held[number]}

        return self.served(
            Starlette(
                routes=[
                    _route(self, "/v3/posting/fbs/unfulfilled/list", ["POST"], unfulfilled),
                    _route(self, "/v4/posting/fbs/ship", ["POST"], ship),
                    _route(self, "/v3/posting/fbs/get", ["POST"], get),
                    _route(self, "/v2/products/stocks", ["POST"], stocks),
                ]
            )
        )


# ------------------------------------------------------------------ Wildberries


class FakeWildberries(Fake):
    def __init__(self) -> None:
        super().__init__({"Authorization": "wb-token"}, "wildberries")
        self.new: list[dict[str, Any]] = []
        self.statuses: dict[int, tuple[str, str]] = {}
        self.supplies: dict[str, set[int]] = {}
        self.ignored_orders: set[int] = set()  # PATCH answers 204 and changes nothing
        self.stocks: dict[int, int] = {}  # by chrtId
        self.ignored_chrt: set[int] = set()  # PUT answers 204 and changes nothing
        self.delivered: list[str] = []

    def app(self) -> Starlette:
        ids = itertools.count(1)

        def new(request: Request, body: Any) -> Any:
            return {"orders": self.new}

        def status(request: Request, body: dict[str, Any]) -> Any:
            return {
                "orders": [
                    {"id": i, "supplierStatus": self.statuses[i][0], "wbStatus": self.statuses[i][1]}
                    for i in body["orders"]
                    if i in self.statuses
                ]
            }

        def create_supply(request: Request, body: Any) -> Any:
            supply = f"WB-GI-{next(ids)}"
            self.supplies[supply] = set()
            return JSONResponse({"id": supply}, 201)

        def add_orders(request: Request, body: dict[str, Any]) -> Any:
            self.supplies[request.path_params["supply"]].update(set(body["orders"]) - self.ignored_orders)
            return Response(status_code=204)

        def supply_order_ids(request: Request, body: Any) -> Any:
            return {"orderIds": sorted(self.supplies[request.path_params["supply"]])}

        def put_stocks(request: Request, body: dict[str, Any]) -> Any:
            self.stocks.update(
                (s["chrtId"], s["amount"]) for s in body["stocks"] if s["chrtId"] not in self.ignored_chrt
            )
            return Response(status_code=204)

        def read_stocks(request: Request, body: dict[str, Any]) -> Any:
            return {"stocks": [{"chrtId": c, "amount": self.stocks[c]} for c in body["chrtIds"] if c in self.stocks]}

        def deliver(request: Request, body: Any) -> Any:
            self.delivered.append(request.path_params["supply"])
            return Response(status_code=204)

        return self.served(
            Starlette(
                routes=[
                    _route(self, "/api/v3/orders/new", ["GET"], new),
                    _route(self, "/api/v3/orders/status", ["POST"], status),
                    _route(self, "/api/v3/supplies", ["POST"], create_supply),
                    _route(self, "/api/marketplace/v3/supplies/{supply}/orders", ["PATCH"], add_orders),
                    _route(self, "/api/marketplace/v3/supplies/{supply}/order-ids", ["GET"], supply_order_ids),
                    _route(self, "/api/v3/supplies/{supply}/deliver", ["PATCH"], deliver),
                    _route(self, "/api/v3/stocks/{warehouse}", ["PUT"], put_stocks),
                    _route(self, "/api/v3/stocks/{warehouse}", ["POST"], read_stocks),
                ]
            )
        )


# ------------------------------------------------------------------ Yandex Market


class FakeYandexMarket(Fake):
    """Answers 420 when more than 2 requests of the account are in flight."""

    def __init__(self) -> None:
        super().__init__({"Api-Key": "ym-key"}, "yandex_market")
        self.in_flight = 0
        self.most_in_flight = 0
        self.refused: set[int] = set()  # orders the batch update reports as failed
        self.stocks: dict[str, int] = {}
        self._lock = threading.Lock()

    def app(self) -> Starlette:
        fake = self

        def set_status(request: Request, body: dict[str, Any]) -> Any:
            return {
                "order": market_order(
                    int(request.path_params["order"]),
                    body["order"]["status"],
                    body["order"].get("substatus", "STARTED"),
                )
            }

        def batch(request: Request, body: dict[str, Any]) -> Any:
            return {
                "status": "OK",
                "result": {
                    "orders": [
                        {
                            "id": o["id"],
                            "status": o["status"],
                            "updateStatus": "ERROR" if o["id"] in fake.refused else "OK",
                            **({"errorDetails": "status cannot be changed"} if o["id"] in fake.refused else {}),
                        }
                        for o in body["orders"]
                    ]
                },
            }

        def stocks(request: Request, body: dict[str, Any]) -> Any:
            fake.stocks.update((s["sku"], s["items"][0]["count"]) for s in body["skus"])
            return {"status": "OK"}

        routes = [
            _route(self, "/v2/campaigns/{campaign}/orders/{order}/status", ["PUT"], set_status),
            _route(self, "/v2/campaigns/{campaign}/orders/status-update", ["POST"], batch),
            _route(self, "/v2/campaigns/{campaign}/offers/stocks", ["PUT"], stocks),
        ]
        inner = Starlette(routes=routes)

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return await inner(scope, receive, send)
            with fake._lock:
                fake.in_flight += 1
                fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                over = fake.in_flight > 2
            try:
                if over:
                    return await JSONResponse({"status": "ERROR"}, 420)(scope, receive, send)
                await asyncio.sleep(0.05)  # long enough for parallel callers to overlap
                await inner(scope, receive, send)
            finally:
                with fake._lock:
                    fake.in_flight -= 1

        return self.served(app, inner)


def market_order(order_id: int, status: str, substatus: str) -> dict[str, Any]:
    """An OrderDTO with every field Market's spec requires."""
    return {
        "id": order_id,
        "status": status,
        "substatus": substatus,
        "creationDate": "25-11-2026 10:00:00",
        "currency": "RUR",
        "itemsTotal": 1390,
        "deliveryTotal": 0,
        "buyerItemsTotalBeforeDiscount": 1390,
        "paymentType": "PREPAID",
        "paymentMethod": "YANDEX",
        "fake": False,
        "taxSystem": "OSN",
        "items": [
            {
                "id": 1,
                "offerId": "SKU-A",
                "offerName": "SKU-A",
                "price": 1390,
                "buyerPrice": 1390,
                "buyerPriceBeforeDiscount": 1390,
                "count": 1,
            }
        ],
        "delivery": {
            "type": "DELIVERY",
            "serviceName": "Market courier",
            "deliveryPartnerType": "YANDEX_MARKET",
            "dates": {"fromDate": "26-11-2026"},
            "deliveryServiceId": 1006360,
        },
        "buyer": {"type": "PERSON"},
    }


# ------------------------------------------------------------------ CDEK


class FakeCdek(Fake):
    """OAuth2 client credentials; `revoke()` makes the current token expire early (mid-run)."""

    def __init__(self, expires_in: int = 3600) -> None:
        super().__init__({}, "cdek")
        self.expires_in = expires_in
        self.valid: set[str] = set()
        self.tokens = itertools.count(1)
        self.orders: list[dict[str, Any]] = []
        self.invalid_numbers: set[str] = set()
        self.webhooks: list[dict[str, Any]] = []

    def revoke(self) -> None:
        self.valid.clear()

    def app(self) -> Starlette:
        fake = self

        def token(request: Request, body: Any) -> Any:
            form = dict(pair.split("=", 1) for pair in body.decode().split("&"))
            if form.get("client_id") != "cdek-id" or form.get("client_secret") != "cdek-secret":
                return JSONResponse({"error": "invalid_client"}, 401)
            value = f"token-{next(fake.tokens)}"
            fake.valid.add(value)
            return {
                "access_token": value,
                "token_type": "bearer",
                "expires_in": fake.expires_in,
                "scope": "order:all payment:all",
                "jti": f"jti-{value}",
            }

        def expired(request: Request) -> Response | None:
            if request.headers.get("Authorization", "").removeprefix("Bearer ") in fake.valid:
                return None
            return JSONResponse(
                {
                    "requests": [
                        {
                            "type": "AUTH",
                            "date_time": NOW,
                            "state": "INVALID",
                            "errors": [{"code": "v2_token_expired", "message": "token expired"}],
                        }
                    ]
                },
                401,
            )

        def create(request: Request, body: dict[str, Any]) -> Any:
            if refused := expired(request):
                return refused
            if body["number"] in fake.invalid_numbers:
                return JSONResponse(
                    {
                        "entity": {"uuid": "x"},
                        "requests": [
                            {
                                "type": "CREATE",
                                "date_time": NOW,
                                "state": "INVALID",
                                "errors": [{"code": "v2_field_is_empty", "message": "recipient.phones is empty"}],
                            }
                        ],
                    },
                    202,
                )
            fake.orders.append(body)
            return JSONResponse(
                {
                    "entity": {"uuid": f"uuid-{len(fake.orders)}"},
                    "requests": [{"type": "CREATE", "date_time": NOW, "state": "ACCEPTED"}],
                },
                202,
            )

        def subscribe(request: Request, body: dict[str, Any]) -> Any:
            if refused := expired(request):
                return refused
            fake.webhooks.append(body)
            return {
                "entity": {"uuid": f"hook-{len(fake.webhooks)}"},
                "requests": [{"type": "CREATE", "date_time": NOW, "state": "SUCCESSFUL"}],
            }

        return self.served(
            Starlette(
                routes=[
                    _route(self, "/v2/oauth/token", ["POST"], token),
                    _route(self, "/v2/orders", ["POST"], create),
                    _route(self, "/v2/webhooks", ["POST"], subscribe),
                ]
            )
        )
