"""Order intake over the HTTP contract: validation, dedup, atomic reservations, on-hold orders."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.api import Api
from tests.support.builders import courier_order, one_warehouse


def test_order_is_created_reserved_and_deduplicated(shop: Api) -> None:
    first = shop.post("/v1/orders", courier_order())
    assert first.status == 201, first.body
    order = first.body
    assert order["status"] == "reserved"
    assert order["allocations"] == [{"sku": "SKU-A", "location_id": "wh-1", "qty": 2}]
    assert order["total"] == 3980.0
    assert order["timeline"][0]["status"] == "reserved"
    assert order["timeline"][0]["source"] == "channel:web"
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 2, "available": 8}

    again = shop.post("/v1/orders", courier_order())
    assert again.status == 200
    assert again.body["order_id"] == order["order_id"]
    assert shop.stock("SKU-A", "wh-1")["reserved"] == 2
    assert shop.get(f"/v1/orders/{order['order_id']}").body["external_id"] == "web-1001"


def test_fifty_concurrent_posts_make_one_order_and_one_reservation(shop: Api) -> None:
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda _: shop.post("/v1/orders", courier_order("web-dup")), range(50)))
    assert sorted({a.status for a in answers}) == [200, 201]
    assert [a.status for a in answers].count(201) == 1
    assert len({a.body["order_id"] for a in answers}) == 1
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 2, "available": 8}
    listed = shop.get("/v1/orders", "channel=web").body["items"]
    assert [o["external_id"] for o in listed] == ["web-dup"]


def test_forty_concurrent_orders_never_oversell_fifteen_units(api: Api) -> None:
    one_warehouse(api, sku_units=0)
    api.put("/v1/stock/wh-1", {"items": [{"sku": "HOT", "on_hand": 15}]})
    line = [{"sku": "HOT", "qty": 1, "price": 100}]
    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(lambda n: api.post("/v1/orders", courier_order(f"hot-{n}", lines=line)), range(40)))
    assert all(a.status == 201 for a in answers), [a.body for a in answers if a.status != 201]
    statuses = [a.body["status"] for a in answers]
    assert statuses.count("reserved") == 15
    assert statuses.count("on_hold") == 25
    assert all(a.body["shortages"] == [{"sku": "HOT", "missing": 1}] for a in answers if a.body["status"] == "on_hold")
    assert api.stock("HOT", "wh-1") == {"on_hand": 15, "reserved": 15, "available": 0}
    tasks = api.get("/v1/tasks", "state=open&limit=100").body["items"]
    assert len(tasks) == 25 and {t["kind"] for t in tasks} == {"stock_shortage"}


def test_order_short_of_stock_is_on_hold_with_partial_reservation_and_a_task(shop: Api) -> None:
    order = shop.post(
        "/v1/orders",
        courier_order(lines=[{"sku": "SKU-A", "qty": 2, "price": 10}, {"sku": "SKU-B", "qty": 7, "price": 5}]),
    ).body
    assert order["status"] == "on_hold"
    assert order["shortages"] == [{"sku": "SKU-B", "missing": 2}]
    assert {(a["sku"], a["location_id"], a["qty"]) for a in order["allocations"]} == {
        ("SKU-A", "wh-1", 2),
        ("SKU-B", "wh-1", 5),
    }
    assert shop.stock("SKU-B", "wh-1") == {"on_hand": 5, "reserved": 5, "available": 0}
    assert "missing SKU-B x2" in order["timeline"][0]["note"]
    tasks = shop.get("/v1/tasks").body["items"]
    assert [(t["order_id"], t["shortages"]) for t in tasks] == [(order["order_id"], [{"sku": "SKU-B", "missing": 2}])]


def test_whole_order_is_sourced_from_one_location_when_possible(shop: Api) -> None:
    shop.put(
        "/v1/stock/store-1",
        {"mode": "snapshot", "items": [{"sku": "SKU-A", "on_hand": 3}, {"sku": "SKU-B", "on_hand": 9}]},
    )
    order = shop.post(
        "/v1/orders",
        courier_order(lines=[{"sku": "SKU-A", "qty": 3, "price": 1}, {"sku": "SKU-B", "qty": 6, "price": 1}]),
    ).body
    assert {a["location_id"] for a in order["allocations"]} == {"store-1"}


def test_reserve_in_store_uses_only_the_chosen_store(shop: Api) -> None:
    body = courier_order(
        delivery={"method": "reserve_in_store", "location_id": "store-1"},
        lines=[{"sku": "SKU-A", "qty": 4, "price": 1}],
    )
    order = shop.post("/v1/orders", body).body
    assert order["status"] == "on_hold"
    assert order["allocations"] == [{"sku": "SKU-A", "location_id": "store-1", "qty": 3}]
    assert order["shortages"] == [{"sku": "SKU-A", "missing": 1}]


@pytest.mark.parametrize(
    ("mutate", "loc"),
    [
        (lambda o: o.pop("customer"), ["body", "customer"]),
        (lambda o: o["lines"][0].update(qty=0), ["body", "lines", 0, "qty"]),
        (lambda o: o["lines"][0].update(price=-1), ["body", "lines", 0, "price"]),
        (lambda o: o.update(lines=[]), ["body", "lines"]),
        (lambda o: o["delivery"].update(method="teleport"), ["body", "delivery", "method"]),
        (lambda o: o["payment"].update(method="barter"), ["body", "payment", "method"]),
        (lambda o: o["customer"].update(email="not-an-email"), ["body", "customer", "email"]),
        (lambda o: o.update(unexpected=True), ["body", "unexpected"]),
        (lambda o: o["lines"][0].update(qty="two"), ["body", "lines", 0, "qty"]),
    ],
)
def test_invalid_order_is_422_with_field_path_and_changes_nothing(shop: Api, mutate, loc) -> None:
    body = courier_order()
    mutate(body)
    answer = shop.post("/v1/orders", body)
    assert answer.status == 422, answer.body
    assert answer.body["error"] == "validation_error"
    assert loc in [d["loc"] for d in answer.body["details"]], answer.body["details"]
    assert shop.stock("SKU-A", "wh-1")["reserved"] == 0
    assert shop.get("/v1/orders").body["items"] == []


def test_courier_without_address_and_unknown_references_are_422(shop: Api) -> None:
    no_address = courier_order(delivery={"method": "courier"})
    assert shop.post("/v1/orders", no_address).status == 422
    unknown_channel = shop.post("/v1/orders", courier_order(channel="nope"))
    assert unknown_channel.status == 422
    assert unknown_channel.body["details"][0]["loc"] == ["body", "channel"]
    unknown_store = shop.post("/v1/orders", courier_order(delivery={"method": "click_collect", "location_id": "zzz"}))
    assert unknown_store.status == 422
    assert unknown_store.body["details"][0]["loc"] == ["body", "delivery", "location_id"]
    assert shop.stock("SKU-A", "wh-1")["reserved"] == 0


def test_malformed_json_is_422(shop: Api) -> None:
    answer = shop.post("/v1/orders", raw=b'{"channel": "web",')
    assert answer.status == 422
    assert answer.body["error"] == "validation_error"


def test_unknown_order_is_404(api: Api) -> None:
    answer = api.get("/v1/orders/ord_doesnotexist")
    assert answer.status == 404
    assert answer.body["error"] == "not_found"


def test_concurrent_intakes_race_in_dynamodb_and_the_conditions_decide(api: Api) -> None:
    """Below the HTTP layer (which runs one request at a time locally, as one Lambda container does),
    40 intakes run truly concurrently: reads, plans and transactions interleave, and only the
    conditional writes keep the count exact, with lost races re-planned."""
    from common.clock import utc_now
    from orders.domain.models import OrderIn
    from orders.use_cases import intake

    one_warehouse(api, sku_units=0)
    api.put("/v1/stock/wh-1", {"items": [{"sku": "HOT", "on_hand": 15}]})
    orders = [
        OrderIn.model_validate(courier_order(f"race-{n % 30}", lines=[{"sku": "HOT", "qty": 1, "price": 1}]))
        for n in range(40)
    ]
    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(lambda order: intake.accept_order(order, utc_now()), orders))
    created = {order.order_id: order.status for order, is_new in results if is_new}
    assert len(created) == 30  # 10 of the 40 were repeats of an external id
    assert {order.order_id for order, _ in results} == set(created)
    assert sorted(created.values()).count("reserved") == 15
    assert api.stock("HOT", "wh-1") == {"on_hand": 15, "reserved": 15, "available": 0}
