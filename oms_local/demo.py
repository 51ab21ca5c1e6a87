"""Demo data, loaded through the public API (so it exercises the same path a retailer's ERP uses)."""

from __future__ import annotations

import json
import random
from typing import Any

from oms_local.cognito import PoolUser
from oms_local.runtime import LocalHub

LOCATIONS = {
    "msk-wh-1": {
        "name": "Moscow central warehouse",
        "kind": "warehouse",
        "city": "Moscow",
        "lat": 55.62,
        "lon": 37.61,
        "timezone": "Europe/Moscow",
        "capabilities": ["courier", "pickup_point", "post", "marketplace", "click_collect"],
    },
    "msk-store-tverskaya": {
        "name": "Tverskaya store",
        "kind": "store",
        "city": "Moscow",
        "lat": 55.764,
        "lon": 37.606,
        "timezone": "Europe/Moscow",
        "capabilities": ["click_collect", "reserve_in_store", "ship_from_store", "courier"],
    },
    "spb-store-nevsky": {
        "name": "Nevsky store",
        "kind": "store",
        "city": "Saint Petersburg",
        "lat": 59.935,
        "lon": 30.325,
        "timezone": "Europe/Moscow",
        "capabilities": ["click_collect", "reserve_in_store", "ship_from_store"],
    },
}
CHANNELS: dict[str, dict[str, Any]] = {
    "web": {"kind": "web", "name": "Online store", "rules": {"safety_stock": 1, "stock_share": 0.9}},
    # The admin page's operators take orders by phone on the channel of kind callcenter (docs/admin.md).
    "call_centre": {"kind": "callcenter", "name": "Call centre"},
}
CARRIERS = {  # transit times the delivery promise adds after packing (docs/sourcing.md)
    "courier-city": {
        "name": "City courier",
        "delivery_methods": ["courier", "ship_from_store"],
        "transit_days": {"min": 0, "max": 1},
    },
    "russian-post": {"name": "Russian Post", "delivery_methods": ["post"], "transit_days": {"min": 3, "max": 9}},
    "pickup-network": {
        "name": "Pickup points",
        "delivery_methods": ["pickup_point", "click_collect"],
        "transit_days": {"min": 1, "max": 3},
    },
}
SKU_COUNT = 300
# The catalog's names, so that products are found by name as well as by SKU (the admin page's searches).
PRODUCT_NAMES = ("Electric kettle", "Toaster", "Desk lamp", "Coffee grinder", "Blender", "Hair dryer", "Iron", "Fan")
# One admin-page user per role (docs/admin.md). moto keeps no users across restarts: seeded at every start.
DEMO_USERS = (
    PoolUser("operator", "Demo-operator-1", ("operator",), {}),
    PoolUser("store", "Demo-store-1", ("store_staff",), {"custom:location_ids": "msk-store-tverskaya"}),
    PoolUser("manager", "Demo-manager-1", ("manager",), {}),
    PoolUser("admin", "Demo-admin-1", ("admin",), {}),
)


def demo_skus() -> list[str]:
    return [f"SKU-{n:05d}" for n in range(1, SKU_COUNT + 1)]


def demo_products() -> list[dict[str, Any]]:
    return [
        {
            "sku": sku,
            "name": f"{PRODUCT_NAMES[n % len(PRODUCT_NAMES)]} {sku[-3:]}",
            "weight_grams": 500 + 10 * n,
            "length_mm": 300,
            "width_mm": 200,
            "height_mm": 150,
        }
        for n, sku in enumerate(demo_skus())
    ]


def load(hub: LocalHub, seed: int = 7) -> dict[str, int]:
    """Two stores, a warehouse, the web and call-centre channels, three carriers and 300 products in the
    catalog with stock (500 stock rows)."""
    headers = {"x-api-key": hub.api_key, "content-type": "application/json"}

    def put(path: str, body: dict[str, Any]) -> None:
        answer = hub.http("PUT", path, headers=headers, body=json.dumps(body).encode())
        if answer.status != 200:
            raise RuntimeError(f"demo data: PUT {path} answered {answer.status}: {answer.body[:200]!r}")

    for location_id, location in LOCATIONS.items():
        put(f"/v1/locations/{location_id}", location)
    for channel_id, channel in CHANNELS.items():
        put(f"/v1/channels/{channel_id}", channel)
    for carrier_id, carrier in CARRIERS.items():
        put(f"/v1/carriers/{carrier_id}", carrier)
    put("/v1/products", {"items": demo_products()})
    rng = random.Random(seed)  # noqa: S311 - reproducible demo stock from a seed; nothing here is secret
    rows = 0
    for location_id, location in LOCATIONS.items():
        # The warehouse holds the whole range; each store a third of it, a few units deep.
        if location["kind"] == "warehouse":
            items = [{"sku": sku, "on_hand": rng.randint(0, 60)} for sku in demo_skus()]
        else:
            items = [{"sku": sku, "on_hand": rng.randint(1, 8)} for sku in rng.sample(demo_skus(), SKU_COUNT // 3)]
        put(f"/v1/stock/{location_id}", {"mode": "snapshot", "items": items})
        rows += len(items)
    return {"locations": len(LOCATIONS), "channels": len(CHANNELS), "skus": SKU_COUNT, "stock_rows": rows}


def seed_users(hub: LocalHub) -> tuple[PoolUser, ...]:
    """The demo users, in the admin page's user pool."""
    for user in DEMO_USERS:
        hub.cognito.add_user(user)
    return DEMO_USERS
