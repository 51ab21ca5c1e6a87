"""The delivery promise over HTTP: carriers as configuration, per-method date ranges, stored on orders."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.builders import courier_order

WEEKDAYS = {day: {"opens": "10:00", "closes": "20:00"} for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
FRIDAY_NOON_MSK = "2026-01-09T09:00:00Z"
FRIDAY_EVENING_MSK = "2026-01-09T15:30:00Z"  # 18:30 in Moscow, after the store's 17:00 cut-off


@pytest.fixture
def shops(api: Api) -> Api:
    """A Moscow store (10-20 except Sunday, 2 h to pack, cut-off 17:00) and a Vladivostok warehouse (round the
    clock, 4 h); a fast courier, a slow post carrier; SKU-A at both, SKU-B only in Vladivostok."""
    assert (
        api.put(
            "/v1/locations/store-msk",
            {
                "name": "Moscow store",
                "kind": "store",
                "city": "Moscow",
                "lat": 55.752,
                "lon": 37.5925,
                "timezone": "Europe/Moscow",
                "working_hours": WEEKDAYS,
                "processing_minutes": 120,
                "cutoff": "17:00",
                "capabilities": ["courier", "click_collect", "reserve_in_store"],
            },
        ).status
        == 200
    )
    assert (
        api.put(
            "/v1/locations/wh-vvo",
            {
                "name": "Vladivostok DC",
                "kind": "warehouse",
                "city": "Vladivostok",
                "lat": 43.1155,
                "lon": 131.8855,
                "timezone": "Asia/Vladivostok",
                "processing_minutes": 240,
                "capabilities": ["courier", "post"],
            },
        ).status
        == 200
    )
    assert api.put("/v1/channels/web", {"kind": "web", "name": "Site"}).status == 200
    assert api.put("/v1/stock/store-msk", {"items": [{"sku": "SKU-A", "on_hand": 3}]}).status == 200
    assert (
        api.put(
            "/v1/stock/wh-vvo", {"items": [{"sku": "SKU-A", "on_hand": 50}, {"sku": "SKU-B", "on_hand": 50}]}
        ).status
        == 200
    )
    assert (
        api.put(
            "/v1/carriers/courier-fast",
            {"name": "Fast", "delivery_methods": ["courier"], "transit_days": {"min": 1, "max": 2}},
        ).status
        == 200
    )
    assert (
        api.put(
            "/v1/carriers/post",
            {"name": "Post", "delivery_methods": ["post", "courier"], "transit_days": {"min": 5, "max": 12}},
        ).status
        == 200
    )
    return api


def _promise(api: Api, **body: object) -> dict:
    answer = api.post("/v1/delivery-promise", {"channel": "web", **body})
    assert answer.status == 200, answer.body
    return answer.body


def test_carriers_are_configuration_and_bad_ones_are_422(shops: Api) -> None:
    carriers = shops.get("/v1/carriers").body["items"]
    assert [(c["carrier_id"], c["transit_days"]) for c in carriers] == [
        ("courier-fast", {"min": 1, "max": 2}),
        ("post", {"min": 5, "max": 12}),
    ]
    for bad in (
        {"name": "X", "delivery_methods": ["courier"], "transit_days": {"min": 3, "max": 1}},
        {"name": "X", "delivery_methods": [], "transit_days": {"min": 1, "max": 1}},
        {"name": "X", "delivery_methods": ["teleport"], "transit_days": {"min": 1, "max": 1}},
        {"name": "X", "delivery_methods": ["post"], "transit_days": {"min": 1, "max": 1}, "extra": 1},
    ):
        answer = shops.put("/v1/carriers/bad", bad)
        assert answer.status == 422 and answer.body["error"] == "validation_error", answer.body
    assert len(shops.get("/v1/carriers").body["items"]) == 2


def test_each_method_gets_its_earliest_range_from_the_nearest_able_location(shops: Api) -> None:
    answer = _promise(
        shops,
        lines=[{"sku": "SKU-A", "qty": 2}],
        placed_at=FRIDAY_NOON_MSK,
        destination={"lat": 55.7576, "lon": 37.613, "city": "Moscow", "location_id": "store-msk"},
    )
    options = {o["method"]: o for o in answer["options"]}
    # Moscow store, ready Friday 14:00 MSK; the fastest courier carrier takes 1-2 days.
    assert options["courier"] == {
        "method": "courier",
        "location_ids": ["store-msk"],
        "carrier_id": "courier-fast",
        "ready_at": "2026-01-09T11:00:00.000Z",
        "earliest": "2026-01-10",
        "latest": "2026-01-11",
    }
    assert options["click_collect"]["carrier_id"] is None and options["click_collect"]["earliest"] == "2026-01-09"
    assert options["reserve_in_store"]["earliest"] == "2026-01-09"
    # Post: only the Vladivostok warehouse ships it; ready Friday 23:00 local (+10), then 5-12 days.
    assert options["post"]["location_ids"] == ["wh-vvo"]
    assert options["post"]["ready_at"] == "2026-01-09T13:00:00.000Z"
    assert (options["post"]["earliest"], options["post"]["latest"]) == ("2026-01-14", "2026-01-21")
    reasons = {u["method"]: u["reason"] for u in answer["unavailable"]}
    assert reasons["pickup_point"] == "no active location can fulfil it"
    assert answer["placed_at"] == "2026-01-09T09:00:00.000Z"
    assert [o["earliest"] for o in answer["options"]] == sorted(o["earliest"] for o in answer["options"])


def test_after_the_cutoff_the_store_starts_on_the_next_working_day(shops: Api) -> None:
    answer = _promise(
        shops,
        lines=[{"sku": "SKU-A", "qty": 1}],
        placed_at=FRIDAY_EVENING_MSK,
        destination={"location_id": "store-msk"},
        methods=["click_collect"],
    )
    assert answer["options"][0]["ready_at"] == "2026-01-10T09:00:00.000Z"  # Saturday 12:00 MSK
    assert answer["options"][0]["earliest"] == "2026-01-10"


def test_a_cart_no_location_can_take_whole_is_unavailable_and_nothing_is_reserved(shops: Api) -> None:
    answer = _promise(
        shops,
        lines=[{"sku": "SKU-A", "qty": 2}, {"sku": "SKU-B", "qty": 1}],
        destination={"location_id": "store-msk"},
        methods=["click_collect", "courier"],
    )
    assert [o["method"] for o in answer["options"]] == ["courier"]  # from Vladivostok, which has both
    assert answer["options"][0]["location_ids"] == ["wh-vvo"]
    # Only the Moscow store offers click & collect, and it has no SKU-B.
    assert answer["unavailable"] == [{"method": "click_collect", "reason": "no location can take the whole cart"}]
    too_many = _promise(shops, lines=[{"sku": "SKU-B", "qty": 51}], methods=["courier", "click_collect"])
    assert too_many["options"] == []
    assert {u["method"]: u["reason"] for u in too_many["unavailable"]} == {
        "courier": "no location can take the whole cart",
        "click_collect": "destination.location_id (a store) is needed",
    }
    assert shops.stock("SKU-A", "wh-vvo") == {"on_hand": 50, "reserved": 0, "available": 50}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"channel": "nope", "lines": [{"sku": "SKU-A", "qty": 1}]}, ["body", "channel"]),
        ({"channel": "web", "lines": []}, ["body", "lines"]),
        ({"channel": "web", "lines": [{"sku": "SKU-A", "qty": 0}]}, ["body", "lines", 0, "qty"]),
        ({"channel": "web", "lines": [{"sku": "SKU-A", "qty": 1}], "destination": {"lat": 1}}, ["body", "destination"]),
        (
            {"channel": "web", "lines": [{"sku": "SKU-A", "qty": 1}], "destination": {"location_id": "nowhere"}},
            ["body", "destination", "location_id"],
        ),
        ({"channel": "web", "lines": [{"sku": "SKU-A", "qty": 1}], "methods": ["teleport"]}, ["body", "methods", 0]),
        (
            {"channel": "web", "lines": [{"sku": "SKU-A", "qty": 1}], "placed_at": "2026-01-09T09:00:00"},
            ["body", "placed_at"],
        ),
    ],
)
def test_bad_promise_requests_are_422(shops: Api, body: dict, loc: list) -> None:
    answer = shops.post("/v1/delivery-promise", body)
    assert answer.status == 422 and answer.body["error"] == "validation_error", answer.body
    assert any(d["loc"][: len(loc)] == loc for d in answer.body["details"]), answer.body


def test_intake_stores_the_promise_on_a_reserved_order_and_none_on_hold(shops: Api) -> None:
    delivery = {"method": "courier", "address": "Moscow, Tverskaya 7", "lat": 55.7576, "lon": 37.613}
    order = shops.post("/v1/orders", courier_order(delivery=delivery)).body
    assert order["status"] == "reserved"
    assert order["promise"]["method"] == "courier" and order["promise"]["location_ids"] == ["store-msk"]
    assert order["promise"]["carrier_id"] == "courier-fast"
    assert order["promise"]["earliest"] <= order["promise"]["latest"]
    assert shops.order(order["order_id"])["promise"] == order["promise"]
    short = shops.post("/v1/orders", courier_order("web-2", lines=[{"sku": "SKU-B", "qty": 99, "price": 1}])).body
    assert short["status"] == "on_hold" and short["promise"] is None
