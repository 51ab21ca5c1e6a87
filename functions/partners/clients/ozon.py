"""Ozon Seller API (FBS): push messages in, reconcile poll and shipping out. Field names are Ozon's."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
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
    ShipByChange,
    StatusChange,
)
from partners.clients.http import PartnerHttp, PartnerRejected, PartnerUnavailable, Tuning, parsed, per_second
from partners.clients.registry import register
from partners.clients.stock import Credentials, LineResult, Outcome, Pair, StockLine, auth, checked
from partners.clients.stock import register as register_stocks

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


class PingMessage(PartnerModel):
    message_type: Literal["TYPE_PING"]
    time: datetime | None = None


class Product(PartnerModel):
    """A product of a push: Ozon's `sku` and a quantity. Pushes carry no price, and the seller's `offer_id`
    may come empty (or, in older pushes, not at all): the posting itself is read for both."""

    sku: int | None = None
    offer_id: str = Field("", max_length=64)
    quantity: int = Field(ge=1)


class NewPosting(PartnerModel):
    message_type: Literal["TYPE_NEW_POSTING"]
    posting_number: str = Field(min_length=1, max_length=64)
    products: list[Product] = Field(min_length=1)
    in_process_at: datetime | None = None  # empty when the buyer pays later
    warehouse_id: int | None = None
    shipment_date: datetime | None = None
    is_express: bool = False
    tracking_number: str | None = None
    seller_id: int | None = None


class PostingCancelled(PartnerModel):
    message_type: Literal["TYPE_POSTING_CANCELLED"]
    posting_number: str = Field(min_length=1, max_length=64)
    old_state: str | None = None
    new_state: str = "posting_canceled"
    changed_state_date: datetime | None = None  # the docs mark it optional: untimed, deduplicated by state
    warehouse_id: int | None = None


class StateChanged(PartnerModel):
    message_type: Literal["TYPE_STATE_CHANGED"]
    posting_number: str = Field(min_length=1, max_length=64)
    new_state: str = Field(min_length=1, max_length=64)
    changed_state_date: datetime | None = None
    warehouse_id: int | None = None


class CutoffDateChanged(PartnerModel):
    message_type: Literal["TYPE_CUTOFF_DATE_CHANGED"]
    posting_number: str = Field(min_length=1, max_length=64)
    new_cutoff_date: datetime | None = None  # empty when Ozon removed the cut-off
    old_cutoff_date: datetime | None = None
    warehouse_id: int | None = None


Push = Annotated[
    PingMessage | NewPosting | PostingCancelled | StateChanged | CutoffDateChanged, Field(discriminator="message_type")
]
_push = MessageTypes("message_type", Push)


def _lines(products: list[PostingProduct]) -> tuple[OrderLine, ...]:
    return tuple(OrderLine(p.offer_id, p.quantity, p.price) for p in products)


def _status(event_id: str, posting_number: str, state: str, at: datetime | None) -> StatusChange:
    return StatusChange(
        event_id=event_id, partner_status=state, event=STATUS_EVENTS.get(state), at=at, external_id=posting_number
    )


def parse(body: Mapping[str, Any], route: str) -> list[Canonical]:
    message = _push.parse(body)
    if message is None:
        return []  # TYPE_STOCKS_CHANGED, TYPE_DELIVERY_DATE_CHANGED, ...: not acted on
    if isinstance(message, PingMessage):
        return [Ping()]
    if isinstance(message, NewPosting):
        # No prices in the push: the hub reads the posting (`complete`) before it creates the order.
        pushed = tuple(OrderLine(p.offer_id, p.quantity) for p in message.products)
        return [NewOrder(message.posting_number, pushed, message.shipment_date, lookup=True)]
    if isinstance(message, (PostingCancelled, StateChanged)):
        at = message.changed_state_date
        return [
            _status(
                f"state:{message.posting_number}:{message.new_state}:{at.isoformat() if at else ''}",
                message.posting_number,
                message.new_state,
                at,
            )
        ]
    if message.new_cutoff_date is None:
        # The cut-off was removed, not moved: the hub keeps the deadline it has (acknowledged, nothing changes).
        return []
    return [
        ShipByChange(
            f"cutoff:{message.posting_number}:{message.new_cutoff_date.isoformat()}",
            message.posting_number,
            message.new_cutoff_date,
        )
    ]


def _error(status: int, code: str, message: str, details: list[dict[str, Any]]) -> Reply:
    """Ozon's error answer (OzonPushReplyError): its own code vocabulary, the hub's code in the message and
    the details as text. Any 4xx makes Ozon send the push again."""
    ozon_code = "ERROR_PARAMETER_VALUE_MISSED" if status in (400, 413) else "ERROR_UNKNOWN"
    return Reply(
        status,
        {
            "error": {
                "code": ozon_code,
                "message": f"{code}: {message}",
                "details": json.dumps(details, ensure_ascii=False) if details else None,
            }
        },
    )


# ------------------------------------------------------------------ outbound


class PostingProduct(PartnerModel):
    """A product of a posting read from the API: the seller's offer id and the price per unit (a decimal
    string). An empty offer id reaches intake, which refuses it as not a hub SKU."""

    sku: int | None = None
    offer_id: str = Field("", max_length=64)
    quantity: int = Field(ge=1)
    price: Decimal = Field(ge=0)


class UnfulfilledPosting(PartnerModel):
    posting_number: str
    status: str
    shipment_date: datetime | None = None
    products: list[PostingProduct] = Field(min_length=1)


class PostingDetail(PartnerModel):
    posting_number: str
    status: str | None = None
    substatus: str | None = None
    shipment_date: datetime | None = None
    products: list[PostingProduct] = Field(default_factory=list)


class OzonError(PartnerModel):
    """An error Ozon reports inside a 200 (a stock item's, a label task's)."""

    code: str = ""
    message: str = ""


class StockResult(PartnerModel):
    offer_id: str = ""
    warehouse_id: int | None = None
    updated: bool = False
    errors: list[OzonError] = Field(default_factory=list)


class StocksAnswer(PartnerModel):
    result: list[StockResult] = Field(default_factory=list)


# Per-pair error codes that pass with time: the operation's description documents TOO_MANY_REQUESTS (the pair
# was updated less than 30 s ago). SKU_STOCK_NOT_CHANGE is Ozon's answer when the pair already holds the
# stock: the value is there. Any other code (NOT_FOUND, INVALID_STATE, STOCK_TOO_BIG, ...) needs the seller.
STOCK_RETRIED = frozenset({"TOO_MANY_REQUESTS"})
STOCK_HELD = frozenset({"SKU_STOCK_NOT_CHANGE"})
NOT_AN_OZON_WAREHOUSE = LineResult(
    Outcome.refused, "the channel maps this location to a warehouse_id that is not a number"
)


def _stock_result(result: StockResult | None) -> LineResult:
    if result is None:
        return LineResult(Outcome.retry, "not reported")
    codes = {e.code for e in result.errors}
    reason = "; ".join(f"{e.code}: {e.message}" if e.message else e.code for e in result.errors) or None
    if result.updated or (codes and codes <= STOCK_HELD):
        return LineResult(Outcome.accepted)
    if not codes or codes & STOCK_RETRIED:
        return LineResult(Outcome.retry, reason or "not updated, no reason given")
    return LineResult(Outcome.refused, reason)


# Ozon's cancellation reason "other" (the seller's), sent with the seller's own words.
OTHER_CANCEL_REASON = 402


class ShipFailed(PartnerRejected):
    """Ozon took the ship call but the posting ended in substatus ship_failed."""


class LabelTask(PartnerModel):
    task_id: int
    task_type: str = ""


class LabelTasks(PartnerModel):
    tasks: list[LabelTask] = Field(default_factory=list)


class Unprinted(PartnerModel):
    posting_number: str = ""
    message: str = ""


class LabelStatus(PartnerModel):
    code: str = ""
    unprinted_postings: list[Unprinted] = Field(default_factory=list)


class LabelAnswer(PartnerModel):
    """/v2/posting/fbs/package-label/get: the task's state, the file's link once `completed`."""

    status: LabelStatus = Field(default_factory=LabelStatus)
    file_url: str | None = None
    error: OzonError | None = None


# The task type of the ordinary label (the other is `small_label`).
BIG_LABEL = "big_label"
# Ozon's words for a label it is still forming ("recommended 45-60 s after the posting is assembled").
LABEL_NOT_READY = "aren't ready"


class OzonClient:
    """Calls of the Ozon Seller API: `Client-Id` and `Api-Key` headers, about 50 requests per second."""

    PAGE = 1000  # unfulfilled/list `limit` maximum

    # Its stock API (a StockTarget): /v2/products/stocks takes 100 (offer, warehouse) pairs of any warehouses
    # per call and 80 calls a minute per seller account, and one update of a pair per 30 s.
    partner = "ozon"
    batch_size = 100
    per_minute = 80
    pair_interval = 30.0
    one_warehouse_per_request = False

    def __init__(self, base_url: str, credentials: Credentials, **options: Unpack[Tuning]) -> None:
        self.http = PartnerHttp(
            "ozon",
            base_url,
            limiter=per_second(50),
            **auth(credentials, lambda c: {"Client-Id": c["Client-Id"], "Api-Key": c["Api-Key"]}),
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

    def push(self, lines: Sequence[StockLine], verify: bool = False) -> dict[Pair, LineResult]:
        """Free quantities of (offer, warehouse) pairs, any warehouses mixed, in one call. Ozon reports each
        pair inside the 200; a pair it does not report is sent again."""
        checked(self, lines)
        results = {(line.offer_id, line.warehouse_id): NOT_AN_OZON_WAREHOUSE for line in lines}
        sent = [line for line in lines if line.warehouse_id.isdigit()]
        if not sent:
            return results
        answer = self.http.request(
            "POST",
            "/v2/products/stocks",
            json={
                "stocks": [
                    {"offer_id": line.offer_id, "stock": max(line.amount, 0), "warehouse_id": int(line.warehouse_id)}
                    for line in sent
                ]
            },
        )
        reported = {(r.offer_id, str(r.warehouse_id)): r for r in parsed(StocksAnswer, answer.json(), "ozon").result}
        for line in sent:
            pair = (line.offer_id, line.warehouse_id)
            results[pair] = _stock_result(reported.get(pair))
        return results

    def unfulfilled(self, now: datetime, days: int = 14) -> list[NewOrder]:
        """Postings awaiting the seller with a cut-off in the next `days`, every page."""
        found: list[NewOrder] = []
        offset = 0
        while True:
            answer = self.http.request(
                "POST",
                "/v3/posting/fbs/unfulfilled/list",
                json={
                    "dir": "ASC",
                    "limit": self.PAGE,
                    "offset": offset,
                    "filter": {"cutoff_from": now.isoformat(), "cutoff_to": (now + timedelta(days=days)).isoformat()},
                },
            )
            result = answer.json()["result"]
            postings = [parsed(UnfulfilledPosting, p, "ozon") for p in result["postings"]]
            found.extend(NewOrder(p.posting_number, _lines(p.products), p.shipment_date) for p in postings)
            offset += len(postings)
            if not postings or offset >= int(result.get("count", offset)):
                return found

    def ship(self, posting_number: str, packages: list[list[tuple[int, int]]]) -> list[str]:
        """Hand a posting over in packages of (Ozon sku, quantity); returns the resulting posting numbers.
        A 200 is not success: each resulting posting's substatus is read back."""
        answer = self.http.request(
            "POST",
            "/v4/posting/fbs/ship",
            json={
                "posting_number": posting_number,
                "packages": [
                    {"products": [{"product_id": sku, "quantity": qty} for sku, qty in package]} for package in packages
                ],
            },
        )
        numbers = [r["posting_number"] if isinstance(r, dict) else r for r in answer.json().get("result") or []]
        for number in numbers or [posting_number]:
            if self.posting(number).substatus == "ship_failed":
                raise ShipFailed(f"posting {number} ended in ship_failed")
        return numbers

    def cancel(self, posting_number: str, reason: str, reason_id: int = OTHER_CANCEL_REASON) -> None:
        """The seller cancels a posting. `/v2/posting/fbs/cancel` is not in the trimmed spec: its fields
        (posting_number, cancel_reason_id, cancel_reason_message; `{"result": true}` back) are from Ozon's
        Seller API reference as found with a documentation search."""
        answer = self.http.request(
            "POST",
            "/v2/posting/fbs/cancel",
            json={"posting_number": posting_number, "cancel_reason_id": reason_id, "cancel_reason_message": reason},
        ).json()
        if not (isinstance(answer, dict) and answer.get("result") is True):
            raise PartnerRejected(f"ozon did not cancel posting {posting_number}: {str(answer)[:200]}")

    def label(
        self,
        postings: list[str],
        *,
        polls: int = 3,
        interval: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> str:
        """The link to the postings' package label: a label task (`/v3/posting/fbs/package-label/create`),
        read (`/v2/posting/fbs/package-label/get`) until its file is `completed`. These two replaced the
        synchronous `/v2/posting/fbs/package-label` (off since 2 November 2026) and are not in the trimmed
        spec: their fields are from Ozon's Seller API reference (docs/actions.md). PartnerUnavailable while
        the label is not formed yet (Ozon forms it 45-60 s after the ship call); PartnerRejected with
        Ozon's reason when it cannot print one of the postings."""
        answer = self.http.request("POST", "/v3/posting/fbs/package-label/create", json={"posting_numbers": postings})
        tasks = parsed(LabelTasks, answer.json(), "ozon").tasks
        task = next((t for t in tasks if t.task_type == BIG_LABEL), tasks[0] if tasks else None)
        if task is None:
            raise PartnerRejected(f"ozon made no label task for {', '.join(postings)}")
        for poll in range(polls):
            if poll:
                sleep(interval)
            state = parsed(
                LabelAnswer,
                self.http.request("POST", "/v2/posting/fbs/package-label/get", json={"task_id": task.task_id}).json(),
                "ozon",
            )
            refused = [u for u in state.status.unprinted_postings if LABEL_NOT_READY not in u.message]
            if refused:
                raise PartnerRejected("; ".join(f"ozon cannot label {u.posting_number}: {u.message}" for u in refused))
            if state.status.code == "error":
                error = state.error or OzonError()
                raise PartnerRejected(f"ozon could not form the label: {error.code} {error.message}".strip())
            if state.status.code == "completed":
                if state.file_url and not state.status.unprinted_postings:
                    return state.file_url
                # A finished task that left the posting out for now: the next attempt asks for a new one.
                raise PartnerUnavailable(f"ozon's label of {', '.join(postings)} is not ready yet")
        raise PartnerUnavailable(f"ozon has not formed the label of {', '.join(postings)} after {polls} reads")

    def posting(self, posting_number: str) -> PostingDetail:
        answer = self.http.request("POST", "/v3/posting/fbs/get", json={"posting_number": posting_number}).json()
        return parsed(PostingDetail, answer.get("result") if isinstance(answer, dict) else None, "ozon")


def _reconcile(
    base_url: str, credentials: Mapping[str, str], open_orders: Sequence[str], now: datetime
) -> list[Canonical]:
    """The push can be late or lost: every posting still awaiting the seller becomes an order."""
    client = OzonClient(base_url, credentials)
    try:
        return list(client.unfulfilled(now))
    finally:
        client.close()


# Read while Ozon waits for the answer to its push: few, short attempts (Ozon retries a push refused as busy).
LOOKUP: Tuning = {"timeout": 5.0, "attempts": 2, "max_backoff": 1.0}


def _complete(base_url: str, credentials: Mapping[str, str], pushed: NewOrder) -> NewOrder:
    """The posting as Ozon holds it: its products with the seller's offer ids and their prices (a push has
    neither prices nor, always, offer ids). One request per new posting; a duplicate push never gets here."""
    client = OzonClient(base_url, credentials, **LOOKUP)
    try:
        posting = client.posting(pushed.external_id)
    finally:
        client.close()
    if not posting.products:
        raise PartnerRejected(f"ozon posting {pushed.external_id} has no products")
    return NewOrder(pushed.external_id, _lines(posting.products), pushed.ship_by or posting.shipment_date)


CONNECTOR = register(Connector(kind="ozon", parse=parse, error=_error, poll=_reconcile, complete=_complete))
register_stocks("ozon", OzonClient)
