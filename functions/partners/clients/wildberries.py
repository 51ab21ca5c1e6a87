"""Wildberries (FBS): no webhooks, the hub polls new assembly tasks and their statuses; supplies out.
Field names are Wildberries'."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Unpack

from pydantic import Field

from partners.clients.base import Canonical, Connector, NewOrder, OrderLine, PartnerModel, StatusChange
from partners.clients.http import PartnerHttp, PartnerRejected, Tuning, parsed, per_minute
from partners.clients.registry import register

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
STOCKS_BATCH = 1000  # items per PUT /api/v3/stocks/{warehouseId} call
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


class WildberriesClient:
    """`Authorization: <token>`; 300 requests per minute, and a 409 costs 10 of them."""

    def __init__(self, base_url: str, credentials: Mapping[str, str], **options: Unpack[Tuning]) -> None:
        self.http = PartnerHttp(
            "wildberries",
            base_url,
            limiter=per_minute(300),
            costs={409: 10},
            headers={"Authorization": credentials["token"]},
            **options,
        )

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

    def set_stocks(self, warehouse_id: int, amounts: Mapping[int, int]) -> dict[int, int | None]:
        """Amounts by chrtId at one of the seller's warehouses, 1000 per call. A 204 does not mean it was
        taken (unknown fields update nothing), so the amounts are read back: returns those that differ."""
        items = [(chrt, min(max(amount, 0), MAX_AMOUNT)) for chrt, amount in amounts.items()]
        for start in range(0, len(items), STOCKS_BATCH):
            self.http.request(
                "PUT",
                f"/api/v3/stocks/{warehouse_id}",
                json={
                    "stocks": [
                        {"chrtId": chrt, "amount": amount} for chrt, amount in items[start : start + STOCKS_BATCH]
                    ]
                },
            )
        found: dict[int, int] = {}
        for start in range(0, len(items), STOCKS_BATCH):
            answer = self.http.request(
                "POST",
                f"/api/v3/stocks/{warehouse_id}",
                json={"chrtIds": [chrt for chrt, _ in items[start : start + STOCKS_BATCH]]},
            ).json()
            found.update((s.chrtId, s.amount) for s in parsed(Stocks, answer, "wildberries").stocks)
        return {chrt: found.get(chrt) for chrt, amount in items if found.get(chrt) != amount}

    def hand_over(self, name: str, order_ids: Sequence[int]) -> str:
        """Create a supply, add the assembly tasks (100 per call), send it to delivery; returns the supply id.
        Adding answers 204 even when nothing changed, so the supply's order ids are read back.
        (The per-order PATCH .../supplies/{id}/orders/{orderId} and GET .../supplies/{id}/orders are
        deprecated and scheduled for removal; these are the replacements Wildberries names.)"""
        supply = parsed(
            Supply, self.http.request("POST", "/api/v3/supplies", json={"name": name}).json(), "wildberries"
        ).id
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
        self.http.request("PATCH", f"/api/v3/supplies/{supply}/deliver")
        return supply


def _poll(base_url: str, credentials: Mapping[str, str], open_orders: Sequence[str], now: datetime) -> list[Canonical]:
    """New assembly tasks, then the statuses of the channel's open ones."""
    client = WildberriesClient(base_url, credentials)
    try:
        new = client.new_orders()
        return [*new, *client.statuses([int(i) for i in open_orders if i.isdigit()])]
    finally:
        client.http.close()


# Polled only: Wildberries has no webhooks, so no webhook route.
CONNECTOR = register(Connector(kind="wildberries", parse=lambda body, route: [], routes=frozenset(), poll=_poll))
