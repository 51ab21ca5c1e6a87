"""The courier lifecycle: operator events resume the order's real Step Functions execution (moto's ASL)."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import boto3
import pytest

from oms_local.runtime import LocalHub
from tests.support.api import Api
from tests.support.builders import courier_order, one_warehouse


def _execution(order_id: str) -> dict:
    arn = os.environ["ORDER_LIFECYCLE_ARN"].replace(":stateMachine:", ":execution:") + f":{order_id}"
    sfn = boto3.client("stepfunctions")
    deadline = time.monotonic() + 5
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


def test_courier_happy_path_runs_the_state_machine_to_the_end(shop: Api) -> None:
    order_id = shop.post("/v1/orders", courier_order()).body["order_id"]
    for event, status in [("confirm", "confirmed"), ("pick", "picked"), ("pack", "packed")]:
        accepted = shop.event(order_id, event, actor="op-7").body
        assert accepted["next_status"] == status
        shop.wait_for(order_id, status)
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 2, "available": 8}

    shop.event(order_id, "ship")
    shop.wait_for(order_id, "shipped")
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 8, "reserved": 0, "available": 8}

    shop.event(order_id, "deliver", note="left with the concierge")
    order = shop.wait_for(order_id, "delivered")
    assert [(t["status"], t["event"]) for t in order["timeline"]] == [
        ("reserved", "create"),
        ("confirmed", "confirm"),
        ("picked", "pick"),
        ("packed", "pack"),
        ("shipped", "ship"),
        ("delivered", "deliver"),
    ]
    assert order["timeline"][1]["source"] == "operator:op-7"
    assert order["timeline"][-1]["note"] == "left with the concierge"
    assert _execution(order_id)["status"] == "SUCCEEDED"
    assert shop.get("/v1/orders", "status=delivered&channel=web").body["items"][0]["order_id"] == order_id


def test_events_sent_back_to_back_each_wait_for_the_previous_step(shop: Api) -> None:
    order_id = shop.post("/v1/orders", courier_order()).body["order_id"]
    for event in ["confirm", "pick", "pack", "ship", "deliver"]:
        shop.event(order_id, event)  # no waiting between them: the API waits for the lifecycle
    assert shop.wait_for(order_id, "delivered")["status"] == "delivered"


def test_cancel_releases_the_reservation(shop: Api) -> None:
    order_id = shop.post("/v1/orders", courier_order()).body["order_id"]
    shop.event(order_id, "confirm")
    shop.event(order_id, "cancel", note="customer changed their mind")
    order = shop.wait_for(order_id, "cancelled")
    assert order["timeline"][-1]["note"] == "customer changed their mind"
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 0, "available": 10}
    assert _execution(order_id)["status"] == "SUCCEEDED"


def test_a_transition_the_status_does_not_allow_is_409_and_changes_nothing(shop: Api) -> None:
    order_id = shop.post("/v1/orders", courier_order()).body["order_id"]
    refused = shop.event(order_id, "ship", expect=409).body
    assert refused["error"] == "invalid_transition"
    assert refused["status"] == "reserved"
    assert refused["allowed_events"] == ["cancel", "confirm"]  # `expire` is the sweeper's, not offered
    assert shop.event(order_id, "teleport", expect=409).body["error"] == "invalid_transition"
    assert shop.order(order_id)["status"] == "reserved"

    for event in ["confirm", "pick", "pack", "ship"]:
        shop.event(order_id, event)
    shop.wait_for(order_id, "shipped")
    assert shop.event(order_id, "cancel", expect=409).body["status"] == "shipped"
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 8, "reserved": 0, "available": 8}
    shop.event(order_id, "deliver")
    shop.wait_for(order_id, "delivered")
    assert shop.event(order_id, "cancel", expect=409).body["allowed_events"] == []


def test_concurrent_duplicate_events_are_applied_once(shop: Api) -> None:
    order_id = shop.post("/v1/orders", courier_order()).body["order_id"]
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: shop.post(f"/v1/orders/{order_id}/events", {"event": "confirm"}), range(10)))
    assert sorted(a.status for a in answers) == [202] + [409] * 9
    assert {a.body["error"] for a in answers if a.status == 409} == {"invalid_transition"}
    order = shop.wait_for(order_id, "confirmed")
    assert [t["status"] for t in order["timeline"]] == ["reserved", "confirmed"]


def test_event_bad_input(shop: Api) -> None:
    order_id = shop.post("/v1/orders", courier_order()).body["order_id"]
    assert shop.post(f"/v1/orders/{order_id}/events", {}).status == 422
    assert shop.post(f"/v1/orders/{order_id}/events", {"event": "confirm", "note": "x" * 501}).status == 422
    assert shop.post("/v1/orders/ord_unknown/events", {"event": "confirm"}).status == 404
    assert shop.order(order_id)["status"] == "reserved"


def test_on_hold_order_is_reserved_once_stock_arrives(shop: Api) -> None:
    # Stock arriving at another location completes the order only where the channel allows split shipments.
    assert shop.put("/v1/channels/web", {"kind": "web", "name": "Site", "allow_split": True}).status == 200
    order = shop.post("/v1/orders", courier_order(lines=[{"sku": "SKU-B", "qty": 7, "price": 5}])).body
    order_id = order["order_id"]
    assert order["status"] == "on_hold"

    shop.event(order_id, "reserve")  # nothing arrived yet: stays on hold
    time.sleep(0.3)
    still = shop.wait_for(order_id, "on_hold")
    assert still["shortages"] == [{"sku": "SKU-B", "missing": 2}]

    shop.put("/v1/stock/store-1", {"mode": "delta", "items": [{"sku": "SKU-B", "on_hand": 4}]})
    shop.event(order_id, "reserve")
    reserved = shop.wait_for(order_id, "reserved")
    assert reserved["shortages"] == []
    assert sorted((a["location_id"], a["qty"]) for a in reserved["allocations"]) == [("store-1", 2), ("wh-1", 5)]
    assert shop.stock("SKU-B", "store-1") == {"on_hand": 4, "reserved": 2, "available": 2}
    assert shop.get("/v1/tasks", "state=open").body["items"] == []
    assert [t["order_id"] for t in shop.get("/v1/tasks", "state=closed").body["items"]] == [order_id]

    shop.event(order_id, "cancel")
    shop.wait_for(order_id, "cancelled")
    assert shop.stock("SKU-B", "store-1")["reserved"] == 0
    assert shop.stock("SKU-B", "wh-1") == {"on_hand": 5, "reserved": 0, "available": 5}


def test_hard_deadline_cancels_and_releases_stock() -> None:
    with LocalHub(deadline_cap_seconds=1) as hub:
        api = one_warehouse(Api(hub))
        order_id = api.post("/v1/orders", courier_order()).body["order_id"]
        order = api.wait_for(order_id, "cancelled", timeout=10)
        assert order["timeline"][-1]["source"] == "deadline"
        assert api.stock("SKU-A", "wh-1") == {"on_hand": 4, "reserved": 0, "available": 4}
        late = api.post(f"/v1/orders/{order_id}/events", {"event": "confirm"})
        assert late.status == 409


def test_execution_input_is_the_order_identity(shop: Api) -> None:
    order_id = shop.post("/v1/orders", courier_order()).body["order_id"]
    shop.event(order_id, "cancel")
    shop.wait_for(order_id, "cancelled")
    assert json.loads(_execution(order_id)["input"]) == {"order_id": order_id, "channel": "web", "status": "reserved"}


def test_a_step_that_keeps_failing_waits_for_an_operator_to_retry_or_cancel() -> None:
    with LocalHub(retry_time_scale=0.001) as hub:
        api = one_warehouse(Api(hub))
        stock_key = {"sku": {"S": "SKU-A"}, "location_id": {"S": "wh-1"}}

        def set_reserved(units: int) -> None:  # someone edits `reserved` behind the hub's back
            boto3.client("dynamodb").update_item(
                TableName=os.environ["STOCK_TABLE"],
                Key=stock_key,
                UpdateExpression="SET reserved = :r",
                ExpressionAttributeValues={":r": {"N": str(units)}},
            )

        def wait_for_attention(order_id: str) -> dict:
            deadline = time.monotonic() + 10
            while (order := api.order(order_id)).get("attention") != "lifecycle_failed" or order.get("pending_event"):
                assert time.monotonic() < deadline, order
                time.sleep(0.05)
            return order

        shipped_id = api.post("/v1/orders", courier_order("fails-then-ships")).body["order_id"]
        for event in ["confirm", "pick", "pack"]:
            api.event(shipped_id, event)
        api.wait_for(shipped_id, "packed")
        set_reserved(0)  # shipping can no longer consume the reservation
        api.event(shipped_id, "ship")
        failed = wait_for_attention(shipped_id)
        assert failed["status"] == "packed" and failed["last_error"] == "StockContention"
        assert api.stock("SKU-A", "wh-1")["on_hand"] == 4  # nothing half-applied
        refused = api.event(shipped_id, "pick", expect=409).body
        assert refused["allowed_events"] == ["cancel", "retry"]

        set_reserved(2)  # repaired: the operator retries the step that failed
        api.event(shipped_id, "retry")
        shipped = api.wait_for(shipped_id, "shipped")
        assert "attention" not in shipped or shipped["attention"] is None
        assert api.stock("SKU-A", "wh-1") == {"on_hand": 2, "reserved": 0, "available": 2}

        cancelled_id = api.post("/v1/orders", courier_order("fails-then-cancels")).body["order_id"]
        api.event(cancelled_id, "confirm")
        api.wait_for(cancelled_id, "confirmed")
        set_reserved(0)
        api.event(cancelled_id, "cancel")  # releasing fails: reserved is short
        wait_for_attention(cancelled_id)
        set_reserved(2)
        api.event(cancelled_id, "cancel", note="released by hand")
        order = api.wait_for(cancelled_id, "cancelled")
        assert order["timeline"][-1]["note"] == "released by hand"
        assert api.stock("SKU-A", "wh-1") == {"on_hand": 2, "reserved": 0, "available": 2}
        assert _execution(cancelled_id)["status"] == "SUCCEEDED"


def test_reservations_split_over_many_locations_are_released_in_chunks(api: Api) -> None:
    """40 SKUs half at one warehouse, the rest found later at another: 80 reservation rows, more than
    one 100-item transaction can close with the order."""
    skus = [f"S{n:02d}" for n in range(40)]
    api.put("/v1/channels/web", {"kind": "web", "name": "Site", "allow_split": True})
    for wh in ("wh-1", "wh-2"):
        api.put(f"/v1/locations/{wh}", {"name": wh, "kind": "warehouse", "capabilities": ["courier"]})
    api.put("/v1/stock/wh-1", {"items": [{"sku": sku, "on_hand": 1} for sku in skus]})
    order = api.post("/v1/orders", courier_order(lines=[{"sku": sku, "qty": 2, "price": 1} for sku in skus])).body
    assert order["status"] == "on_hold" and len(order["shortages"]) == 40
    api.put("/v1/stock/wh-2", {"items": [{"sku": sku, "on_hand": 1} for sku in skus]})
    api.event(order["order_id"], "reserve")
    reserved = api.wait_for(order["order_id"], "reserved")
    assert len(reserved["allocations"]) == 80
    api.event(order["order_id"], "cancel")
    api.wait_for(order["order_id"], "cancelled", timeout=10)
    assert all(
        api.stock(sku, wh) == {"on_hand": 1, "reserved": 0, "available": 1}
        for sku in skus[:3]
        for wh in ("wh-1", "wh-2")
    )
    assert sum(api.stock(sku, wh)["reserved"] for sku in skus for wh in ("wh-1", "wh-2")) == 0


def test_shipped_order_past_its_deadline_is_flagged_and_can_still_be_delivered() -> None:
    with LocalHub(deadline_cap_seconds=3) as hub:
        api = one_warehouse(Api(hub))
        order_id = api.post("/v1/orders", courier_order()).body["order_id"]
        for event in ["confirm", "pick", "pack", "ship"]:
            api.event(order_id, event)
        api.wait_for(order_id, "shipped")
        deadline = time.monotonic() + 10
        while api.order(order_id).get("attention") != "delivery_unconfirmed":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        api.event(order_id, "deliver")
        delivered = api.wait_for(order_id, "delivered")
        assert delivered.get("attention") is None


def test_an_event_whose_deadline_passes_on_its_way_waits_for_the_flag_and_is_applied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orders.adapters import lifecycle_engine, order_table

    with LocalHub() as hub:
        api = one_warehouse(Api(hub))
        order_id = api.post("/v1/orders", courier_order()).body["order_id"]
        for event in ["confirm", "pick", "pack", "ship"]:
            api.event(order_id, event)
        api.wait_for(order_id, "shipped")
        resume = lifecycle_engine.resume

        def after_the_deadline(token: str, output: dict[str, Any]) -> None:
            # The token was claimed in time; shipped's 60-day deadline passes before SendTaskSuccess lands.
            hub.clock.advance(timedelta(days=61))
            deadline = time.monotonic() + 10
            while (order_table.get_order(order_id) or {}).get("attention") != "delivery_unconfirmed":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            monkeypatch.setattr(lifecycle_engine, "resume", resume)
            resume(token, output)

        monkeypatch.setattr(lifecycle_engine, "resume", after_the_deadline)
        accepted = api.event(order_id, "deliver")
        assert accepted.status == 202 and accepted.body["next_status"] == "delivered"
        delivered = api.wait_for(order_id, "delivered")
    assert delivered.get("attention") is None
    assert [e["status"] for e in delivered["timeline"]][-2:] == ["shipped", "delivered"]
