"""Orders and the locations, channels and stock a test's hub starts with, built over the HTTP contract."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.sample_events import load_event


def courier_order(
    external_id: str = "web-1001", *, channel: str = "web", lines: list[dict[str, Any]] | None = None, **overrides: Any
) -> dict[str, Any]:
    order = load_event("order_courier.json")
    order.update(channel=channel, external_id=external_id)
    if lines is not None:
        order["lines"] = lines
    order.update(overrides)
    return order


def click_collect_order(external_id: str, store: str, *, sku: str = "SKU-A", price: int = 500) -> dict[str, Any]:
    """One unit of `sku` collected at `store`, paid at the desk."""
    return {
        "channel": "web",
        "external_id": external_id,
        "customer": {"name": "Olga", "phone": "+79165550001"},
        "lines": [{"sku": sku, "qty": 1, "price": price}],
        "delivery": {"method": "click_collect", "location_id": store},
        "payment": {"method": "on_pickup"},
    }


def one_warehouse(api: Api, sku_units: int = 4) -> Api:
    """The smallest working hub: warehouse wh-1 (courier), channel web, `sku_units` of SKU-A."""
    assert (
        api.put("/v1/locations/wh-1", {"name": "Warehouse", "kind": "warehouse", "capabilities": ["courier"]}).status
        == 200
    )
    assert api.put("/v1/channels/web", {"kind": "web", "name": "Site"}).status == 200
    assert api.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": sku_units}]}).status == 200
    return api


def warehouse_and_store(api: Api) -> Api:
    """One warehouse (10 x SKU-A, 5 x SKU-B), one store (3 x SKU-A), and the web channel with no rules."""
    assert (
        api.put(
            "/v1/locations/wh-1", {"name": "Warehouse", "kind": "warehouse", "capabilities": ["courier", "post"]}
        ).status
        == 200
    )
    assert (
        api.put(
            "/v1/locations/store-1",
            {"name": "Store", "kind": "store", "capabilities": ["courier", "click_collect", "reserve_in_store"]},
        ).status
        == 200
    )
    assert api.put("/v1/channels/web", {"kind": "web", "name": "Site"}).status == 200
    assert (
        api.put(
            "/v1/stock/wh-1",
            {"mode": "snapshot", "items": [{"sku": "SKU-A", "on_hand": 10}, {"sku": "SKU-B", "on_hand": 5}]},
        ).status
        == 200
    )
    assert api.put("/v1/stock/store-1", {"mode": "snapshot", "items": [{"sku": "SKU-A", "on_hand": 3}]}).status == 200
    return api


def every_method_shop(api: Api) -> Api:
    """wh-1 ships (courier, pickup point, post, marketplace), store-1 serves customers in person; channels web
    and ozon; 5 x SKU-A at each location."""
    assert (
        api.put(
            "/v1/locations/wh-1",
            {
                "name": "Warehouse",
                "kind": "warehouse",
                "capabilities": ["courier", "pickup_point", "post", "marketplace"],
            },
        ).status
        == 200
    )
    assert (
        api.put(
            "/v1/locations/store-1",
            {
                "name": "Store",
                "kind": "store",
                "capabilities": ["click_collect", "reserve_in_store", "ship_from_store"],
            },
        ).status
        == 200
    )
    assert api.put("/v1/channels/web", {"kind": "web", "name": "Site"}).status == 200
    assert api.put("/v1/channels/ozon", {"kind": "ozon", "name": "Ozon"}).status == 200
    for location in ("wh-1", "store-1"):
        assert api.put(f"/v1/stock/{location}", {"items": [{"sku": "SKU-A", "on_hand": 5}]}).status == 200
    return api
