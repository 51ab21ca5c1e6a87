"""The courier lifecycle: operator events resume the order's real Step Functions execution (moto's ASL)."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import boto3

from oms_local.runtime import LocalHub
from tests.conftest import Api, courier_order


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
        ("reserved", "create"), ("confirmed", "confirm"), ("picked", "pick"), ("packed", "pack"),
        ("shipped", "ship"), ("delivered", "deliver")]
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
    assert refused["allowed_events"] == ["cancel", "confirm"]
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
        api = Api(hub)
        api.put("/v1/locations/wh-1", {"name": "W", "kind": "warehouse", "capabilities": ["courier"]})
        api.put("/v1/channels/web", {"kind": "web", "name": "Site"})
        api.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": 4}]})
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


def test_a_step_that_keeps_failing_stops_the_lifecycle_visibly() -> None:
    with LocalHub(retry_time_scale=0.001) as hub:
        api = Api(hub)
        api.put("/v1/locations/wh-1", {"name": "W", "kind": "warehouse", "capabilities": ["courier"]})
        api.put("/v1/channels/web", {"kind": "web", "name": "Site"})
        api.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": 4}]})
        order_id = api.post("/v1/orders", courier_order()).body["order_id"]
        for event in ["confirm", "pick", "pack"]:
            api.event(order_id, event)
        api.wait_for(order_id, "packed")
        # Someone zeroes `reserved` behind the hub's back: shipping can no longer consume the reservation.
        boto3.client("dynamodb").update_item(
            TableName=os.environ["STOCK_TABLE"], Key={"sku": {"S": "SKU-A"}, "location_id": {"S": "wh-1"}},
            UpdateExpression="SET reserved = :z", ExpressionAttributeValues={":z": {"N": "0"}})
        api.event(order_id, "ship")
        deadline = time.monotonic() + 10
        while (order := api.order(order_id)).get("attention") != "lifecycle_failed":
            assert time.monotonic() < deadline, order
            time.sleep(0.05)
        assert order["status"] == "packed" and order["last_error"] == "StockContention"
        assert order.get("pending_event") is None
        refused = api.post(f"/v1/orders/{order_id}/events", {"event": "cancel"})
        assert refused.status == 409 and refused.body["error"] == "lifecycle_stopped"
        assert _execution(order_id)["status"] == "FAILED"
        assert api.stock("SKU-A", "wh-1")["on_hand"] == 4  # nothing half-applied
