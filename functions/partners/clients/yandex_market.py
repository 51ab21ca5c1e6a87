"""Yandex Market Partner API: notifications in (acknowledged at once, processed from the partner queue),
order status out. Field names are Market's."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Unpack

from pydantic import Field

from partners.clients.base import (
    Canonical,
    Connector,
    MessageTypes,
    NewOrder,
    OrderLine,
    PartnerModel,
    Ping,
    Reply,
    StatusChange,
    hub_ping_reply,
)
from partners.clients.http import PartnerHttp, PartnerRejected, Tuning, parsed
from partners.clients.registry import register
from partners.clients.stock import Credentials, LineResult, Outcome, Pair, StockLine, auth, checked
from partners.clients.stock import register as register_stocks

# Market's order statuses (the spec's whole vocabulary) -> the hub event whose status they imply in the
# marketplace workflow that `marketplace` orders run (the hub applies the steps before it it has not seen,
# e.g. pack before ship). None: nothing to do in the hub (PROCESSING is the seller's own packing, which
# the hub tracks; returns are not modelled yet).
STATUS_EVENTS: dict[str, str | None] = {
    "PLACING": None,
    "RESERVED": None,
    "UNPAID": None,
    "PENDING": None,
    "PROCESSING": None,
    "DELIVERY": "ship",
    "PICKUP": "ship",
    "DELIVERED": "deliver",
    "CANCELLED": "cancel",
    "PARTIALLY_RETURNED": None,
    "RETURNED": None,
    "UNKNOWN": None,
}


class PingMessage(PartnerModel):
    notificationType: Literal["PING"]
    time: datetime | None = None


class Item(PartnerModel):
    offerId: str = Field(min_length=1, max_length=64)
    count: int = Field(ge=1)
    price: Decimal | None = Field(None, ge=0)


class OrderCreated(PartnerModel):
    notificationType: Literal["ORDER_CREATED"]
    campaignId: int
    orderId: int
    createdAt: datetime
    items: list[Item] = Field(min_length=1)
    shipmentDate: datetime | None = None


class OrderStatusUpdated(PartnerModel):
    notificationType: Literal["ORDER_STATUS_UPDATED"]
    campaignId: int
    orderId: int
    status: str = Field(min_length=1, max_length=32)
    substatus: str | None = None
    updatedAt: datetime


class OrderCancelled(PartnerModel):
    notificationType: Literal["ORDER_CANCELLED"]
    campaignId: int
    orderId: int
    cancelledAt: datetime | None = None  # when Market cancelled it: the event's time


Notification = Annotated[
    PingMessage | OrderCreated | OrderStatusUpdated | OrderCancelled, Field(discriminator="notificationType")
]
_notification = MessageTypes("notificationType", Notification)


def parse(body: Mapping[str, Any], route: str) -> list[Canonical]:
    message = _notification.parse(body)
    if message is None:
        return []  # ORDER_UPDATED, ORDER_RETURN_CREATED, ...: not acted on
    if isinstance(message, PingMessage):
        return [Ping()]
    if isinstance(message, OrderCreated):
        lines = tuple(OrderLine(i.offerId, i.count, i.price or Decimal(0)) for i in message.items)
        return [NewOrder(str(message.orderId), lines, message.shipmentDate)]
    if isinstance(message, OrderStatusUpdated):
        return [
            StatusChange(
                f"status:{message.orderId}:{message.status}:{message.substatus}:{message.updatedAt.isoformat()}",
                message.status,
                STATUS_EVENTS.get(message.status),
                message.updatedAt,
                external_id=str(message.orderId),
            )
        ]
    return [
        StatusChange(
            f"cancelled:{message.orderId}", "CANCELLED", "cancel", message.cancelledAt, external_id=str(message.orderId)
        )
    ]


def _error(status: int, code: str, message: str, details: list[dict[str, Any]]) -> Reply:
    """Market's error answer (Notification_SendNotificationErrorResponse): its own type vocabulary, the
    hub's code and the details in the message."""
    kind = "WRONG_EVENT_FORMAT" if status in (400, 413, 422) else "UNKNOWN"
    text = f"{code}: {message}" + (f" {json.dumps(details, ensure_ascii=False)}" if details else "")
    return Reply(status, {"error": {"type": kind, "message": text}})


# Market retries a notification that is not answered within 10 s: acknowledge, process from the queue.
CONNECTOR = register(
    Connector(
        kind="yandex_market",
        parse=parse,
        routes=frozenset({"notification"}),
        queued=True,
        processed=hub_ping_reply,
        error=_error,
    )
)


class StockError(PartnerModel):
    code: str = ""
    message: str = ""


class StocksAnswer(PartnerModel):
    status: str
    errors: list[StockError] | None = None


ACCEPTED = LineResult(Outcome.accepted)
NOT_A_CAMPAIGN = LineResult(Outcome.refused, "the channel maps this location to a campaignId that is not a number")
MAX_COUNT = 2_000_000_000  # the most one stock item may state
# Market's stock errors name the SKU in quotes ("Stock for 'sku' should not be older than a day"); those about
# the stamp pass with a current one, the others (unknown SKU, duplicate) need the seller.
QUOTED = re.compile(r"'([^']*)'")
STAMP_ERRORS = ("should not be in the future", "should not be older than a day")


def _refusals(lines: Sequence[StockLine], answer: StocksAnswer) -> dict[Pair, LineResult]:
    """Market stored nothing of a refused request: the SKUs it names get its message, the others go again.
    A refusal naming none of them is the request's own fault (PartnerRejected)."""
    offers = {line.offer_id for line in lines}
    named: dict[str, LineResult] = {}
    for error in answer.errors or []:
        reason = f"{error.code}: {error.message}" if error.message else error.code
        outcome = Outcome.retry if any(s in error.message for s in STAMP_ERRORS) else Outcome.refused
        for sku in offers.intersection(QUOTED.findall(error.message)):
            named[sku] = LineResult(outcome, reason)
    if not named:
        raise PartnerRejected(f"Market did not take the stocks: {answer.model_dump(exclude_none=True)}")
    others = LineResult(Outcome.retry, "not taken: Market refused the request for other SKUs")
    return {(line.offer_id, line.warehouse_id): named.get(line.offer_id, others) for line in lines}


STATUS_BATCH = 30  # orders per status-update call (UpdateOrderStatusesRequest.orders maxItems)
UNREPORTED = "not reported in Market's answer"


class YandexMarketClient:
    """`Api-Key` header; at most 2 requests in flight per account (HTTP 420 beyond)."""

    # Its stock API (a StockTarget): PUT v2/campaigns/{campaignId}/offers/stocks takes 2,000 SKUs of one
    # campaign (one warehouse) per call. Market counts SKUs, 100,000 a minute, not calls: 50 full calls.
    partner = "yandex_market"
    batch_size = 2000
    per_minute = 50
    pair_interval = 0.0
    one_warehouse_per_request = True

    def __init__(self, base_url: str, credentials: Credentials, **options: Unpack[Tuning]) -> None:
        self.http = PartnerHttp(
            "yandex_market", base_url, parallel=2, **auth(credentials, lambda c: {"Api-Key": c["Api-Key"]}), **options
        )

    @property
    def requests(self) -> int:
        return self.http.requests

    @property
    def spent(self) -> int:
        return self.http.spent

    def close(self) -> None:
        self.http.close()

    def push(self, lines: Sequence[StockLine], verify: bool = False) -> dict[Pair, LineResult]:
        """Available counts by the seller's SKU (offer id) in one campaign, each stamped with when it was true
        (Market keeps the latest). A 400 refuses the whole request and names the SKUs at fault."""
        checked(self, lines)
        if not lines:
            return {}
        campaign = lines[0].warehouse_id
        if not campaign.isdigit():
            return {(line.offer_id, line.warehouse_id): NOT_A_CAMPAIGN for line in lines}
        answer = self.http.request(
            "PUT",
            f"/v2/campaigns/{campaign}/offers/stocks",
            json={
                "skus": [
                    {
                        "sku": line.offer_id,
                        "items": [{"count": min(max(line.amount, 0), MAX_COUNT), "updatedAt": line.at.isoformat()}],
                    }
                    for line in lines
                ]
            },
            answered={400},
        )
        body = parsed(StocksAnswer, answer.json(), "yandex_market")
        if answer.status_code == 200 and body.status == "OK":
            return {(line.offer_id, line.warehouse_id): ACCEPTED for line in lines}
        return _refusals(lines, body)

    def set_status(self, campaign_id: int, order_id: int, status: str, substatus: str | None = None) -> None:
        order: dict[str, Any] = {"status": status}
        if substatus:
            order["substatus"] = substatus
        answer = self.http.request(
            "PUT", f"/v2/campaigns/{campaign_id}/orders/{order_id}/status", json={"order": order}
        ).json()
        if answer.get("order", {}).get("status") != status:
            raise PartnerRejected(f"order {order_id} is {answer.get('order', {}).get('status')!r}, not {status!r}")

    def set_statuses(self, campaign_id: int, changes: list[tuple[int, str, str | None]]) -> dict[int, str]:
        """Batch of at most 30; returns the orders Market did not update, with its reason (item by item),
        UNREPORTED for an order its answer leaves out."""
        if len(changes) > STATUS_BATCH:
            raise ValueError(f"Yandex Market takes at most {STATUS_BATCH} orders per status-update call")
        answer = self.http.request(
            "POST",
            f"/v2/campaigns/{campaign_id}/orders/status-update",
            json={
                "orders": [
                    {"id": oid, "status": status, **({"substatus": sub} if sub else {})} for oid, status, sub in changes
                ]
            },
        ).json()
        reported = {o.get("id"): o for o in (answer.get("result") or {}).get("orders") or [] if isinstance(o, dict)}
        return {
            oid: UNREPORTED if o is None else o.get("errorDetails") or o.get("updateStatus") or "FAILED"
            for oid, _, _ in changes
            if (o := reported.get(oid)) is None or o.get("updateStatus") != "OK"
        }


register_stocks("yandex_market", YandexMarketClient)
