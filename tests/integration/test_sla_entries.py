"""Every status entry puts the order on the SLA monitor's BySlaCheck index, due at once: intake's first status,
the state machine's waits and terminal statuses, the stock and payment steps' writes, and a moved ship-by.
Orders driven over HTTP on the local hub (real ASL in moto); the items read from its DynamoDB."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3

from common.clock import utc_moment, utc_now
from common.dynamo import from_item
from oms_local.runtime import LocalHub
from orders.domain.models import order_id_for
from tests.support.api import Api
from tests.support.builders import courier_order
from tests.support.partners import ozon

FAR = "2999-01-01T00:00:00.000Z"
SLA_FIELDS = ("status", "status_since", "sla_lane", "sla_next_at", "sla_fired")


def _item(order_id: str) -> dict[str, Any]:
    answer = boto3.client("dynamodb").get_item(
        TableName=os.environ["ORDERS_TABLE"], Key={"pk": {"S": f"ORDER#{order_id}"}}, ConsistentRead=True
    )
    return from_item(answer["Item"])


def _sla(order_id: str) -> dict[str, Any]:
    item = _item(order_id)
    return {field: item.get(field) for field in SLA_FIELDS}


def _planned(order_id: str) -> None:
    """As the monitor leaves an order it planned: next check far ahead, a tier fired for this entry."""
    boto3.client("dynamodb").update_item(
        TableName=os.environ["ORDERS_TABLE"],
        Key={"pk": {"S": f"ORDER#{order_id}"}},
        UpdateExpression="SET sla_next_at = :far ADD sla_fired :tier",
        ExpressionAttributeValues={":far": {"S": FAR}, ":tier": {"SS": ["warn"]}},
    )


def _due(lane: str) -> set[str]:
    """What one monitor run reads: the index's keys due by now, nothing else."""
    pages = (
        boto3.client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=os.environ["ORDERS_TABLE"],
            IndexName="BySlaCheck",
            KeyConditionExpression="sla_lane = :lane AND sla_next_at <= :now",
            ExpressionAttributeValues={":lane": {"S": lane}, ":now": {"S": utc_now()}},
        )
    )
    return {item["pk"]["S"].removeprefix("ORDER#") for page in pages for item in page["Items"]}


def _entered(order_id: str, status: str, before: dict[str, Any], lane: str = "courier") -> dict[str, Any]:
    """The order's SLA fields after it entered `status`: a new entry, due now, nothing fired."""
    sla = _sla(order_id)
    assert sla["status"] == status
    assert sla["status_since"] > before["status_since"]
    assert (sla["sla_lane"], sla["sla_next_at"], sla["sla_fired"]) == (lane, sla["status_since"], None)
    assert utc_moment(sla["status_since"]) <= utc_moment(utc_now())
    assert _item(order_id)["timeline"][-1]["at"] == sla["status_since"]
    return sla


def test_each_status_entry_starts_its_sla_clock_and_is_due_to_plan(shop: Api) -> None:
    order = shop.post("/v1/orders", courier_order()).body
    order_id = order["order_id"]
    first = _sla(order_id)
    assert first == {
        "status": "reserved",
        "status_since": order["created_at"],
        "sla_lane": "courier",
        "sla_next_at": order["created_at"],
        "sla_fired": None,
    }
    before = first
    # waiting statuses the machine writes, shipped written by the stock step (a Lambda), delivered terminal
    for event, status in [("confirm", "confirmed"), ("pick", "picked"), ("pack", "packed"), ("ship", "shipped")]:
        _planned(order_id)
        shop.event(order_id, event)
        shop.wait_for(order_id, status)
        before = _entered(order_id, status, before)
    _planned(order_id)
    shop.event(order_id, "deliver")
    shop.wait_for(order_id, "delivered")
    _entered(order_id, "delivered", before)


def test_a_cancel_is_an_entry_too_and_an_order_left_on_hold_is_not(shop: Api) -> None:
    assert shop.put("/v1/channels/web", {"kind": "web", "name": "Site", "allow_split": True}).status == 200
    order_id = shop.post("/v1/orders", courier_order(lines=[{"sku": "SKU-B", "qty": 7, "price": 5}])).body["order_id"]
    on_hold = _sla(order_id)
    assert on_hold["status"] == "on_hold"
    _planned(order_id)
    planned = _sla(order_id)

    shop.event(order_id, "reserve")  # nothing arrived: the same entry, planned as it was
    deadline = time.monotonic() + 5
    while len(_item(order_id)["timeline"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    shop.wait_for(order_id, "on_hold")
    assert _sla(order_id) == planned

    shop.put("/v1/stock/store-1", {"mode": "delta", "items": [{"sku": "SKU-B", "on_hand": 4}]})
    shop.event(order_id, "reserve")
    shop.wait_for(order_id, "reserved")
    reserved = _entered(order_id, "reserved", on_hold)  # written by the reservation step (a Lambda)

    _planned(order_id)
    shop.event(order_id, "cancel")
    shop.wait_for(order_id, "cancelled")
    _entered(order_id, "cancelled", reserved)  # the releasing step, terminal


def test_the_index_finds_exactly_the_orders_that_moved(shop: Api) -> None:
    orders = [shop.post("/v1/orders", courier_order(f"web-{n}")).body["order_id"] for n in range(4)]
    assert _due("courier") == set(orders)  # every new order: the monitor plans its first status
    for order_id in orders:
        _planned(order_id)
    assert _due("courier") == set()

    moved = orders[:2]
    shop.event(moved[0], "confirm")
    shop.event(moved[1], "cancel")
    shop.wait_for(moved[0], "confirmed")
    shop.wait_for(moved[1], "cancelled")
    assert _due("courier") == set(moved)
    assert _due("ship_from_store") == set()


def test_a_moved_ship_by_makes_the_order_due_to_re_plan(hub: LocalHub, market: Api) -> None:
    ozon(hub, "ozon_new_posting.json")
    order_id = order_id_for("ozon", "24219509-0020-1")
    market.wait_for(order_id, "reserved")
    entered = _sla(order_id)
    assert entered["sla_lane"] == "marketplace"
    _planned(order_id)

    assert ozon(hub, "ozon_cutoff_date_changed.json").body == {"result": True}
    moved = _sla(order_id)
    assert moved["status_since"] == entered["status_since"]  # the same entry ...
    assert entered["status_since"] < moved["sla_next_at"] <= utc_now()  # ... planned again at the next run
    assert moved["sla_fired"] == ["warn"]  # its tiers stay fired (a string set, read as a list)
    assert order_id in _due("marketplace")
