"""Walking an order through its workflow over the HTTP contract, and reading its execution."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3

from tests.support.api import Api
from tests.support.builders import courier_order
from tests.support.waiting import wait_until

IN_STORE_METHODS = ("click_collect", "reserve_in_store", "ship_from_store")


def action(api: Api, order_id: str, name: str, status: str = "done", timeout: float = 20) -> dict[str, Any]:
    """The order's record of the on-entry action `name` once it reached `status`."""
    found: dict[str, Any] = {}

    def reached() -> bool:
        records = [a for a in api.order(order_id)["actions"] if a["name"] == name]
        found.update(records[-1] if records else {})
        return bool(records) and records[-1]["status"] == status

    wait_until(reached, timeout, f"{name} {status}")
    return found


def place(api: Api, method: str, external_id: str, **extra: Any) -> str:
    delivery = {"method": method, "address": "Moscow, Tverskaya 7"}
    if method in IN_STORE_METHODS:
        delivery["location_id"] = "store-1"
    answer = api.post("/v1/orders", courier_order(external_id, delivery=delivery, **extra))
    assert answer.status == 201, answer.body
    return answer.body["order_id"]


def storefront_order(api: Api, channel: str, external_id: str) -> str:
    """A marketplace order as a channel's own integration posts it (the external id is the partner's number)."""
    line = {"sku": "SKU-A", "qty": 1, "price": 1390}
    body = courier_order(external_id, channel=channel, lines=[line], delivery={"method": "marketplace"})
    answer = api.post("/v1/orders", body)
    assert answer.status == 201, answer.body
    return str(answer.body["order_id"])


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
