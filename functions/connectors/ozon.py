"""Ozon Seller API (FBS): push messages in, reconcile poll and shipping out. Field names are Ozon's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import (Canonical, Connector, MessageTypes, NewOrder, OrderLine, Ping, Reply, ShipByChange,
                             StatusChange)
from connectors.http import PartnerHttp, PartnerRejected, parsed, per_second
from connectors.registry import register

# Ozon's push statuses (`new_state`, the spec's whole vocabulary) -> the hub event whose status they imply
# in the marketplace workflow (reserved -> pack -> packed -> ship -> shipped -> deliver -> delivered), which
# every `marketplace` order runs; the hub applies the steps before it that it has not seen yet. None:
# nothing to do in the hub. `posting_transferring_to_delivery` is "awaiting handover": the seller's own
# packing (which the hub tracks) puts the posting there, and the goods are still in the warehouse.
STATUS_EVENTS: dict[str, str | None] = {
    "posting_acceptance_in_progress": None,
    "posting_awaiting_registration": None,
    "posting_created": None,
    "posting_transferring_to_delivery": None,
    "posting_not_in_carriage": None,
    "posting_driver_pick_up": "ship",
    "posting_in_carriage": "ship",
    "posting_on_way_to_city": "ship",
    "posting_transferred_to_courier_service": "ship",
    "posting_in_courier_service": "ship",
    "posting_on_way_to_pickup_point": "ship",
    "posting_in_pickup_point": "ship",
    "posting_conditionally_delivered": "deliver",
    "posting_delivered": "deliver",
    "posting_received": "deliver",
    "posting_canceled": "cancel",
    # Not accepted at the sort centre, or disputed: an operator's matter, the hub's status stays.
    "posting_not_in_sort_center": None,
    "posting_in_arbitration": None,
    "posting_in_client_arbitration": None,
}


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Ping_(_Message):
    message_type: Literal["TYPE_PING"]
    time: datetime | None = None


class Product(_Message):
    sku: int
    offer_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1)
    price: Decimal | None = Field(None, ge=0)


class NewPosting(_Message):
    message_type: Literal["TYPE_NEW_POSTING"]
    posting_number: str = Field(min_length=1, max_length=64)
    products: list[Product] = Field(min_length=1)
    in_process_at: datetime
    warehouse_id: int
    shipment_date: datetime | None = None
    is_express: bool = False
    tracking_number: str | None = None
    seller_id: int | None = None


class PostingCancelled(_Message):
    message_type: Literal["TYPE_POSTING_CANCELLED"]
    posting_number: str = Field(min_length=1, max_length=64)
    old_state: str | None = None
    new_state: str = "posting_canceled"
    changed_state_date: datetime
    warehouse_id: int | None = None


class StateChanged(_Message):
    message_type: Literal["TYPE_STATE_CHANGED"]
    posting_number: str = Field(min_length=1, max_length=64)
    new_state: str = Field(min_length=1, max_length=64)
    changed_state_date: datetime
    warehouse_id: int | None = None


class CutoffDateChanged(_Message):
    message_type: Literal["TYPE_CUTOFF_DATE_CHANGED"]
    posting_number: str = Field(min_length=1, max_length=64)
    new_cutoff_date: datetime
    old_cutoff_date: datetime | None = None
    warehouse_id: int | None = None


Push = Annotated[Ping_ | NewPosting | PostingCancelled | StateChanged | CutoffDateChanged,
                 Field(discriminator="message_type")]
_push = MessageTypes("message_type", Push)


def _lines(products: list[Product]) -> tuple[OrderLine, ...]:
    return tuple(OrderLine(p.offer_id, p.quantity, p.price or Decimal(0)) for p in products)


def _status(event_id: str, posting_number: str, state: str, at: datetime) -> StatusChange:
    return StatusChange(event_id=event_id, partner_status=state, event=STATUS_EVENTS.get(state), at=at,
                        external_id=posting_number)


def parse(body: Mapping[str, Any], route: str) -> list[Canonical]:
    message = _push.parse(body)
    if message is None:
        return []  # TYPE_STOCKS_CHANGED, TYPE_DELIVERY_DATE_CHANGED, ...: not acted on
    if isinstance(message, Ping_):
        return [Ping()]
    if isinstance(message, NewPosting):
        return [NewOrder(message.posting_number, _lines(message.products), message.shipment_date)]
    if isinstance(message, (PostingCancelled, StateChanged)):
        return [_status(f"state:{message.posting_number}:{message.new_state}:{message.changed_state_date.isoformat()}",
                        message.posting_number, message.new_state, message.changed_state_date)]
    return [ShipByChange(f"cutoff:{message.posting_number}:{message.new_cutoff_date.isoformat()}",
                         message.posting_number, message.new_cutoff_date)]


def _error(status: int, code: str, message: str, details: list[dict[str, Any]]) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message, "details": details}})


# ------------------------------------------------------------------ outbound

class UnfulfilledPosting(_Message):
    posting_number: str
    status: str
    shipment_date: datetime | None = None
    products: list[Product] = Field(min_length=1)


class ShipFailed(PartnerRejected):
    """Ozon took the ship call but the posting ended in substatus ship_failed."""


class OzonClient:
    """Calls of the Ozon Seller API: `Client-Id` and `Api-Key` headers, about 50 requests per second."""

    PAGE = 1000  # unfulfilled/list `limit` maximum

    def __init__(self, base_url: str, credentials: Mapping[str, str], **options: Any) -> None:
        self.http = PartnerHttp("ozon", base_url, limiter=per_second(50),
                                headers={"Client-Id": credentials["Client-Id"], "Api-Key": credentials["Api-Key"]},
                                **options)

    def unfulfilled(self, now: datetime, days: int = 14) -> list[NewOrder]:
        """Postings awaiting the seller with a cut-off in the next `days`, every page."""
        found: list[NewOrder] = []
        offset = 0
        while True:
            answer = self.http.request("POST", "/v3/posting/fbs/unfulfilled/list", json={
                "dir": "ASC", "limit": self.PAGE, "offset": offset,
                "filter": {"cutoff_from": now.isoformat(), "cutoff_to": (now + timedelta(days=days)).isoformat()}})
            result = answer.json()["result"]
            postings = [parsed(UnfulfilledPosting, p, "ozon") for p in result["postings"]]
            found.extend(NewOrder(p.posting_number, _lines(p.products), p.shipment_date) for p in postings)
            offset += len(postings)
            if not postings or offset >= int(result.get("count", offset)):
                return found

    def ship(self, posting_number: str, packages: list[list[tuple[int, int]]]) -> list[str]:
        """Hand a posting over in packages of (Ozon sku, quantity); returns the resulting posting numbers.
        A 200 is not success: each resulting posting's substatus is read back."""
        answer = self.http.request("POST", "/v4/posting/fbs/ship", json={
            "posting_number": posting_number,
            "packages": [{"products": [{"product_id": sku, "quantity": qty} for sku, qty in package]}
                         for package in packages]})
        numbers = [r["posting_number"] if isinstance(r, dict) else r for r in answer.json().get("result") or []]
        for number in numbers or [posting_number]:
            posting = self.http.request("POST", "/v3/posting/fbs/get", json={"posting_number": number}).json()["result"]
            if posting.get("substatus") == "ship_failed":
                raise ShipFailed(f"posting {number} ended in ship_failed")
        return numbers


def _reconcile(base_url: str, credentials: Mapping[str, str], open_orders: Sequence[str],
               now: datetime) -> list[Canonical]:
    """The push can be late or lost: every posting still awaiting the seller becomes an order."""
    client = OzonClient(base_url, credentials)
    try:
        return list(client.unfulfilled(now))
    finally:
        client.http.close()


CONNECTOR = register(Connector(kind="ozon", parse=parse, error=_error, poll=_reconcile))
