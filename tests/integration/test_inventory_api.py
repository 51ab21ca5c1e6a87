"""Reference data, stock import and availability over HTTP."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.builders import courier_order


def test_location_and_channel_round_trip_and_secret_is_never_echoed(api: Api) -> None:
    location = api.put(
        "/v1/locations/msk-1",
        {
            "name": "Moscow",
            "kind": "store",
            "city": "Moscow",
            "lat": 55.75,
            "lon": 37.61,
            "timezone": "Europe/Moscow",
            "capabilities": ["click_collect", "click_collect"],
        },
    )
    assert location.status == 200
    assert location.body["capabilities"] == ["click_collect"]
    assert location.body["active"] is True
    channel = api.put(
        "/v1/channels/ozon",
        {
            "kind": "ozon",
            "name": "Ozon FBS",
            "secret": "s3cret-token-123",
            "rules": {"safety_stock": 2, "stock_share": 0.8},
        },
    )
    assert channel.status == 200
    assert "secret" not in channel.body and "s3cret" not in str(channel.body)
    assert channel.body["has_secret"] is True
    listed = api.get("/v1/channels").body["items"]
    assert [c["channel_id"] for c in listed] == ["ozon"] and "s3cret" not in str(listed)
    assert [loc["location_id"] for loc in api.get("/v1/locations").body["items"]] == ["msk-1"]


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/locations/x", {"name": "X", "kind": "kiosk"}, ["body", "kind"]),
        ("/v1/locations/x", {"name": "X", "kind": "store", "lat": 91}, ["body", "lat"]),
        ("/v1/locations/x", {"name": "X", "kind": "store", "timezone": "Mars/Olympus"}, ["body", "timezone"]),
        ("/v1/locations/x", {"name": "X", "kind": "store", "capabilities": ["drone"]}, ["body", "capabilities", 0]),
        ("/v1/locations/bad%20id", {"name": "X", "kind": "store"}, ["path", "location_id"]),
        (
            "/v1/channels/web",
            {"kind": "web", "name": "W", "rules": {"safety_stock": -1}},
            ["body", "rules", "safety_stock"],
        ),
        (
            "/v1/channels/web",
            {"kind": "web", "name": "W", "rules": {"stock_share": 1.5}},
            ["body", "rules", "stock_share"],
        ),
        ("/v1/channels/web", {"kind": "web", "name": "W", "secret": "short"}, ["body", "secret"]),
    ],
)
def test_bad_reference_data_is_422_and_stores_nothing(api: Api, path: str, body: dict, loc: list) -> None:
    answer = api.put(path, body)
    assert answer.status == 422, answer.body
    assert loc in [d["loc"] for d in answer.body["details"]], answer.body
    assert api.get("/v1/locations").body["items"] == []
    assert api.get("/v1/channels").body["items"] == []


def test_snapshot_and_delta(shop: Api) -> None:
    answer = shop.put(
        "/v1/stock/wh-1",
        {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": -4}, {"sku": "SKU-NEW", "on_hand": 6}]},
    ).body
    assert (answer["updated"], answer["errors"], answer["duplicate"]) == (2, [], False)
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 6, "reserved": 0, "available": 6}
    assert shop.stock("SKU-NEW", "wh-1") == {"on_hand": 6, "reserved": 0, "available": 6}
    shop.put("/v1/stock/wh-1", {"mode": "snapshot", "items": [{"sku": "SKU-A", "on_hand": 1}]})
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 1, "reserved": 0, "available": 1}


def test_stock_never_goes_below_reserved(shop: Api) -> None:
    shop.post("/v1/orders", courier_order(lines=[{"sku": "SKU-A", "qty": 8, "price": 1}]))
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 8, "available": 2}
    delta = shop.put(
        "/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": -3}, {"sku": "SKU-B", "on_hand": -1}]}
    ).body
    assert delta["updated"] == 1
    assert delta["errors"] == [
        {"sku": "SKU-A", "error": "below_reserved", "message": "removing 3 units but only 2 are not reserved"}
    ]
    snapshot = shop.put("/v1/stock/wh-1", {"mode": "snapshot", "items": [{"sku": "SKU-A", "on_hand": 7}]}).body
    assert snapshot["errors"][0]["error"] == "below_reserved"
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 8, "available": 2}
    assert shop.stock("SKU-B", "wh-1") == {"on_hand": 4, "reserved": 0, "available": 4}
    # a negative delta on a SKU the location never had is refused too
    assert (
        shop.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "GHOST", "on_hand": -1}]}).body["updated"] == 0
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"mode": "snapshot", "items": [{"sku": "SKU-A", "on_hand": -1}]}, 422),
        ({"mode": "snapshot", "items": []}, 422),
        ({"mode": "sideways", "items": [{"sku": "SKU-A", "on_hand": 1}]}, 422),
        ({"items": [{"sku": "SKU-A", "on_hand": 1}, {"sku": "SKU-A", "on_hand": 2}]}, 422),
        ({"items": [{"sku": "has space", "on_hand": 1}]}, 422),
        ({"items": [{"sku": "SKU-A", "on_hand": 1.5}]}, 422),
    ],
)
def test_bad_stock_input_is_422_and_changes_nothing(shop: Api, body: dict, status: int) -> None:
    assert shop.put("/v1/stock/wh-1", body).status == status
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 0, "available": 10}


def test_stock_for_unknown_location_is_404(shop: Api) -> None:
    answer = shop.put("/v1/stock/nowhere", {"items": [{"sku": "SKU-A", "on_hand": 1}]})
    assert answer.status == 404
    assert answer.body["error"] == "not_found"


def test_availability_applies_channel_rules_per_location(shop: Api) -> None:
    shop.put("/v1/channels/ozon", {"kind": "ozon", "name": "Ozon", "rules": {"safety_stock": 1, "stock_share": 0.5}})
    shop.post("/v1/orders", courier_order(lines=[{"sku": "SKU-A", "qty": 2, "price": 1}]))
    shop.hub.settle()  # availability is the stock stream's figures
    web = shop.get("/v1/availability", "channel=web&skus=SKU-A,SKU-B,SKU-NONE").body
    assert web == {
        "channel": "web",
        "items": [
            {
                "sku": "SKU-A",
                "available": 11,
                "locations": [{"location_id": "store-1", "available": 3}, {"location_id": "wh-1", "available": 8}],
            },
            {"sku": "SKU-B", "available": 5, "locations": [{"location_id": "wh-1", "available": 5}]},
            {"sku": "SKU-NONE", "available": 0, "locations": []},
        ],
    }
    ozon = shop.get("/v1/availability", "channel=ozon&skus=SKU-A").body["items"][0]
    # wh-1: (8 - 1) * 0.5 = 3.5 -> 3; store-1: (3 - 1) * 0.5 = 1
    assert ozon["locations"] == [{"location_id": "store-1", "available": 1}, {"location_id": "wh-1", "available": 3}]
    assert ozon["available"] == 4


def test_paused_location_offers_nothing(shop: Api) -> None:
    shop.put("/v1/locations/store-1", {"name": "Store", "kind": "store", "capabilities": ["courier"], "active": False})
    shop.hub.settle()
    items = shop.get("/v1/availability", "channel=web&skus=SKU-A").body["items"]
    assert items[0]["locations"] == [{"location_id": "wh-1", "available": 10}]
    order = shop.post("/v1/orders", courier_order(lines=[{"sku": "SKU-A", "qty": 12, "price": 1}])).body
    assert {a["location_id"] for a in order["allocations"]} == {"wh-1"}


@pytest.mark.parametrize(
    "query",
    [
        "channel=unknown&skus=SKU-A",
        "skus=SKU-A",
        "channel=web",
        "channel=web&skus=,,",
        "channel=web&skus=" + ",".join(f"S{i}" for i in range(101)),
    ],
)
def test_availability_bad_query_is_422(shop: Api, query: str) -> None:
    answer = shop.get("/v1/availability", query)
    assert answer.status == 422, answer.body
    assert answer.body["error"] == "validation_error"
