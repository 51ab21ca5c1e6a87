"""Full and partial returns with a reason: the units go back on hand at the chosen location, once."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.workflows import place, walk

DELIVERED = [
    ("confirm", "confirmed"),
    ("pick", "picked"),
    ("pack", "packed"),
    ("ship", "shipped"),
    ("deliver", "delivered"),
]


def _return(api: Api, order_id: str, return_id: str, qty: int, location: str = "store-1", expect: int = 201):
    answer = api.post(
        f"/v1/orders/{order_id}/returns",
        {
            "return_id": return_id,
            "reason": "wrong size",
            "location_id": location,
            "lines": [{"sku": "SKU-A", "qty": qty}],
        },
    )
    assert answer.status == expect, answer.body
    return answer.body


def test_partial_then_full_return_puts_units_back_once(every_method_shop: Api) -> None:
    order_id = place(every_method_shop, "courier", "ret-1")
    walk(every_method_shop, order_id, DELIVERED)
    assert every_method_shop.stock("SKU-A", "wh-1") == {"on_hand": 3, "reserved": 0, "available": 3}

    first = _return(every_method_shop, order_id, "r-1", 1)["return"]
    assert (first["reason"], first["location_id"], first["lines"]) == (
        "wrong size",
        "store-1",
        [{"sku": "SKU-A", "qty": 1}],
    )
    assert every_method_shop.stock("SKU-A", "store-1") == {"on_hand": 6, "reserved": 0, "available": 6}
    assert _return(every_method_shop, order_id, "r-1", 1, expect=200)["return"] == first  # a retry changes nothing
    assert every_method_shop.stock("SKU-A", "store-1")["on_hand"] == 6

    too_many = _return(every_method_shop, order_id, "r-2", 2, expect=422)
    assert too_many["details"][0]["msg"] == "at most 1 left to return"
    _return(every_method_shop, order_id, "r-2", 1, location="wh-1")
    assert every_method_shop.stock("SKU-A", "wh-1") == {"on_hand": 4, "reserved": 0, "available": 4}
    _return(every_method_shop, order_id, "r-3", 1, expect=422)  # nothing left

    order = every_method_shop.order(order_id)
    assert order["status"] == "delivered"
    assert [r["return_id"] for r in order["returns"]] == ["r-1", "r-2"]
    assert [(t["status"], t["event"]) for t in order["timeline"][-2:]] == [
        ("delivered", "return"),
        ("delivered", "return"),
    ]
    assert order["timeline"][-1]["note"] == "wrong size: SKU-A x1"


def test_a_return_before_the_goods_left_is_refused_and_changes_nothing(every_method_shop: Api) -> None:
    order_id = place(every_method_shop, "courier", "ret-2")
    refused = _return(every_method_shop, order_id, "r-1", 1, expect=409)
    assert refused["error"] == "conflict" and refused["status"] == "reserved"
    every_method_shop.event(order_id, "cancel")
    every_method_shop.wait_for(order_id, "cancelled")
    assert _return(every_method_shop, order_id, "r-1", 1, expect=409)["status"] == "cancelled"  # released, never left
    assert every_method_shop.order(order_id)["returns"] == []
    assert every_method_shop.stock("SKU-A", "store-1")["on_hand"] == 5


def test_bad_returns(every_method_shop: Api) -> None:
    order_id = place(every_method_shop, "click_collect", "ret-3")
    walk(
        every_method_shop,
        order_id,
        [("confirm", "confirmed"), ("pick", "picked"), ("ready", "ready_for_pickup"), ("collect", "collected")],
    )
    assert _return(every_method_shop, order_id, "r-1", 1, location="nowhere", expect=422)["details"][0]["loc"] == [
        "body",
        "location_id",
    ]
    assert (
        every_method_shop.post(
            "/v1/orders/ord_missing/returns",
            {"return_id": "r", "reason": "x", "location_id": "wh-1", "lines": [{"sku": "SKU-A", "qty": 1}]},
        ).status
        == 404
    )
    for body in [
        {},
        {"return_id": "r", "reason": "", "location_id": "wh-1", "lines": [{"sku": "SKU-A", "qty": 1}]},
        {"return_id": "r", "reason": "x", "location_id": "wh-1", "lines": []},
        {"return_id": "r", "reason": "x", "location_id": "wh-1", "lines": [{"sku": "SKU-A", "qty": 0}]},
    ]:
        assert every_method_shop.post(f"/v1/orders/{order_id}/returns", body).status == 422
    other = {"return_id": "r-9", "reason": "x", "location_id": "wh-1", "lines": [{"sku": "SKU-Z", "qty": 1}]}
    assert every_method_shop.post(f"/v1/orders/{order_id}/returns", other).status == 422  # not on the order
    assert every_method_shop.order(order_id)["returns"] == []
    _return(every_method_shop, order_id, "r-1", 2, location="wh-1")  # collected at the store, returned to the warehouse
    assert every_method_shop.stock("SKU-A", "wh-1")["on_hand"] == 7
