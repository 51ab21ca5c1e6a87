"""Fake partner APIs (Starlette ASGI apps) with the partners' documented shapes, auth and failure modes.

Each fake records the requests it got, checks the partner's auth headers (401 otherwise) and can be
told to fail the next calls: `fail(429, retry_after=1)`, `fail(500)`, `fail("timeout")`.

Each fake also holds every request and every answer of its own to the partner's published spec
(`tests.support.partner_specs`): a request that does not conform is answered 400 and recorded in
`violations`, and `serve()` fails the test at the end of the block if any were recorded.

The marketplaces' stock APIs enforce the partners' own limits (`Budget`: requests, or Market's SKUs, per
60 s on the clock the fake reads, `now`, which a test or the bench may replace with its own; a test may
scale a budget down): Ozon answers 429 beyond 80 stock calls a minute and a per-item TOO_MANY_REQUESTS to a
pair updated twice within 30 s; Wildberries 429 beyond 300 a minute, a 409 costing 10, and 204 to what it
does not know; Market 420 beyond two requests in flight or 100,000 SKUs a minute.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema_rs
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.partner_specs import spec

TIMEOUT_SECONDS = 2.0  # longer than the clients' test timeout
NOW = "2026-11-25T10:00:00+0300"  # CDEK writes offsets without a colon


class Budget:
    """What a partner lets one account spend in a sliding window (requests, or SKUs for Market), on the
    fake's clock. `spend` answers the seconds to wait (Retry-After) when the spend does not fit, else None."""

    def __init__(self, limit: int, now: Callable[[], float], window: float = 60.0) -> None:
        self.limit = limit
        self.now = now
        self.window = window
        self.spent: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def _used(self, at: float) -> int:
        while self.spent and self.spent[0][0] <= at - self.window:
            self.spent.popleft()
        return sum(weight for _, weight in self.spent)

    def spend(self, weight: int = 1) -> float | None:
        with self._lock:
            at = self.now()
            if self._used(at) + weight > self.limit:
                return max(self.spent[0][0] + self.window - at, 0.0) if self.spent else self.window
            self.spent.append((at, weight))
            return None

    def charge(self, weight: int) -> None:
        """More of the budget for what was already answered (Wildberries' 409 counts as 10)."""
        with self._lock:
            self.spent.append((self.now(), weight))


@dataclass
class Fake:
    auth: dict[str, str]
    partner: str
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    faults: deque[tuple[int | str, dict[str, str], str | None]] = field(default_factory=deque)
    violations: list[str] = field(default_factory=list)
    now: Callable[[], float] = time.monotonic  # the clock its limits read (the bench's may be a fake one)
    # Operations the trimmed spec leaves out, with the request body's JSON Schema as transcribed from the
    # partner's reference (each says where from): held to that instead of the spec.
    unspecified: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

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

    def fail(
        self, status: int | str, times: int = 1, retry_after: float | None = None, path: str | None = None
    ) -> None:
        """The next `times` calls (to `path` only, if given) answer `status` (429, 500, 401 for a token that
        expired...) or, for "timeout", answer after the clients' timeout."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.faults.extend([(status, headers, path)] * times)

    def throttled(self, budget: Budget, weight: int, status: int, body: Any) -> Response | None:
        """`status` with Retry-After when the spend does not fit the budget, else None (spent)."""
        wait = budget.spend(weight)
        if wait is None:
            return None
        return JSONResponse(body, status, headers={"Retry-After": str(max(math.ceil(wait), 1))})

    def calls(self, path: str) -> list[Any]:
        return [body for _, p, body in self.requests if p == path]

    async def _guard(self, request: Request) -> tuple[Response | None, Any]:
        raw = await request.body()
        body = (
            json.loads(raw) if raw and request.headers.get("content-type", "").startswith("application/json") else raw
        )
        self.requests.append((request.method, request.url.path, body))
        transcribed = self.unspecified.get((request.method, request.url.path))
        if transcribed is not None:
            problems = [
                f"{self.partner} {request.method} {request.url.path}: {error.message}"
                for error in jsonschema_rs.Draft7Validator(transcribed).iter_errors(body if raw else None)
            ]
        else:
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
        if self.faults and self.faults[0][2] in (None, request.url.path):
            status, headers, _ = self.faults.popleft()
            if status == "timeout":
                await asyncio.sleep(TIMEOUT_SECONDS)
                return JSONResponse({}, 200), body
            return JSONResponse({"message": "fault"}, int(status), headers=headers), body
        for header, value in self.auth.items():
            if request.headers.get(header) != value:
                return JSONResponse({"message": "unauthorized"}, 401), body
        return None, body


def _route(fake: Fake, path: str, methods: list[str], answer: Any, checked: bool = True) -> Route:
    """`checked`: its answers are held to the spec (not for an operation the trimmed spec leaves out)."""

    async def endpoint(request: Request) -> Response:
        refused, body = await fake._guard(request)
        if refused is not None:
            return refused
        result = answer(request, body)
        response = result if isinstance(result, Response) else JSONResponse(result)
        if checked:
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
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__({"Client-Id": "836", "Api-Key": "ozon-key"}, "ozon", now=now)
        self.postings: list[dict[str, Any]] = []  # unfulfilled/list
        self.held: dict[str, dict[str, Any]] = {}  # /v3/posting/fbs/get, by posting number
        self.shipped: set[str] = set()
        self.substatus = "posting_awaiting_passport_data"  # of shipped postings
        self.offers: dict[int, str] = {147451959: "SKU-A"}  # Ozon sku -> the seller's offer id
        self.prices: dict[str, str] = {"SKU-A": "1390.000000"}  # offer id -> unit price, as Ozon writes it
        self.stocks: dict[tuple[str, int], int] = {}  # (offer_id, warehouse_id) -> stock
        self.catalog: set[str] | None = None  # the seller's offer ids (None: every one); others are NOT_FOUND
        self.warehouses: set[int] | None = None  # the seller's warehouse ids (None: every one); others refused
        self.stock_calls = Budget(80, now)  # /v2/products/stocks calls per minute
        self.pair_interval = 30.0
        self.pair_updated: dict[tuple[str, int], float] = {}
        self.unreported: set[str] = set()  # offer ids the stock answer leaves out (updated or not)
        self.cancelled: dict[str, dict[str, Any]] = {}  # posting number -> the cancel request
        self.unspecified[("POST", "/v2/posting/fbs/cancel")] = OZON_CANCEL
        self.unspecified[("POST", "/v3/posting/fbs/package-label/create")] = OZON_LABEL_CREATE
        self.unspecified[("POST", "/v2/posting/fbs/package-label/get")] = OZON_LABEL_GET
        self.label_tasks: dict[int, list[str]] = {}  # task id -> its postings
        self.label_forming = 0  # reads of a label task answered in_progress before it completes
        self.label_refusals: dict[str, str] = {}  # posting number -> why Ozon cannot print its label
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

    def _stock(self, item: dict[str, Any]) -> dict[str, Any]:
        pair = (item["offer_id"], item["warehouse_id"])
        errors = []
        if self.warehouses is not None and pair[1] not in self.warehouses:
            # Per item inside the 200, as Ozon answers a warehouse_id the seller has not (updated: false).
            errors.append({"code": "WAREHOUSE_NOT_FOUND", "message": f"warehouse has wrong id: {pair[1]}"})
        elif self.catalog is not None and pair[0] not in self.catalog:
            errors.append({"code": "NOT_FOUND", "message": "product not found"})
        elif self.now() - self.pair_updated.get(pair, -math.inf) < self.pair_interval:
            errors.append({"code": "TOO_MANY_REQUESTS", "message": "the pair was updated less than 30 s ago"})
        else:
            self.stocks[pair] = item["stock"]
            self.pair_updated[pair] = self.now()
        return {**pair_fields(pair), "product_id": 0, "updated": not errors, "errors": errors}

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
            # More than 100 pairs is refused by the spec check (maxItems) before this.
            refused = self.throttled(self.stock_calls, 1, 429, {"code": 8, "message": "rate limit exceeded"})
            if refused is not None:
                return refused
            results = [self._stock(item) for item in body["stocks"]]
            return {"result": [r for r in results if r["offer_id"] not in self.unreported]}

        def cancel(request: Request, body: dict[str, Any]) -> Any:
            if body["posting_number"] not in self.held and body["posting_number"] not in self.shipped:
                return JSONResponse({"code": 5, "message": "posting not found", "details": []}, 404)
            self.cancelled[body["posting_number"]] = body
            return {"result": True}

        def label_create(request: Request, body: dict[str, Any]) -> Any:
            task_id = 7001 + 2 * len(self.label_tasks)
            self.label_tasks[task_id] = body["posting_numbers"]
            return {
                "tasks": [
                    {"task_id": task_id, "task_type": "big_label"},
                    {"task_id": task_id + 1, "task_type": "small_label"},
                ]
            }

        def label_get(request: Request, body: dict[str, Any]) -> Any:
            postings = self.label_tasks.get(body["task_id"])
            if postings is None:
                return JSONResponse({"code": 5, "message": "task not found", "details": []}, 404)
            counts = {"postings_count": len(postings)}
            if self.label_forming > 0:
                self.label_forming -= 1
                return {"status": {"code": "in_progress", **counts, "printed_postings_count": 0}}
            # Only a posting Ozon took the ship call for (awaiting_deliver) gets a label.
            unprinted = [
                {"posting_number": n, "message": self.label_refusals.get(n, "The next postings aren't ready")}
                for n in postings
                if n in self.label_refusals or n not in self.shipped
            ]
            status = {"code": "completed", **counts, "printed_postings_count": len(postings) - len(unprinted)}
            printed = (
                {"file_url": f"{request.base_url}labels/{body['task_id']}.pdf"}
                if len(unprinted) < len(postings)
                else {}
            )
            return {
                "status": {**status, "unprinted_postings": unprinted},
                **printed,
                "error": {"code": "", "message": ""},
            }

        def get(request: Request, body: dict[str, Any]) -> Any:
            number = body["posting_number"]
            if number in self.cancelled:
                return {"result": {"posting_number": number, "status": "cancelled", "substatus": "posting_canceled"}}
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
                    _route(self, "/v2/posting/fbs/cancel", ["POST"], cancel, checked=False),
                    _route(self, "/v3/posting/fbs/package-label/create", ["POST"], label_create, checked=False),
                    _route(self, "/v2/posting/fbs/package-label/get", ["POST"], label_get, checked=False),
                    _route(self, "/v2/products/stocks", ["POST"], stocks),
                ]
            )
        )


# POST /v2/posting/fbs/cancel as Ozon's Seller API reference describes it (not in the trimmed spec; found
# with a documentation search): the posting, a reason id from /v2/posting/fbs/cancel-reason/list, the
# seller's words (required when the reason is 402, "other").
OZON_CANCEL: dict[str, Any] = {
    "type": "object",
    "required": ["posting_number", "cancel_reason_id"],
    "properties": {
        "posting_number": {"type": "string", "minLength": 1},
        "cancel_reason_id": {"type": "integer"},
        "cancel_reason_message": {"type": "string"},
    },
    "additionalProperties": False,
}


def pair_fields(pair: tuple[str, int]) -> dict[str, Any]:
    return {"offer_id": pair[0], "warehouse_id": pair[1]}


# ------------------------------------------------------------------ Wildberries


class FakeWildberries(Fake):
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__({"Authorization": "wb-token"}, "wildberries", now=now)
        self.new: list[dict[str, Any]] = []
        self.statuses: dict[int, tuple[str, str]] = {}
        self.supplies: dict[str, set[int]] = {}
        self.ignored_orders: set[int] = set()  # PATCH answers 204 and changes nothing
        self.stocks: dict[tuple[int, int], int] = {}  # (warehouseId, chrtId) -> amount
        self.catalog: set[int] | None = None  # the seller's chrtIds (None: every one); others: 204, nothing kept
        self.restricted: dict[int, str] = {}  # chrtId -> the 409 code a PUT naming it gets (nothing kept)
        self.busy = 0  # the next PUTs answer 409 StoreIsProcessing
        self.stock_calls = Budget(300, now)  # stock method calls per minute; a 409 costs 10
        self.delivered: list[str] = []
        self.cancelled: list[int] = []

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
            if refused := self.throttled(self.stock_calls, 1, 429, WB_LIMITED):
                return refused
            conflict = self._conflict(body["stocks"])
            if conflict:
                self.stock_calls.charge(9)
                return JSONResponse(conflict, 409)
            warehouse = int(request.path_params["warehouse"])
            # An item named otherwise than by chrtId (`sku`, a misspelt field) updates nothing, as on WB.
            self.stocks.update(
                ((warehouse, s["chrtId"]), s["amount"])
                for s in body["stocks"]
                if isinstance(s.get("chrtId"), int) and (self.catalog is None or s["chrtId"] in self.catalog)
            )
            return Response(status_code=204)

        def read_stocks(request: Request, body: dict[str, Any]) -> Any:
            if refused := self.throttled(self.stock_calls, 1, 429, WB_LIMITED):
                return refused
            warehouse = int(request.path_params["warehouse"])
            held = [(c, self.stocks.get((warehouse, c))) for c in body["chrtIds"]]
            return {"stocks": [{"chrtId": c, "amount": amount} for c, amount in held if amount is not None]}

        def deliver(request: Request, body: Any) -> Any:
            self.delivered.append(request.path_params["supply"])
            return Response(status_code=204)

        def cancel(request: Request, body: Any) -> Any:
            self.cancelled.append(int(request.path_params["order"]))
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
                    _route(self, "/api/v3/orders/{order}/cancel", ["PATCH"], cancel),
                    _route(self, "/api/v3/stocks/{warehouse}", ["PUT"], put_stocks),
                    _route(self, "/api/v3/stocks/{warehouse}", ["POST"], read_stocks),
                ]
            )
        )

    def _conflict(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The 409 body (StocksWarehouseError) for a PUT the fake refuses: busy, or naming restricted items."""
        if self.busy:
            self.busy -= 1
            return [{"code": "StoreIsProcessing", "message": "The store is processing"}]
        named: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            code = self.restricted.get(item.get("chrtId", -1))
            if code is not None:
                named.setdefault(code, []).append({"chrtId": item["chrtId"], "amount": item["amount"]})
        return [{"code": code, "message": code, "data": data} for code, data in named.items()]


WB_LIMITED = {"detail": "limited", "status": 429, "statusText": "Too Many Requests"}


# The package label's task API as Ozon's Seller API reference describes it (PostingFbsPackageLabelCreate and
# PostingFbsPackageLabelGet; not in the trimmed spec, found with a documentation search: docs/actions.md).
# It replaced the synchronous /v2/posting/fbs/package-label, switched off on 2 November 2026. Create takes
# the postings (awaiting_deliver) and answers `tasks` [{task_id, task_type: big_label | small_label}]; get
# takes a task id and answers `status` {code: pending | in_progress | completed | error, postings_count,
# printed_postings_count, unprinted_postings [{posting_number, message}]}, `file_url` once completed and
# `error` {code, message}. Neither answer is wrapped in `result`.
OZON_LABEL_CREATE: dict[str, Any] = {
    "type": "object",
    "required": ["posting_numbers"],
    "properties": {"posting_numbers": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}},
    "additionalProperties": False,
}
OZON_LABEL_GET: dict[str, Any] = {
    "type": "object",
    "required": ["task_id"],
    "properties": {"task_id": {"type": "integer"}},
    "additionalProperties": False,
}


# ------------------------------------------------------------------ Yandex Market


class FakeYandexMarket(Fake):
    """Answers 420 when more than 2 requests of the account are in flight."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__({"Api-Key": "ym-key"}, "yandex_market", now=now)
        self.in_flight = 0
        self.most_in_flight = 0
        self.refused: set[int] = set()  # orders the batch update reports as failed
        self.updated: Counter[int] = Counter()  # how many times each order's status was set
        # (campaignId, sku) -> (count, updatedAt): Market keeps the latest stamp, an older one changes nothing
        self.stocks: dict[tuple[int, str], tuple[int, datetime]] = {}
        self.catalog: set[str] | None = None  # the shop's SKUs (None: every one); others refuse the request
        self.stock_skus = Budget(100_000, now)  # SKUs per minute
        self.wall = lambda: datetime.now(UTC)  # the date Market judges updatedAt by (not older than a day)
        self._lock = threading.Lock()

    def app(self) -> Starlette:
        fake = self

        def set_status(request: Request, body: dict[str, Any]) -> Any:
            fake.updated[int(request.path_params["order"])] += 1
            return {
                "order": market_order(
                    int(request.path_params["order"]),
                    body["order"]["status"],
                    body["order"].get("substatus", "STARTED"),
                )
            }

        def batch(request: Request, body: dict[str, Any]) -> Any:
            fake.updated.update(o["id"] for o in body["orders"] if o["id"] not in fake.refused)
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
            # More than 2,000 SKUs is refused by the spec check (maxItems) before this.
            skus = body["skus"]
            if refused := fake.throttled(fake.stock_skus, len(skus), 420, MARKET_LIMITED):
                return refused
            now = fake.wall()
            stamps = {s["sku"]: datetime.fromisoformat(s["items"][0].get("updatedAt") or now.isoformat()) for s in skus}
            # Market's stock errors name the SKU in quotes, one error each; the stamp ones are its documented texts.
            errors = [
                {"code": "BAD_REQUEST", "message": message}
                for sku, stamp in stamps.items()
                for message in [
                    f"Unknown shop-sku '{sku}'" if fake.catalog is not None and sku not in fake.catalog else "",
                    f"Stock for '{sku}' should not be in the future" if stamp > now else "",
                    f"Stock for '{sku}' should not be older than a day" if stamp < now - timedelta(days=1) else "",
                ]
                if message
            ]
            if errors:
                return JSONResponse({"status": "ERROR", "errors": errors}, 400)
            campaign = int(request.path_params["campaign"])
            with fake._lock:
                for s in skus:
                    held = fake.stocks.get((campaign, s["sku"]))
                    if held is None or held[1] <= stamps[s["sku"]]:
                        fake.stocks[(campaign, s["sku"])] = (s["items"][0]["count"], stamps[s["sku"]])
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
                    return await JSONResponse(MARKET_LIMITED_PARALLEL, 420)(scope, receive, send)
                await asyncio.sleep(0.05)  # long enough for parallel callers to overlap
                await inner(scope, receive, send)
            finally:
                with fake._lock:
                    fake.in_flight -= 1

        return self.served(app, inner)


MARKET_LIMITED_PARALLEL = {"status": "ERROR", "errors": [{"code": "LIMIT_EXCEEDED", "message": "2 requests in flight"}]}
MARKET_LIMITED = {"status": "ERROR", "errors": [{"code": "LIMIT_EXCEEDED", "message": "too many SKUs a minute"}]}


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


def _cdek_refusal(kind: str, code: str, message: str, status: int, uuid: str | None = None) -> Response:
    """CDEK's answer to a request it will not do: the request INVALID with its error."""
    entity = {"entity": {"uuid": uuid}} if uuid else {}
    errors = [{"code": code, "message": message}]
    return JSONResponse(
        {**entity, "requests": [{"type": kind, "date_time": NOW, "state": "INVALID", "errors": errors}]}, status
    )


class FakeCdek(Fake):
    """OAuth2 client credentials; `revoke()` makes the current token expire early (mid-run).

    Shipments are asynchronous as CDEK's are: a registered order's CREATE request is ACCEPTED, and turns
    SUCCESSFUL (with a cdek_number) on the `settle_after`-th read of GET /v2/orders/{uuid}, or INVALID with
    the errors of `invalid_later[number]`; `invalid_numbers` are refused at once. A receipt
    (/v2/print/orders) is READY with its url on the `label_after`-th read. DELETE takes an order whose
    status is still CREATED (not in `handed_over`). `refuse_tokens()` makes every token fetched from then
    on refused (an account whose rights were withdrawn)."""

    def __init__(self, expires_in: int = 3600) -> None:
        super().__init__({}, "cdek")
        self.expires_in = expires_in
        self.valid: set[str] = set()
        self.tokens = itertools.count(1)
        self.orders: list[dict[str, Any]] = []
        self.invalid_numbers: set[str] = set()
        self.invalid_later: dict[str, tuple[str, str]] = {}
        self.webhooks: list[dict[str, Any]] = []
        self.entities: dict[str, dict[str, Any]] = {}  # uuid -> number, state, reads, cdek_number
        self.settle_after = 1
        self.label_after = 1
        self.prints: dict[str, dict[str, Any]] = {}  # print uuid -> order_uuid, reads
        self.handed_over: set[str] = set()  # uuids whose parcel CDEK has taken (no longer deletable)
        self.deleted: list[str] = []
        self.tokens_refused = False

    def revoke(self) -> None:
        self.valid.clear()

    def refuse_tokens(self) -> None:
        self.tokens_refused = True
        self.valid.clear()

    def details(self, uuid: str) -> Response:
        """GET /v2/orders/{uuid}: each read brings the CREATE request nearer to settling."""
        entity = self.entities.get(uuid)
        if entity is None:
            return _cdek_refusal("GET", "v2_entity_not_found", f"order {uuid} not found", 404)
        entity["reads"] += 1
        if entity["state"] == "ACCEPTED" and entity["reads"] >= self.settle_after:
            entity["state"] = "INVALID" if entity["number"] in self.invalid_later else "SUCCESSFUL"
            if entity["state"] == "SUCCESSFUL":
                entity["cdek_number"] = str(1106000000 + len(self.entities))
        created: dict[str, Any] = {"type": "CREATE", "date_time": NOW, "state": entity["state"]}
        if entity["state"] == "INVALID":
            code, message = self.invalid_later[entity["number"]]
            created["errors"] = [{"code": code, "message": message}]
        shown = {"uuid": uuid, "number": entity["number"], "tariff_code": 136}
        if entity["cdek_number"]:
            shown["cdek_number"] = entity["cdek_number"]
        return JSONResponse({"entity": shown, "requests": [created]})

    def print_form(self, uuid: str) -> Response:
        """GET /v2/print/orders/{uuid}: READY with its url on the `label_after`-th read."""
        form = self.prints.get(uuid)
        if form is None:
            return _cdek_refusal("GET", "v2_entity_not_found", f"print form {uuid} not found", 404)
        form["reads"] += 1
        ready = form["reads"] >= self.label_after
        statuses = [{"code": "ACCEPTED", "name": "Принят", "date_time": NOW}]
        if ready:
            statuses.append({"code": "READY", "name": "Сформирован", "date_time": NOW})
        shown: dict[str, Any] = {"uuid": uuid, "orders": [{"order_uuid": form["order_uuid"]}], "statuses": statuses}
        if ready:
            shown["url"] = f"https://api.cdek.ru/v2/print/orders/{uuid}.pdf"
        return JSONResponse(
            {"entity": shown, "requests": [{"type": "CREATE", "date_time": NOW, "state": "SUCCESSFUL"}]}
        )

    def app(self) -> Starlette:
        fake = self

        def token(request: Request, body: Any) -> Any:
            form = dict(pair.split("=", 1) for pair in body.decode().split("&"))
            if form.get("client_id") != "cdek-id" or form.get("client_secret") != "cdek-secret":
                return JSONResponse({"error": "invalid_client"}, 401)
            value = f"token-{next(fake.tokens)}"
            if not fake.tokens_refused:
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
            return _cdek_refusal("AUTH", "v2_token_expired", "token expired", 401)

        def create(request: Request, body: dict[str, Any]) -> Any:
            if refused := expired(request):
                return refused
            if body["number"] in fake.invalid_numbers:
                return _cdek_refusal("CREATE", "v2_field_is_empty", "recipient.phones is empty", 202, "x")
            fake.orders.append(body)
            uuid = f"uuid-{len(fake.orders)}"
            fake.entities[uuid] = {"number": body["number"], "state": "ACCEPTED", "reads": 0, "cdek_number": None}
            return JSONResponse(
                {"entity": {"uuid": uuid}, "requests": [{"type": "CREATE", "date_time": NOW, "state": "ACCEPTED"}]},
                202,
            )

        def order(request: Request, body: Any) -> Any:
            if refused := expired(request):
                return refused
            return fake.details(request.path_params["uuid"])

        def by_number(request: Request, body: Any) -> Any:
            if refused := expired(request):
                return refused
            number = request.query_params["im_number"]
            found = [uuid for uuid, entity in fake.entities.items() if entity["number"] == number]
            if not found:
                return _cdek_refusal("GET", "v2_entity_not_found", f"order number {number} not found", 404)
            return fake.details(found[-1])

        def delete(request: Request, body: Any) -> Any:
            if refused := expired(request):
                return refused
            uuid = request.path_params["uuid"]
            if uuid not in fake.entities:
                return _cdek_refusal("DELETE", "v2_entity_not_found", f"order {uuid} not found", 404)
            if uuid in fake.handed_over:
                return _cdek_refusal("DELETE", "v2_order_not_deletable", "the order's status is not CREATED", 400, uuid)
            del fake.entities[uuid]
            fake.deleted.append(uuid)
            return {"entity": {"uuid": uuid}, "requests": [{"type": "DELETE", "date_time": NOW, "state": "ACCEPTED"}]}

        def print_orders(request: Request, body: dict[str, Any]) -> Any:
            if refused := expired(request):
                return refused
            uuid = f"print-{len(fake.prints) + 1}"
            fake.prints[uuid] = {"order_uuid": body["orders"][0]["order_uuid"], "reads": 0}
            return JSONResponse(
                {"entity": {"uuid": uuid}, "requests": [{"type": "CREATE", "date_time": NOW, "state": "ACCEPTED"}]},
                202,
            )

        def print_form(request: Request, body: Any) -> Any:
            return expired(request) or fake.print_form(request.path_params["uuid"])

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
                    _route(self, "/v2/orders", ["GET"], by_number),
                    _route(self, "/v2/orders/{uuid}", ["GET"], order),
                    _route(self, "/v2/orders/{uuid}", ["DELETE"], delete),
                    _route(self, "/v2/print/orders", ["POST"], print_orders),
                    _route(self, "/v2/print/orders/{uuid}", ["GET"], print_form),
                    _route(self, "/v2/webhooks", ["POST"], subscribe),
                ]
            )
        )
