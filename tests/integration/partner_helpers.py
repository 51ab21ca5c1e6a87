"""Partners calling the hub as they do (Ozon push, Market notifications through the queue, Wildberries
polled from a fake server), failures injected into the hub's first attempt, and what a final status
implies for the stock of a 1-unit marketplace order."""

from __future__ import annotations

from typing import Any

import pytest

from common.errors import HubError, OrderBusy
from oms_local.runtime import LocalHub
from orders.use_cases import events as order_events
from tests.support.api import Answer, Api
from tests.support.partners import OZON_TOKEN, YM_ADDRESS, YM_TOKEN, push, queue_depth
from tests.support.sample_events import load_event
from tests.support.waiting import wait_until

SCHEDULED = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
ON_HAND = 10  # units of SKU-A at wh-1 (the `market` fixture)


def ozon_posting(hub: LocalHub, posting: str, sku: str = "SKU-A") -> Answer:
    """A 1-unit posting of `sku`."""
    body = load_event("ozon_new_posting.json")
    body.update(posting_number=posting, products=[{**body["products"][0], "offer_id": sku, "quantity": 1}])
    return push(hub, "ozon", body, token=OZON_TOKEN)


def ozon_state(hub: LocalHub, posting: str, state: str, at: str) -> Answer:
    """TYPE_STATE_CHANGED, or TYPE_POSTING_CANCELLED for posting_canceled (as Ozon sends a cancellation)."""
    name = "ozon_posting_cancelled.json" if state == "posting_canceled" else "ozon_state_changed.json"
    return push(
        hub,
        "ozon",
        {**load_event(name), "posting_number": posting, "new_state": state, "changed_state_date": at},
        token=OZON_TOKEN,
    )


def market_notify(hub: LocalHub, body: dict[str, Any]) -> Answer:
    answer = push(hub, "yandex", body, token=YM_TOKEN, path="/notification", source_ip=YM_ADDRESS)
    assert answer.status == 200, answer.body
    return answer


def market_created(hub: LocalHub, order_id: int, sku: str = "SKU-A") -> Answer:
    """A 1-unit order of `sku`."""
    body = load_event("ym_order_created.json")
    return market_notify(
        hub, {**body, "orderId": order_id, "items": [{**body["items"][0], "offerId": sku, "count": 1}]}
    )


def market_status(hub: LocalHub, order_id: int, status: str, at: str) -> Answer:
    return market_notify(
        hub,
        {
            **load_event("ym_order_status_updated.json"),
            "orderId": order_id,
            "status": status,
            "substatus": None,
            "updatedAt": at,
        },
    )


def queue_drained(hub: LocalHub) -> None:
    wait_until(lambda: queue_depth(hub, "PartnerQueue") == 0, what="an empty partner queue")


def sweep(hub: LocalHub) -> dict[str, Any]:
    return hub.invoke("PartnerPollFunction", SCHEDULED)["channels"]


class FailFirst:
    """Makes the hub's operator-event use case fail before doing anything, for the events it is armed
    for: each armed event's next `times` calls raise `error` (a crash, or the lifecycle not yet waiting)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.armed: dict[str, list[Exception]] = {}
        self.raised: list[str] = []
        real = order_events.post_event

        def post_event(order_id: str, event_in: Any, source: str) -> dict[str, Any]:
            pending = self.armed.get(event_in.event)
            if pending:
                self.raised.append(event_in.event)
                raise pending.pop(0)
            return real(order_id, event_in, source)

        monkeypatch.setattr(order_events, "post_event", post_event)

    def arm(self, event: str, error: Exception, times: int = 1) -> None:
        self.armed.setdefault(event, []).extend([error] * times)


def busy() -> HubError:
    return OrderBusy("the order is still applying a previous event; retry shortly", status="reserved")


# What each final status of a 1-unit order means for its SKU's row at wh-1 (on_hand, reserved, available),
# the row holding ON_HAND units before the order.
STOCK_AFTER = {
    "reserved": (ON_HAND, 1, ON_HAND - 1),
    "packed": (ON_HAND, 1, ON_HAND - 1),
    "shipped": (ON_HAND - 1, 0, ON_HAND - 1),
    "delivered": (ON_HAND - 1, 0, ON_HAND - 1),
    "cancelled": (ON_HAND, 0, ON_HAND),
}


def stock_of(api: Api, sku: str = "SKU-A") -> tuple[int, int, int]:
    row = api.stock(sku, "wh-1")
    return row["on_hand"], row["reserved"], row["available"]
