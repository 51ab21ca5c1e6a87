"""Wildberries (FBS): no webhooks, the hub polls new assembly tasks and their statuses; supplies out.
Field names are Wildberries'."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Unpack

from pydantic import Field, RootModel

from partners.clients.base import Canonical, Connector, NewOrder, OrderLine, PartnerModel, StatusChange
from partners.clients.http import PartnerHttp, PartnerRejected, Tuning, parsed, per_minute
from partners.clients.registry import register
from partners.clients.stock import Credentials, LineResult, Outcome, Pair, StockLine, auth, checked
from partners.clients.stock import register as register_stocks

# wbStatus (the spec's whole vocabulary) -> the hub event whose status it implies in the marketplace
# workflow that `marketplace` orders run (the hub applies the steps before it it has not seen yet).
# None: nothing to do in the hub.
STATUS_EVENTS: dict[str, str | None] = {
    "waiting": None,
    "sorted": "ship",
    "sent_to_carrier": "ship",
    "accepted_by_carrier": "ship",
    "ready_for_pickup": "ship",
    "sold": "deliver",
    "canceled": "cancel",
    "canceled_by_client": "cancel",
    "declined_by_client": "cancel",
    "defect": "cancel",
    "postponed_delivery": None,
}
STATUS_BATCH = 1000  # orders per /api/v3/orders/status call
SUPPLY_BATCH = 100  # orders per PATCH /api/marketplace/v3/supplies/{supplyId}/orders call
MAX_AMOUNT = 100_000  # the most one stock item may state


class AssemblyTask(PartnerModel):
    id: int
    rid: str | None = None
    orderUid: str | None = None
    article: str = Field(min_length=1, max_length=64)
    nmId: int | None = None
    chrtId: int | None = None
    skus: list[str] = Field(default_factory=list)
    warehouseId: int | None = None
    price: int = Field(0, ge=0, description="kopecks")
    finalPrice: int | None = Field(None, ge=0, description="kopecks")
    currencyCode: int | None = None
    createdAt: datetime

    def new_order(self) -> NewOrder:
        kopecks = self.finalPrice if self.finalPrice is not None else self.price
        return NewOrder(str(self.id), (OrderLine(self.article, 1, Decimal(kopecks) / 100),))


class TaskStatus(PartnerModel):
    id: int
    supplierStatus: str
    wbStatus: str

    def change(self) -> StatusChange:
        # Polled statuses carry no time: the identity (task, status) dedupes, and a status seen once stays seen.
        return StatusChange(
            f"status:{self.id}:{self.supplierStatus}:{self.wbStatus}",
            self.wbStatus,
            STATUS_EVENTS.get(self.wbStatus),
            None,
            external_id=str(self.id),
        )


class Supply(PartnerModel):
    id: str = Field(min_length=1)


class SupplyOrderIds(PartnerModel):
    orderIds: list[int] = Field(default_factory=list)


class Stock(PartnerModel):
    chrtId: int
    amount: int = 0


class Stocks(PartnerModel):
    stocks: list[Stock] = Field(default_factory=list)


class RefusedItem(PartnerModel):
    # The spec's examples name items by barcode (`sku`); later revisions of it name them by chrtId too.
    chrtId: int | None = None
    sku: str | None = None


class StocksRefusal(PartnerModel):
    """One entry of a 409 (StocksWarehouseError): a code and the items it concerns."""

    code: str = ""
    message: str = ""
    data: list[RefusedItem] | None = None


class StocksRefusals(RootModel[list[StocksRefusal]]):
    pass


ACCEPTED = LineResult(Outcome.accepted)
NO_CHRT_ID = LineResult(Outcome.refused, "no chrtId mapped: Wildberries takes stocks by size id")
NOT_A_WB_WAREHOUSE = LineResult(Outcome.refused, "the channel maps this location to a warehouseId that is not a number")
KEPT_NOTHING = LineResult(Outcome.refused, "unknown chrtId or field: Wildberries answered 204 but kept nothing")
# 409 codes the spec documents that pass with time ("repeat in a few seconds"); the others (NotFound,
# Subject*Restriction, CargoWarehouseRestriction*, UploadDataLimit) need the seller.
STOCKS_RETRIED = frozenset({"StoreIsProcessing"})


def _refusals(sent: Mapping[int, tuple[Pair, int]], body: object) -> dict[Pair, LineResult]:
    """A 409 refuses the whole PUT: the items it names get its code; the others were not taken and go
    again, as does everything when it names no item (the store is busy)."""
    named: dict[int, LineResult] = {}
    reasons: list[str] = []
    for refusal in parsed(StocksRefusals, body, "wildberries").root:
        reason = f"{refusal.code}: {refusal.message}" if refusal.message else refusal.code
        reasons.append(reason)
        outcome = Outcome.retry if refusal.code in STOCKS_RETRIED else Outcome.refused
        for item in refusal.data or []:
            if item.chrtId is not None and item.chrtId in sent:
                named[item.chrtId] = LineResult(outcome, reason)
    others = LineResult(Outcome.retry, f"not taken: Wildberries refused the request ({'; '.join(reasons)})")
    return {pair: named.get(chrt, others) for chrt, (pair, _) in sent.items()}


class WildberriesClient:
    """`Authorization: <token>`; 300 requests per minute, and a 409 costs 10 of them."""

    # Its stock API (a StockTarget): PUT /api/v3/stocks/{warehouseId} takes 1,000 items of one warehouse,
    # within the 300 requests a minute of the stock methods (read-backs included).
    partner = "wildberries"
    batch_size = 1000
    per_minute = 300
    pair_interval = 0.0
    one_warehouse_per_request = True

    def __init__(self, base_url: str, credentials: Credentials, **options: Unpack[Tuning]) -> None:
        self.http = PartnerHttp(
            "wildberries",
            base_url,
            limiter=per_minute(300),
            costs={409: 10},
            **auth(credentials, lambda c: {"Authorization": c["token"]}),
            **options,
        )

    @property
    def requests(self) -> int:
        return self.http.requests

    @property
    def spent(self) -> int:
        return self.http.spent

    def close(self) -> None:
        self.http.close()

    def new_orders(self) -> list[NewOrder]:
        answer = self.http.request("GET", "/api/v3/orders/new").json()
        return [parsed(AssemblyTask, o, "wildberries").new_order() for o in answer.get("orders", [])]

    def statuses(self, order_ids: Sequence[int]) -> list[StatusChange]:
        changes: list[StatusChange] = []
        for start in range(0, len(order_ids), STATUS_BATCH):
            answer = self.http.request(
                "POST", "/api/v3/orders/status", json={"orders": list(order_ids[start : start + STATUS_BATCH])}
            ).json()
            changes.extend(parsed(TaskStatus, o, "wildberries").change() for o in answer.get("orders", []))
        return changes

    def push(self, lines: Sequence[StockLine], verify: bool = False) -> dict[Pair, LineResult]:
        """Amounts by chrtId at one of the seller's warehouses in one PUT. A 204 does not mean it was taken
        (unknown ids and field names update nothing): with `verify` the amounts are read back."""
        checked(self, lines)
        results: dict[Pair, LineResult] = {}
        sent: dict[int, tuple[Pair, int]] = {}
        for line in lines:
            pair = (line.offer_id, line.warehouse_id)
            if line.chrt_id is None:
                results[pair] = NO_CHRT_ID
            elif not line.warehouse_id.isdigit():
                results[pair] = NOT_A_WB_WAREHOUSE
            elif line.chrt_id in sent:
                results[pair] = LineResult(Outcome.refused, f"chrtId {line.chrt_id} is mapped to two offers")
            else:
                sent[line.chrt_id] = (pair, min(max(line.amount, 0), MAX_AMOUNT))
        if not sent:
            return results
        path = f"/api/v3/stocks/{lines[0].warehouse_id}"
        answer = self.http.request(
            "PUT",
            path,
            json={"stocks": [{"chrtId": chrt, "amount": amount} for chrt, (_, amount) in sent.items()]},
            answered={409},
        )
        if answer.status_code == 409:
            return results | _refusals(sent, answer.json())
        if not verify:
            return results | {pair: ACCEPTED for pair, _ in sent.values()}
        held = parsed(Stocks, self.http.request("POST", path, json={"chrtIds": list(sent)}).json(), "wildberries")
        found = {s.chrtId: s.amount for s in held.stocks}
        return results | {
            pair: ACCEPTED if found.get(chrt) == amount else KEPT_NOTHING for chrt, (pair, amount) in sent.items()
        }

    def create_supply(self, name: str) -> str:
        """A new (open) supply; returns its id."""
        answer = self.http.request("POST", "/api/v3/supplies", json={"name": name}).json()
        return parsed(Supply, answer, "wildberries").id

    def add_to_supply(self, supply: str, order_ids: Sequence[int]) -> None:
        """Add assembly tasks to an open supply (100 per call; Wildberries moves each to `confirm`). Adding
        answers 204 even when nothing changed, so the supply's order ids are read back. (The per-order PATCH
        .../supplies/{id}/orders/{orderId} and GET .../supplies/{id}/orders are deprecated and scheduled for
        removal; these are the replacements Wildberries names.)"""
        for start in range(0, len(order_ids), SUPPLY_BATCH):
            self.http.request(
                "PATCH",
                f"/api/marketplace/v3/supplies/{supply}/orders",
                json={"orders": list(order_ids[start : start + SUPPLY_BATCH])},
            )
        listed = set(
            parsed(
                SupplyOrderIds,
                self.http.request("GET", f"/api/marketplace/v3/supplies/{supply}/order-ids").json(),
                "wildberries",
            ).orderIds
        )
        missing = sorted(set(order_ids) - listed)
        if missing:
            raise PartnerRejected(f"supply {supply} did not take orders {missing}")

    def deliver(self, supply: str) -> None:
        """Send the supply to delivery (it closes: nothing more can be added)."""
        self.http.request("PATCH", f"/api/v3/supplies/{supply}/deliver")

    def hand_over(self, name: str, order_ids: Sequence[int]) -> str:
        """Create a supply, add the assembly tasks, send it to delivery; returns the supply id."""
        supply = self.create_supply(name)
        self.add_to_supply(supply, order_ids)
        self.deliver(supply)
        return supply

    def cancel(self, order_id: int) -> None:
        """The seller cancels an assembly task (PATCH /api/v3/orders/{orderId}/cancel, 204)."""
        self.http.request("PATCH", f"/api/v3/orders/{order_id}/cancel")


def _poll(base_url: str, credentials: Mapping[str, str], open_orders: Sequence[str], now: datetime) -> list[Canonical]:
    """New assembly tasks, then the statuses of the channel's open ones."""
    client = WildberriesClient(base_url, credentials)
    try:
        new = client.new_orders()
        return [*new, *client.statuses([int(i) for i in open_orders if i.isdigit()])]
    finally:
        client.close()


# Polled only: Wildberries has no webhooks, so no webhook route.
CONNECTOR = register(Connector(kind="wildberries", parse=lambda body, route: [], routes=frozenset(), poll=_poll))
register_stocks("wildberries", WildberriesClient)
