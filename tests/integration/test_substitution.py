"""An operator's substitution on an order on hold, over HTTP, through the real lifecycle."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api
from tests.support.builders import courier_order
from tests.support.substitution import substitute
from tests.support.waiting import actions_settled

SHORT_OF_B = [{"sku": "SKU-A", "qty": 2, "price": 10}, {"sku": "SKU-B", "qty": 7, "price": 5}]


@pytest.fixture
def held(shop: Api) -> tuple[Api, str]:
    """An order on hold at wh-1: A x2 and B x5 held, B x2 missing; wh-1 also has 4 x SKU-C."""
    assert shop.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-C", "on_hand": 4}]}).status == 200
    assert (
        shop.put(
            "/v1/carriers/fast", {"name": "Fast", "delivery_methods": ["courier"], "transit_days": {"min": 1, "max": 2}}
        ).status
        == 200
    )
    order = shop.post("/v1/orders", courier_order(lines=SHORT_OF_B)).body
    assert order["promise"] is None  # nothing is promised while stock is missing
    assert order["status"] == "on_hold" and order["shortages"] == [{"sku": "SKU-B", "missing": 2}]
    actions_settled(shop, order["order_id"])  # on_hold's loyalty hold (skipped: no card)
    return shop, order["order_id"]


def _state(api: Api, order_id: str) -> tuple[Any, ...]:
    order = api.order(order_id)
    stock = {sku: api.stock(sku, "wh-1") for sku in ("SKU-A", "SKU-B", "SKU-C")}
    return order, stock, api.get("/v1/tasks", "state=open").body["items"]


def test_replacing_the_short_line_re_reserves_closes_the_task_and_the_order_goes_on(held: tuple[Api, str]) -> None:
    api, order_id = held
    body = {"sku": "SKU-B", "replacement": {"sku": "SKU-C", "qty": 3}, "actor": "op-7", "note": "customer agreed"}
    substitute(api, order_id, body)
    order = api.wait_for(order_id, "reserved")
    assert order["lines"] == [{"sku": "SKU-A", "qty": 2, "price": 10}, {"sku": "SKU-C", "qty": 3, "price": 5}]
    assert order["total"] == 35 and order["shortages"] == []
    assert order["promise"]["location_ids"] == ["wh-1"] and order["promise"]["carrier_id"] == "fast"
    assert sorted((a["sku"], a["qty"]) for a in order["allocations"]) == [("SKU-A", 2), ("SKU-C", 3)]
    assert api.stock("SKU-B", "wh-1") == {"on_hand": 5, "reserved": 0, "available": 5}
    assert api.stock("SKU-C", "wh-1") == {"on_hand": 4, "reserved": 3, "available": 1}
    substituted = next(e for e in order["timeline"] if e["event"] == "substitute")
    assert substituted["source"] == "operator:op-7" and substituted["status"] == "on_hold"
    assert substituted["note"] == "line SKU-B -> SKU-C x3; customer agreed"
    assert order["timeline"][-1]["status"] == "reserved" and order["timeline"][-1]["event"] == "reserve"
    assert api.get("/v1/tasks", "state=open").body["items"] == []
    assert [t["order_id"] for t in api.get("/v1/tasks", "state=closed").body["items"]] == [order_id]

    before = _state(api, order_id)  # the same request again changes nothing
    assert substitute(api, order_id, body).body["status"] == "reserved"
    assert _state(api, order_id) == before

    other = {"sku": "SKU-A", "replacement": {"sku": "SKU-A", "qty": 1}}
    refused = api.post(f"/v1/orders/{order_id}/substitutions", other)
    assert refused.status == 409 and refused.body["error"] == "invalid_transition"
    assert refused.body["status"] == "reserved"

    api.event(order_id, "confirm")
    api.wait_for(order_id, "confirmed")
    api.event(order_id, "cancel")
    api.wait_for(order_id, "cancelled")
    for sku in ("SKU-A", "SKU-B", "SKU-C"):
        assert api.stock(sku, "wh-1")["reserved"] == 0


def test_dropping_the_short_line_gives_its_units_back(held: tuple[Api, str]) -> None:
    api, order_id = held
    substitute(api, order_id, {"sku": "SKU-B"})
    order = api.wait_for(order_id, "reserved")
    assert order["lines"] == [{"sku": "SKU-A", "qty": 2, "price": 10}] and order["total"] == 20
    assert order["allocations"] == [{"sku": "SKU-A", "location_id": "wh-1", "qty": 2}]
    assert api.stock("SKU-B", "wh-1") == {"on_hand": 5, "reserved": 0, "available": 5}


def test_lowering_the_quantity_to_what_is_held_changes_no_stock(held: tuple[Api, str]) -> None:
    api, order_id = held
    substitute(api, order_id, {"sku": "SKU-B", "replacement": {"sku": "SKU-B", "qty": 5, "price": 4.5}})
    order = api.wait_for(order_id, "reserved")
    assert order["lines"][1] == {"sku": "SKU-B", "qty": 5, "price": 4.5}
    assert api.stock("SKU-B", "wh-1") == {"on_hand": 5, "reserved": 5, "available": 0}


def test_the_order_stays_on_hold_while_another_line_is_short(shop: Api) -> None:
    lines = [{"sku": "SKU-A", "qty": 12, "price": 1}, {"sku": "SKU-B", "qty": 7, "price": 1}]
    order_id = shop.post("/v1/orders", courier_order(lines=lines)).body["order_id"]
    shop.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-C", "on_hand": 4}]})

    order = substitute(shop, order_id, {"sku": "SKU-B", "replacement": {"sku": "SKU-C", "qty": 3}}).body
    assert order["status"] == "on_hold" and order["shortages"] == [{"sku": "SKU-A", "missing": 2}]
    assert shop.stock("SKU-B", "wh-1")["reserved"] == 0
    assert [t["shortages"] for t in shop.get("/v1/tasks").body["items"]] == [[{"sku": "SKU-A", "missing": 2}]]

    # Back to SKU-B: its emptied reservation row holds units again.
    order = substitute(shop, order_id, {"sku": "SKU-C", "replacement": {"sku": "SKU-B", "qty": 5}}).body
    assert sorted((a["sku"], a["qty"]) for a in order["allocations"]) == [("SKU-A", 10), ("SKU-B", 5)]
    assert shop.stock("SKU-B", "wh-1") == {"on_hand": 5, "reserved": 5, "available": 0}
    assert shop.stock("SKU-C", "wh-1") == {"on_hand": 4, "reserved": 0, "available": 4}

    shop.event(order_id, "cancel")
    shop.wait_for(order_id, "cancelled")
    assert shop.stock("SKU-A", "wh-1")["reserved"] == 0 and shop.stock("SKU-B", "wh-1")["reserved"] == 0


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"sku": "SKU-B", "replacement": {"sku": "SKU-C", "qty": 5}}, 409, "insufficient_stock"),  # 4 on hand
        ({"sku": "SKU-B", "replacement": {"sku": "NOPE", "qty": 1}}, 409, "insufficient_stock"),
        ({"sku": "SKU-X", "replacement": {"sku": "SKU-C", "qty": 1}}, 422, "validation_error"),
        ({"sku": "SKU-B", "replacement": {"sku": "SKU-A", "qty": 1}}, 422, "validation_error"),
        ({"sku": "SKU-B", "replacement": {"sku": "SKU-C", "qty": 0}}, 422, "validation_error"),
        ({"sku": "SKU-B", "replacement": {"sku": "SKU-C"}}, 422, "validation_error"),
        ({"replacement": {"sku": "SKU-C", "qty": 1}}, 422, "validation_error"),
        ({"sku": "SKU-B", "surprise": 1}, 422, "validation_error"),
    ],
)
def test_invalid_substitutions_are_4xx_and_change_nothing(
    held: tuple[Api, str], body: dict, status: int, error: str
) -> None:
    api, order_id = held
    before = _state(api, order_id)
    answer = api.post(f"/v1/orders/{order_id}/substitutions", body)
    assert answer.status == status and answer.body["error"] == error, answer.body
    assert _state(api, order_id) == before


def test_unknown_order_and_the_only_line_are_refused(shop: Api) -> None:
    answer = shop.post("/v1/orders/ord_missing/substitutions", {"sku": "SKU-A"})
    assert answer.status == 404 and answer.body["error"] == "not_found"
    order_id = shop.post("/v1/orders", courier_order(lines=[{"sku": "SKU-B", "qty": 9, "price": 1}])).body["order_id"]
    answer = shop.post(f"/v1/orders/{order_id}/substitutions", {"sku": "SKU-B"})
    assert answer.status == 422 and "cancel the order instead" in answer.body["message"]


def test_a_substitution_the_lifecycle_could_not_take_yet_is_resumed_by_its_repeat(
    held: tuple[Api, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from common.errors import OrderBusy
    from orders.use_cases import events

    api, order_id = held
    resume = events.post_event

    def not_waiting_yet(*args: Any, **kwargs: Any) -> Any:
        raise OrderBusy("the order is still applying a previous event; retry shortly", status="on_hold")

    monkeypatch.setattr(events, "post_event", not_waiting_yet)
    body = {"sku": "SKU-B", "replacement": {"sku": "SKU-C", "qty": 2}}
    answer = api.post(f"/v1/orders/{order_id}/substitutions", body)
    assert answer.status == 409 and answer.body["error"] == "order_busy", answer.body
    assert "substitution is recorded" in answer.body["message"] and answer.headers["Retry-After"] == "1"
    recorded = api.order(order_id)
    assert recorded["status"] == "on_hold" and recorded["shortages"] == []
    assert api.stock("SKU-C", "wh-1")["reserved"] == 2

    monkeypatch.setattr(events, "post_event", resume)
    assert api.post(f"/v1/orders/{order_id}/substitutions", body).status == 200
    assert api.wait_for(order_id, "reserved")["timeline"][-1]["event"] == "reserve"
    assert api.stock("SKU-C", "wh-1")["reserved"] == 2  # reserved once
