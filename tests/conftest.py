"""Shared fixtures: a whole hub on moto, driven over its HTTP contract."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("OMS_LOG_LEVEL", "WARNING")
# powertools' Metrics reads its namespace when common.observability is first imported, which a unit
# test (connectors, clients) may do before any hub sets the template's environment; without one, the
# automatic flush at 100 metrics fails.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "OmsHub")

from oms_local.runtime import LocalHub

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class Api:
    """Calls the hub as a storefront would, through API Gateway's proxy semantics."""

    def __init__(self, hub: LocalHub, api_key: str | None = None) -> None:
        self.hub = hub
        self.api_key = hub.api_key if api_key is None else api_key

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: str = "",
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = {"content-type": "application/json", **(headers or {})}
        if self.api_key:
            sent["x-api-key"] = self.api_key
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        answer = self.hub.http(method, path, query=query, headers=sent, body=payload)
        text = answer.body.decode()
        try:
            parsed = json.loads(text) if text else None
        except json.JSONDecodeError:
            parsed = text
        return Answer(answer.status, answer.headers, parsed)

    def get(self, path: str, query: str = "") -> Answer:
        return self.call("GET", path, query=query)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.call("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.call("PUT", path, body, **kwargs)

    # ------------------------------------------------------------------ helpers for scenarios
    def order(self, order_id: str) -> dict[str, Any]:
        answer = self.get(f"/v1/orders/{order_id}")
        assert answer.status == 200, answer.body
        return answer.body

    def wait_for(self, order_id: str, status: str, timeout: float = 5.0) -> dict[str, Any]:
        """The contract: a GET shows the new status within 5 seconds of an accepted event."""
        deadline = time.monotonic() + timeout
        while True:
            order = self.order(order_id)
            if order["status"] == status and not order.get("pending_event"):
                return order
            if time.monotonic() > deadline:
                raise AssertionError(f"order {order_id} still {order['status']} after {timeout}s, wanted {status}")
            time.sleep(0.02)

    def event(self, order_id: str, event: str, expect: int = 202, **extra: Any) -> Answer:
        answer = self.post(f"/v1/orders/{order_id}/events", {"event": event, **extra})
        assert answer.status == expect, answer.body
        return answer

    def stock(self, sku: str, location_id: str) -> dict[str, int]:
        """On-hand, reserved and available as stored (the ground truth for invariants)."""
        import boto3

        item = (
            boto3.client("dynamodb")
            .get_item(
                TableName=os.environ["STOCK_TABLE"],
                Key={"sku": {"S": sku}, "location_id": {"S": location_id}},
                ConsistentRead=True,
            )
            .get("Item")
        )
        if not item:
            return {"on_hand": 0, "reserved": 0, "available": 0}
        return {k: int(item[k]["N"]) for k in ("on_hand", "reserved", "available")}


@pytest.fixture
def hub() -> Iterator[LocalHub]:
    with LocalHub() as running:
        yield running


@pytest.fixture
def api(hub: LocalHub) -> Api:
    return Api(hub)


def courier_order(
    external_id: str = "web-1001", *, channel: str = "web", lines: list[dict[str, Any]] | None = None, **overrides: Any
) -> dict[str, Any]:
    order = load_event("order_courier.json")
    order.update(channel=channel, external_id=external_id)
    if lines is not None:
        order["lines"] = lines
    order.update(overrides)
    return order


def one_warehouse(api: Api, sku_units: int = 4) -> Api:
    """The smallest working hub: warehouse wh-1 (courier), channel web, `sku_units` of SKU-A."""
    assert (
        api.put("/v1/locations/wh-1", {"name": "Warehouse", "kind": "warehouse", "capabilities": ["courier"]}).status
        == 200
    )
    assert api.put("/v1/channels/web", {"kind": "web", "name": "Site"}).status == 200
    assert api.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": sku_units}]}).status == 200
    return api


@pytest.fixture
def shop(api: Api) -> Api:
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
