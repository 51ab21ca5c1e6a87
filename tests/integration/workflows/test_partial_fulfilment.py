"""Items found missing at picking: written off at their location, and the order ships the rest."""

from __future__ import annotations

from tests.conftest import Api, courier_order
from tests.integration.workflows.conftest import place, walk


def _short(api: Api, order_id: str, missing: int, location: str = "wh-1", sku: str = "SKU-A", expect: int = 200):
    answer = api.post(
        f"/v1/orders/{order_id}/short-picks",
        {"location_id": location, "lines": [{"sku": sku, "missing": missing}], "note": "shelf empty"},
    )
    assert answer.status == expect, answer.body
    return answer.body


def test_missing_units_leave_the_order_and_the_rest_ships(shop: Api) -> None:
    lines = [{"sku": "SKU-A", "qty": 3, "price": 100}]
    order_id = shop.post(
        "/v1/orders", courier_order("sp-1", lines=lines, delivery={"method": "courier", "address": "Tverskaya 7"})
    ).body["order_id"]
    walk(shop, order_id, [("confirm", "confirmed")])
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 5, "reserved": 3, "available": 2}

    order = _short(shop, order_id, 1)
    assert order["status"] == "confirmed"
    assert order["lines"] == [{"sku": "SKU-A", "qty": 2, "price": 100.0}] and order["total"] == 200.0
    assert order["allocations"] == [{"sku": "SKU-A", "location_id": "wh-1", "qty": 2}]
    assert (order["timeline"][-1]["event"], order["timeline"][-1]["note"]) == (
        "short_pick",
        "missing at wh-1: SKU-A x1 (shelf empty)",
    )
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 4, "reserved": 2, "available": 2}  # written off

    walk(shop, order_id, [("pick", "picked"), ("pack", "packed"), ("ship", "shipped"), ("deliver", "delivered")])
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 2, "reserved": 0, "available": 2}


def test_short_picks_that_cannot_apply_change_nothing(shop: Api) -> None:
    order_id = place(shop, "courier", "sp-2")
    assert _short(shop, order_id, 1, expect=409)["status"] == "reserved"  # not picking yet
    walk(shop, order_id, [("confirm", "confirmed")])
    assert _short(shop, order_id, 3, expect=422)["details"][0]["msg"] == "wh-1 holds 2 of SKU-A for this order"
    assert _short(shop, order_id, 1, location="store-1", expect=422)["details"][0]["loc"] == [
        "body",
        "lines",
        0,
        "missing",
    ]
    assert _short(shop, order_id, 2, expect=422)["message"] == "every unit would be missing: cancel the order instead"
    assert shop.post(f"/v1/orders/{order_id}/short-picks", {"location_id": "wh-1", "lines": []}).status == 422
    assert (
        shop.post(
            "/v1/orders/ord_none/short-picks", {"location_id": "wh-1", "lines": [{"sku": "SKU-A", "missing": 1}]}
        ).status
        == 404
    )
    order = shop.order(order_id)
    assert order["lines"][0]["qty"] == 2 and order["allocations"][0]["qty"] == 2
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 5, "reserved": 2, "available": 3}
    walk(shop, order_id, [("pick", "picked"), ("pack", "packed")])
    assert _short(shop, order_id, 1, expect=409)["status"] == "packed"  # packed: too late


def test_cancel_after_a_short_pick_releases_only_what_is_left(shop: Api) -> None:
    lines = [{"sku": "SKU-A", "qty": 3, "price": 100}]
    order_id = shop.post(
        "/v1/orders", courier_order("sp-3", lines=lines, delivery={"method": "courier", "address": "Tverskaya 7"})
    ).body["order_id"]
    walk(shop, order_id, [("confirm", "confirmed")])
    _short(shop, order_id, 2)
    shop.event(order_id, "cancel")
    shop.wait_for(order_id, "cancelled")
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 3, "reserved": 0, "available": 3}
