"""Every fulfilment scenario end to end: orders over HTTP, the generated ASL executed by moto, deadlines
shortened per state (LocalHub(state_timeouts=...)) or taken from the order's own ship_by."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from orders.domain.models import OrderEventIn
from orders.use_cases.events import SWEEPER, post_event
from tests.support.api import Api
from tests.support.workflows import action, execution, place, wait_attention, walk


def test_get_workflows_lists_every_scenario_with_the_old_fields_kept(api: Api) -> None:
    items = {w["name"]: w for w in api.get("/v1/workflows").body["items"]}
    assert set(items) == {
        "courier",
        "pickup_point",
        "post",
        "ship_from_store",
        "click_collect",
        "reserve_in_store",
        "marketplace",
    }
    courier = items["courier"]
    assert {"name", "delivery_methods", "initial_statuses", "statuses", "terminal_statuses", "transitions"} <= set(
        courier
    )
    assert courier["statuses"][:2] == ["on_hold", "reserved"]
    assert {"from": "packed", "event": "ship", "to": "shipped"} in courier["transitions"]
    assert "shipped" not in courier["cancellable_statuses"]
    details = {d["status"]: d for d in items["click_collect"]["status_details"]}
    assert details["ready_for_pickup"] == {
        "status": "ready_for_pickup",
        "kpi_seconds": 259200,
        "on_timeout": "return",
        "stock": None,
        "payment": None,
        "actions": ["notify_customer"],
        "deadline_from": None,
        "description": details["ready_for_pickup"]["description"],
    }
    assert items["marketplace"]["status_details"][1]["deadline_from"] == "ship_by"


def test_pickup_point_and_locker(every_method_shop: Api) -> None:
    order_id = place(every_method_shop, "pickup_point", "pp-1")
    assert every_method_shop.order(order_id)["workflow"] == "pickup_point"
    walk(
        every_method_shop,
        order_id,
        [("confirm", "confirmed"), ("pick", "picked"), ("pack", "packed"), ("ship", "shipped")],
    )
    assert every_method_shop.stock("SKU-A", "wh-1") == {"on_hand": 3, "reserved": 0, "available": 3}
    assert every_method_shop.event(order_id, "deliver", expect=409).body["allowed_events"] == ["arrive"]
    order = walk(every_method_shop, order_id, [("arrive", "at_pickup_point"), ("collect", "collected")])
    assert [t["status"] for t in order["timeline"]] == [
        "reserved",
        "confirmed",
        "picked",
        "packed",
        "shipped",
        "at_pickup_point",
        "collected",
    ]
    assert execution(order_id, "pickup_point")["status"] == "SUCCEEDED"


def test_russian_post(every_method_shop: Api) -> None:
    order_id = place(every_method_shop, "post", "post-1")
    walk(
        every_method_shop,
        order_id,
        [
            ("confirm", "confirmed"),
            ("pick", "picked"),
            ("pack", "packed"),
            ("ship", "shipped"),
            ("arrive", "at_post_office"),
            ("deliver", "delivered"),
        ],
    )
    assert every_method_shop.stock("SKU-A", "wh-1") == {"on_hand": 3, "reserved": 0, "available": 3}
    assert execution(order_id, "post")["status"] == "SUCCEEDED"


def test_ship_from_store_flags_a_late_store_and_carries_on(timed_hub: Api) -> None:
    api = timed_hub
    order_id = place(api, "ship_from_store", "sfs-1")
    assert api.order(order_id)["allocations"] == [{"sku": "SKU-A", "location_id": "store-1", "qty": 2}]
    walk(api, order_id, [("confirm", "confirmed")])
    late = wait_attention(api, order_id, "store_late")
    assert late["status"] == "confirmed"
    order = walk(api, order_id, [("pick", "picked"), ("pack", "packed"), ("ship", "shipped"), ("deliver", "delivered")])
    assert order.get("attention") is None
    assert api.stock("SKU-A", "store-1") == {"on_hand": 3, "reserved": 0, "available": 3}


def test_click_and_collect_collected(every_method_shop: Api) -> None:
    order_id = place(every_method_shop, "click_collect", "cc-1")
    walk(every_method_shop, order_id, [("confirm", "confirmed"), ("pick", "picked"), ("ready", "ready_for_pickup")])
    assert every_method_shop.stock("SKU-A", "store-1") == {"on_hand": 5, "reserved": 2, "available": 3}
    walk(every_method_shop, order_id, [("collect", "collected")])
    assert every_method_shop.stock("SKU-A", "store-1") == {"on_hand": 3, "reserved": 0, "available": 3}
    assert execution(order_id, "click_collect")["status"] == "SUCCEEDED"


def test_click_and_collect_not_collected_goes_back_to_stock(timed_hub: Api) -> None:
    api = timed_hub
    order_id = place(api, "click_collect", "cc-2")
    walk(api, order_id, [("confirm", "confirmed"), ("pick", "picked"), ("ready", "ready_for_pickup")])
    order = api.wait_for(order_id, "returned_to_stock", timeout=10)
    assert (order["timeline"][-1]["event"], order["timeline"][-1]["source"]) == ("return", "deadline")
    assert api.stock("SKU-A", "store-1") == {"on_hand": 5, "reserved": 0, "available": 5}
    assert api.event(order_id, "collect", expect=409).body["status"] == "returned_to_stock"


def test_reserve_in_store_paid_at_the_till(every_method_shop: Api) -> None:
    order_id = place(every_method_shop, "reserve_in_store", "ris-1", payment={"method": "on_pickup"})
    walk(every_method_shop, order_id, [("confirm", "held"), ("sell", "sold")])
    assert every_method_shop.stock("SKU-A", "store-1") == {"on_hand": 3, "reserved": 0, "available": 3}
    assert every_method_shop.stock("SKU-A", "wh-1")["reserved"] == 0  # reserve in store never reserves elsewhere


def test_reserve_in_store_hold_expires_by_itself(timed_hub: Api) -> None:
    api = timed_hub
    order_id = place(api, "reserve_in_store", "ris-2", payment={"method": "on_pickup"})
    walk(api, order_id, [("confirm", "held")])
    order = api.wait_for(order_id, "expired", timeout=10)
    assert order["timeline"][-1]["source"] == "deadline"
    assert api.stock("SKU-A", "store-1") == {"on_hand": 5, "reserved": 0, "available": 5}


@pytest.mark.parametrize(
    "method, steps",
    [("courier", []), ("courier", None), ("reserve_in_store", [("confirm", "held")]), ("marketplace", [])],
)
def test_the_sweepers_expire_releases_every_hold(every_method_shop: Api, method: str, steps: list | None) -> None:
    lines = [{"sku": "SKU-A", "qty": 6 if steps is None else 2, "price": 10}]  # None: more than wh-1 has
    order_id = place(every_method_shop, method, f"exp-{method}-{steps is None}", lines=lines)
    walk(every_method_shop, order_id, steps or [])
    before = every_method_shop.order(order_id)["status"]
    assert before == ("on_hold" if steps is None else before)
    # The sweeper's own path (the API refuses `expire`): every hold status must take it.
    post_event(order_id, OrderEventIn(event="expire", note="hold expires_at passed"), source=SWEEPER)
    order = every_method_shop.wait_for(order_id, "expired")
    assert order["timeline"][-1]["note"] == "hold expires_at passed"
    assert all(every_method_shop.stock("SKU-A", loc)["reserved"] == 0 for loc in ("wh-1", "store-1"))
    assert (
        every_method_shop.event(order_id, "expire", expect=409).body["status"] == "expired"
    )  # a second sweep changes nothing


def test_expire_is_refused_once_the_hold_is_over(every_method_shop: Api) -> None:
    order_id = place(every_method_shop, "courier", "exp-late")
    walk(every_method_shop, order_id, [("confirm", "confirmed")])
    assert every_method_shop.event(order_id, "expire", expect=409).body["allowed_events"] == ["cancel", "pick"]
    assert every_method_shop.stock("SKU-A", "wh-1")["reserved"] == 2


def test_marketplace_fbs_ship_by_is_the_packing_deadline(every_method_shop: Api) -> None:
    ship_by = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    order_id = place(every_method_shop, "marketplace", "ozon-0001-1", channel="ozon", ship_by=ship_by)
    late = wait_attention(every_method_shop, order_id, "ship_by_missed")
    assert late["status"] == "reserved" and late["ship_by"]
    walk(every_method_shop, order_id, [("pack", "packed")])
    # The channel has no API for the hub: Ozon cannot be told, so the seller may not hand the order over...
    action(every_method_shop, order_id, "confirm_to_marketplace", "failed")
    refused = every_method_shop.event(order_id, "ship", expect=409).body
    assert refused["error"] == "action_pending"
    assert [(a["name"], a["status"]) for a in refused["actions"]] == [("confirm_to_marketplace", "failed")]
    # ... but Ozon reporting the hand-over itself is never held.
    post_event(order_id, OrderEventIn(event="ship"), "partner:ozon")
    every_method_shop.wait_for(order_id, "shipped")
    order = walk(every_method_shop, order_id, [("deliver", "delivered")])
    statuses = [t["status"] for t in order["timeline"] if t["source"] != "actions"]
    assert statuses == ["reserved", "packed", "shipped", "delivered"]
    described = execution(order_id, "marketplace")
    assert described["status"] == "SUCCEEDED"
    assert 1 <= json.loads(described["input"])["deadlines"]["reserved"] <= 2


def test_marketplace_packed_in_time_is_not_flagged(every_method_shop: Api) -> None:
    ship_by = (datetime.now(UTC) + timedelta(hours=20)).isoformat()
    order_id = place(every_method_shop, "marketplace", "ozon-0002-1", channel="ozon", ship_by=ship_by)
    order = walk(every_method_shop, order_id, [("pack", "packed")])
    assert order.get("attention") is None
    assert 71000 < json.loads(execution(order_id, "marketplace", settle=0)["input"])["deadlines"]["reserved"] <= 72000
