"""Shared by the workflow scenarios: a hub stocked for every delivery method, and ways to walk an order."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from oms_local.runtime import LocalHub
from tests.conftest import Api, courier_order


def stock_everywhere(api: Api) -> Api:
    """wh-1 ships (courier, pickup point, post, marketplace), store-1 serves customers in person."""
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


@pytest.fixture
def shop(api: Api) -> Api:
    return stock_everywhere(api)


@pytest.fixture
def timed_hub() -> Iterator[Api]:
    """A hub where the KPIs of the statuses these tests wait out last one second."""
    timeouts = {
        "ClickCollectLifecycle": {"ReadyForPickup": 1},
        "ReserveInStoreLifecycle": {"Held": 1},
        "ShipFromStoreLifecycle": {"Confirmed": 1, "AwaitConfirmed": 30},
    }
    with LocalHub(state_timeouts=timeouts) as hub:
        yield stock_everywhere(Api(hub))


def place(api: Api, method: str, external_id: str, **extra: Any) -> str:
    delivery = {"method": method, "address": "Moscow, Tverskaya 7"}
    if method in ("click_collect", "reserve_in_store", "ship_from_store"):
        delivery["location_id"] = "store-1"
    answer = api.post("/v1/orders", courier_order(external_id, delivery=delivery, **extra))
    assert answer.status == 201, answer.body
    return answer.body["order_id"]


def walk(api: Api, order_id: str, steps: list[tuple[str, str]]) -> dict[str, Any]:
    order: dict[str, Any] = {}
    for event, status in steps:
        assert api.event(order_id, event).body["next_status"] == status
        order = api.wait_for(order_id, status)
    return order


def wait_attention(api: Api, order_id: str, attention: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (order := api.order(order_id)).get("attention") != attention:
        assert time.monotonic() < deadline, order
        time.sleep(0.05)
    return order


def execution(order_id: str, workflow: str, settle: float = 5) -> dict[str, Any]:
    """The order's execution on its workflow's machine, once it ended (or after `settle` seconds)."""
    machine = os.environ["LIFECYCLE_ARN_PREFIX"] + workflow
    arn = machine.replace(":stateMachine:", ":execution:") + f":{order_id}"
    sfn = boto3.client("stepfunctions")
    deadline = time.monotonic() + settle
    while (described := sfn.describe_execution(executionArn=arn))[
        "status"
    ] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    return described
