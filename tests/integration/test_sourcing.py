"""Sourcing at intake over HTTP: nearest able location, paused ones never, split only where allowed."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.builders import courier_order

TVERSKAYA = {"method": "courier", "address": "Moscow, Tverskaya 7", "city": "Moscow", "lat": 55.7576, "lon": 37.6130}


@pytest.fixture
def moscow(api: Api) -> Api:
    """Three courier locations around Moscow, each with SKU-A and SKU-B; a split-friendly channel too."""
    places = {
        "store-arbat": ("store", 55.7520, 37.5925),
        "wh-podolsk": ("warehouse", 55.4312, 37.5453),
        "store-paused": ("store", 55.7577, 37.6131),
    }
    for location_id, (kind, lat, lon) in places.items():
        assert (
            api.put(
                f"/v1/locations/{location_id}",
                {
                    "name": location_id,
                    "kind": kind,
                    "city": "Moscow",
                    "lat": lat,
                    "lon": lon,
                    "capabilities": ["courier"],
                    "active": location_id != "store-paused",
                },
            ).status
            == 200
        )
        assert (
            api.put(
                f"/v1/stock/{location_id}", {"items": [{"sku": "SKU-A", "on_hand": 5}, {"sku": "SKU-B", "on_hand": 5}]}
            ).status
            == 200
        )
    assert api.put("/v1/channels/web", {"kind": "web", "name": "Site"}).status == 200
    assert api.put("/v1/channels/app", {"kind": "app", "name": "App", "allow_split": True}).status == 200
    return api


def test_the_nearest_active_location_with_every_line_takes_the_order_and_says_why(moscow: Api) -> None:
    answer = moscow.post(
        "/v1/orders",
        courier_order(
            delivery=TVERSKAYA, lines=[{"sku": "SKU-A", "qty": 2, "price": 1}, {"sku": "SKU-B", "qty": 1, "price": 1}]
        ),
    )
    assert answer.status == 201, answer.body
    order = answer.body
    assert {a["location_id"] for a in order["allocations"]} == {"store-arbat"}  # store-paused is nearer
    assert order["sourcing"]["locations"] == ["store-arbat"] and order["sourcing"]["rule"] == "single_location"
    assert "store-arbat has every line; the nearest such location" in order["sourcing"]["reason"]
    assert order["sourcing"]["reason"] in order["timeline"][0]["note"]
    assert moscow.stock("SKU-A", "store-paused")["reserved"] == 0
    assert order["delivery"]["lat"] == 55.7576 and order["delivery"]["city"] == "Moscow"


def test_a_location_with_every_line_beats_a_nearer_one_with_some(moscow: Api) -> None:
    moscow.put("/v1/stock/store-arbat", {"items": [{"sku": "SKU-B", "on_hand": 0}]})
    order = moscow.post(
        "/v1/orders",
        courier_order(
            delivery=TVERSKAYA, lines=[{"sku": "SKU-A", "qty": 1, "price": 1}, {"sku": "SKU-B", "qty": 1, "price": 1}]
        ),
    ).body
    assert order["status"] == "reserved" and order["sourcing"]["locations"] == ["wh-podolsk"]


def test_an_order_no_single_location_can_take_splits_only_where_the_channel_allows(moscow: Api) -> None:
    moscow.put("/v1/stock/store-arbat", {"items": [{"sku": "SKU-B", "on_hand": 0}]})
    moscow.put("/v1/stock/wh-podolsk", {"items": [{"sku": "SKU-A", "on_hand": 0}]})
    lines = [{"sku": "SKU-A", "qty": 2, "price": 1}, {"sku": "SKU-B", "qty": 2, "price": 1}]

    whole = moscow.post("/v1/orders", courier_order("web-1", delivery=TVERSKAYA, lines=lines)).body
    assert whole["status"] == "on_hold"
    assert whole["allocations"] == [{"sku": "SKU-A", "location_id": "store-arbat", "qty": 2}]
    assert whole["shortages"] == [{"sku": "SKU-B", "missing": 2}]
    assert "channel web does not allow split shipments" in whole["timeline"][0]["note"]

    split = moscow.post("/v1/orders", courier_order("app-1", channel="app", delivery=TVERSKAYA, lines=lines)).body
    assert split["status"] == "reserved"
    assert sorted((a["sku"], a["location_id"]) for a in split["allocations"]) == [
        ("SKU-A", "store-arbat"),
        ("SKU-B", "wh-podolsk"),
    ]
    assert split["sourcing"]["rule"] == "split" and set(split["sourcing"]["locations"]) == {"store-arbat", "wh-podolsk"}
    assert moscow.stock("SKU-B", "wh-podolsk") == {"on_hand": 5, "reserved": 2, "available": 3}


def test_without_coordinates_the_customers_city_and_then_warehouses_come_first(moscow: Api) -> None:
    moscow.put(
        "/v1/locations/store-spb",
        {"name": "SPb", "kind": "store", "city": "Saint Petersburg", "capabilities": ["courier"]},
    )
    moscow.put("/v1/stock/store-spb", {"items": [{"sku": "SKU-A", "on_hand": 5}]})
    spb = {"method": "courier", "address": "Nevsky 1", "city": "Saint Petersburg"}
    assert moscow.post("/v1/orders", courier_order("web-spb", delivery=spb)).body["sourcing"]["locations"] == [
        "store-spb"
    ]
    anywhere = {"method": "courier", "address": "somewhere"}
    assert moscow.post("/v1/orders", courier_order("web-x", delivery=anywhere)).body["sourcing"]["locations"] == [
        "wh-podolsk"
    ]


@pytest.mark.parametrize(
    "delivery",
    [
        {**TVERSKAYA, "lon": None},
        {**TVERSKAYA, "lat": 91},
        {**TVERSKAYA, "city": ""},
    ],
)
def test_bad_customer_coordinates_are_422_and_change_nothing(moscow: Api, delivery: dict) -> None:
    answer = moscow.post("/v1/orders", courier_order(delivery={k: v for k, v in delivery.items() if v is not None}))
    assert answer.status == 422 and answer.body["error"] == "validation_error"
    assert moscow.get("/v1/orders").body["items"] == []
    assert moscow.stock("SKU-A", "store-arbat")["reserved"] == 0
