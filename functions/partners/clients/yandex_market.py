"""Yandex Market Partner API: notifications in (acknowledged at once, processed from the partner queue),
order status out. Field names are Market's."""

from __future__ import annotations

import json
from collections.abc import Mapping
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
from partners.clients.http import PartnerHttp, PartnerRejected, Tuning
from partners.clients.registry import register

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


class YandexMarketClient:
    """`Api-Key` header; at most 2 requests in flight per account (HTTP 420 beyond)."""

    def __init__(self, base_url: str, credentials: Mapping[str, str], **options: Unpack[Tuning]) -> None:
        self.http = PartnerHttp(
            "yandex_market", base_url, parallel=2, headers={"Api-Key": credentials["Api-Key"]}, **options
        )

    STOCKS = 2000  # SKUs per PUT offers/stocks call

    def update_stocks(self, campaign_id: int, counts: Mapping[str, int], at: datetime) -> None:
        """Available counts by the seller's SKU (offer id), 2000 per call, each stamped with when it was true."""
        skus = [
            {"sku": sku, "items": [{"count": max(count, 0), "updatedAt": at.isoformat()}]}
            for sku, count in counts.items()
        ]
        for start in range(0, len(skus), self.STOCKS):
            answer = self.http.request(
                "PUT", f"/v2/campaigns/{campaign_id}/offers/stocks", json={"skus": skus[start : start + self.STOCKS]}
            ).json()
            if answer.get("status") != "OK":
                raise PartnerRejected(f"Market did not take the stocks: {answer}")

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
        """Batch of at most 30; returns the orders Market did not update, with its reason (item by item)."""
        if len(changes) > 30:
            raise ValueError("Yandex Market takes at most 30 orders per status-update call")
        answer = self.http.request(
            "POST",
            f"/v2/campaigns/{campaign_id}/orders/status-update",
            json={
                "orders": [
                    {"id": oid, "status": status, **({"substatus": sub} if sub else {})} for oid, status, sub in changes
                ]
            },
        ).json()
        return {
            o["id"]: o.get("errorDetails") or o.get("updateStatus", "FAILED")
            for o in answer.get("result", {}).get("orders", [])
            if o.get("updateStatus") != "OK"
        }
