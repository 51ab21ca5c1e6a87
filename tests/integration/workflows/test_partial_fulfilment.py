"""Items found missing at picking: written off at their location, and the order ships the rest."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.builders import courier_order
from tests.support.workflows import place, walk


def _short(api: Api, order_id: str, missing: int, location: str = "wh-1", sku: str = "SKU-A", expect: int = 200):
    answer = api.post(
        f"/v1/orders/{order_id}/short-picks",
        {"location_id": location, "lines": [{"sku": sku, "missing": missing}], "note": "shelf empty"},
    )
    assert answer.status == expect, answer.body
    return answer.body


def test_missing_units_leave_the_order_and_the_rest_ships(every_method_shop: Api) -> None:
    lines = [{"sku": "SKU-A", "qty": 3, "price": 100}]
    order_id = every_method_shop.post(
        "/v1/orders", courier_order("sp-1", lines=lines, delivery={"method": "courier", "address": "Tverskaya 7"})
    ).body["order_id"]
    walk(every_method_shop, order_id, [("confirm", "confirmed")])
    assert every_method_shop.stock("SKU-A", "wh-1") == {"on_hand": 5, "reserved": 3, "available": 2}

    order = _short(every_method_shop, order_id, 1)
    assert order["status"] == "confirmed"
    assert order["lines"] == [{"sku": "SKU-A", "qty": 2, "price": 100.0}] and order["total"] == 200.0
    assert order["allocations"] == [{"sku": "SKU-A", "location_id": "wh-1", "qty": 2}]
    assert (order["timeline"][-1]["event"], order["timeline"][-1]["note"]) == (
        "short_pick",
        "missing at wh-1: SKU-A x1 (shelf empty)",
    )
    assert every_method_shop.stock("SKU-A", "wh-1") == {"on_hand": 4, "reserved": 2, "available": 2}  # written off

    walk(
        every_method_shop,
        order_id,
        [("pick", "picked"), ("pack", "packed"), ("ship", "shipped"), ("deliver", "delivered")],
    )
    assert every_method_shop.stock("SKU-A", "wh-1") == {"on_hand": 2, "reserved": 0, "available": 2}


def test_short_picks_that_cannot_apply_change_nothing(every_method_shop: Api) -> None:
    order_id = place(every_method_shop, "courier", "sp-2")
    assert _short(every_method_shop, order_id, 1, expect=409)["status"] == "reserved"  # not picking yet
    walk(every_method_shop, order_id, [("confirm", "confirmed")])
    assert (
        _short(every_method_shop, order_id, 3, expect=422)["details"][0]["msg"]
        == "wh-1 holds 2 of SKU-A for this order"
    )
    assert _short(every_method_shop, order_id, 1, location="store-1", expect=422)["details"][0]["loc"] == [
        "body",
        "lines",
        0,
        "missing",
    ]
    assert (
        _short(every_method_shop, order_id, 2, expect=422)["message"]
        == "every unit would be missing: cancel the order instead"
    )
    assert (
        every_method_shop.post(f"/v1/orders/{order_id}/short-picks", {"location_id": "wh-1", "lines": []}).status == 422
    )
    assert (
        every_method_shop.post(
            "/v1/orders/ord_none/short-picks", {"location_id": "wh-1", "lines": [{"sku": "SKU-A", "missing": 1}]}
        ).status
        == 404
    )
    order = every_method_shop.order(order_id)
    assert order["lines"][0]["qty"] == 2 and order["allocations"][0]["qty"] == 2
    assert every_method_shop.stock("SKU-A", "wh-1") == {"on_hand": 5, "reserved": 2, "available": 3}
    walk(every_method_shop, order_id, [("pick", "picked"), ("pack", "packed")])
    assert _short(every_method_shop, order_id, 1, expect=409)["status"] == "packed"  # packed: too late


def test_cancel_after_a_short_pick_releases_only_what_is_left(every_method_shop: Api) -> None:
    lines = [{"sku": "SKU-A", "qty": 3, "price": 100}]
    order_id = every_method_shop.post(
        "/v1/orders", courier_order("sp-3", lines=lines, delivery={"method": "courier", "address": "Tverskaya 7"})
    ).body["order_id"]
    walk(every_method_shop, order_id, [("confirm", "confirmed")])
    _short(every_method_shop, order_id, 2)
    every_method_shop.event(order_id, "cancel")
    every_method_shop.wait_for(order_id, "cancelled")
    assert every_method_shop.stock("SKU-A", "wh-1") == {"on_hand": 3, "reserved": 0, "available": 3}
