"""Holds that expire: the scheduled sweeper posts `expire`, the lifecycle releases the units and ends the order."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from oms_local.runtime import LocalHub
from tests.support.api import Api
from tests.support.builders import courier_order

SWEEP = "HoldSweeperFunction.Sweep"


def _in_store(external_id: str, qty: int = 2, **extra: object) -> dict:
    return courier_order(
        external_id,
        lines=[{"sku": "SKU-A", "qty": qty, "price": 1}],
        delivery={"method": "reserve_in_store", "location_id": "store-1"},
        **extra,
    )


def test_reserve_in_store_holds_for_the_location_hold_hours_then_expires(shop: Api, hub: LocalHub) -> None:
    shop.put(
        "/v1/locations/store-1",
        {"name": "Store", "kind": "store", "hold_hours": 24, "capabilities": ["reserve_in_store"]},
    )
    order = shop.post("/v1/orders", _in_store("rs-1")).body
    expires = datetime.fromisoformat(order["hold_expires_at"].replace("Z", "+00:00"))
    assert timedelta(hours=23, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=24)
    assert shop.stock("SKU-A", "store-1")["reserved"] == 2
    assert hub.fire_schedules(SWEEP)[SWEEP] == {"expired": 0, "moved_on": 0, "busy": 0}  # not yet
    assert shop.order(order["order_id"])["status"] == "reserved"
    later = expires + timedelta(seconds=1)
    assert hub.fire_schedules(SWEEP, at=later)[SWEEP] == {"expired": 0, "moved_on": 0, "busy": 0}, (
        "the sweeper reads its own clock, not the event's time"
    )


def test_a_hold_the_order_asked_for_expires_and_releases_the_stock(shop: Api, hub: LocalHub) -> None:
    soon = (datetime.now(UTC) + timedelta(milliseconds=300)).isoformat()
    order = shop.post("/v1/orders", courier_order("unpaid-1", hold_until=soon)).body
    kept = shop.post("/v1/orders", courier_order("paid-1", hold_until=soon)).body
    plain = shop.post("/v1/orders", courier_order("plain-1", lines=[{"sku": "SKU-B", "qty": 1, "price": 1}])).body
    shop.event(kept["order_id"], "confirm")
    shop.wait_for(kept["order_id"], "confirmed")
    before = shop.stock("SKU-A", "wh-1")
    time.sleep(0.4)
    assert hub.fire_schedules(SWEEP)[SWEEP] == {"expired": 1, "moved_on": 1, "busy": 0}
    expired = shop.wait_for(order["order_id"], "expired")
    assert expired["timeline"][-1]["event"] == "expire" and expired["timeline"][-1]["source"] == "sweeper"
    after = shop.stock("SKU-A", "wh-1")
    assert after["reserved"] == before["reserved"] - 2 and after["on_hand"] == before["on_hand"]
    assert shop.order(kept["order_id"])["status"] == "confirmed"
    assert shop.order(plain["order_id"])["status"] == "reserved"
    # Swept again: nothing is left in the index, nothing changes; expire is refused after the end.
    assert hub.fire_schedules(SWEEP)[SWEEP] == {"expired": 0, "moved_on": 0, "busy": 0}
    assert shop.stock("SKU-A", "wh-1") == after
    refused = shop.post(f"/v1/orders/{order['order_id']}/events", {"event": "expire"})
    assert refused.status == 409 and refused.body["error"] == "invalid_transition"


def test_an_on_hold_order_expires_too(shop: Api, hub: LocalHub) -> None:
    soon = (datetime.now(UTC) + timedelta(milliseconds=200)).isoformat()
    order = shop.post(
        "/v1/orders", courier_order("short-1", hold_until=soon, lines=[{"sku": "SKU-A", "qty": 20, "price": 1}])
    ).body
    assert order["status"] == "on_hold"
    time.sleep(0.3)
    assert hub.fire_schedules(SWEEP)[SWEEP]["expired"] == 1
    shop.wait_for(order["order_id"], "expired")
    assert shop.stock("SKU-A", "wh-1")["reserved"] == 0 and shop.stock("SKU-A", "store-1")["reserved"] == 0
    assert shop.get("/v1/tasks", "state=closed").body["items"][0]["order_id"] == order["order_id"]


def test_bad_hold_values_are_422(shop: Api) -> None:
    assert shop.post("/v1/orders", courier_order("h-1", hold_until="tomorrow")).status == 422
    assert shop.post("/v1/orders", courier_order("h-2", hold_until="2026-12-01T10:00:00")).status == 422  # naive
    answer = shop.put("/v1/locations/store-9", {"name": "S", "kind": "store", "hold_hours": 0})
    assert answer.status == 422 and ["body", "hold_hours"] in [d["loc"] for d in answer.body["details"]]
