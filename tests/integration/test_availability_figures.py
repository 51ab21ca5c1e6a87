"""Availability as a read of the figures the stock stream keeps: every kind of change reaches them
through the real stream path, a read is one BatchGetItem, and a batch delivered twice changes nothing twice."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from tests.support.api import Api
from tests.support.aws_calls import Call, dynamodb_calls
from tests.support.builders import courier_order
from tests.support.dirty_marks import clear_dirty, dirty


def _figures_calls(made: list[Call]) -> list[str]:
    return [call.operation for call in made if call.tables == [os.environ["AVAILABILITY_TABLE"]]]


def _offer(api: Api, channel: str, skus: str) -> dict[str, dict[str, Any]]:
    answer = api.get("/v1/availability", f"channel={channel}&skus={skus}")
    assert answer.status == 200, answer.body
    return {item["sku"]: item for item in answer.body["items"]}


def _stored(channel: str, sku: str) -> dict[str, Any]:
    item = boto3.client("dynamodb").get_item(
        TableName=os.environ["AVAILABILITY_TABLE"], Key={"channel_id": {"S": channel}, "sku": {"S": sku}}
    )
    return item.get("Item", {})


def test_a_read_of_100_skus_is_one_batch_get_item_of_the_figures(shop: Api) -> None:
    skus = [f"SKU-{n:03d}" for n in range(100)]
    shop.put("/v1/stock/wh-1", {"items": [{"sku": sku, "on_hand": n + 1} for n, sku in enumerate(skus)]})
    shop.hub.settle()
    query = "channel=web&skus=" + ",".join(skus)
    shop.get("/v1/availability", query)  # fills the function's config cache
    with dynamodb_calls() as made:
        answer = shop.get("/v1/availability", query)
    assert answer.status == 200
    assert [item["available"] for item in answer.body["items"]] == list(range(1, 101))
    assert [call for call in made if call.tables != [os.environ["CONFIG_TABLE"]]] == [
        Call("BatchGetItem", [os.environ["AVAILABILITY_TABLE"]], 100)
    ]


def test_stock_writes_reservations_and_releases_reach_the_figures(shop: Api) -> None:
    shop.hub.settle()
    assert _offer(shop, "web", "SKU-A")["SKU-A"]["available"] == 13
    shop.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": 4}]})
    shop.hub.settle()
    assert _offer(shop, "web", "SKU-A")["SKU-A"]["locations"] == [
        {"location_id": "store-1", "available": 3},
        {"location_id": "wh-1", "available": 14},
    ]
    order = shop.post("/v1/orders", courier_order(lines=[{"sku": "SKU-A", "qty": 5, "price": 1}])).body
    shop.hub.settle()
    assert _offer(shop, "web", "SKU-A")["SKU-A"]["available"] == 12
    shop.event(order["order_id"], "cancel")
    shop.wait_for(order["order_id"], "cancelled")
    shop.hub.settle()
    assert _offer(shop, "web", "SKU-A")["SKU-A"]["available"] == 17
    assert int(_stored("web", "SKU-A")["available"]["N"]) == 17  # the stored figure, not a recompute


def test_a_rule_change_recomputes_the_stored_figures_and_marks_the_skus_dirty(shop: Api) -> None:
    shop.hub.settle()
    clear_dirty(shop)
    shop.put("/v1/channels/web", {"kind": "web", "name": "Site", "rules": {"safety_stock": 2}})
    shop.hub.settle()
    stored = _stored("web", "SKU-A")
    assert int(stored["available"]["N"]) == 9  # wh-1: 10 - 2, store-1: 3 - 2
    assert _offer(shop, "web", "SKU-A,SKU-B") == {
        "SKU-A": {
            "sku": "SKU-A",
            "available": 9,
            "locations": [{"location_id": "store-1", "available": 1}, {"location_id": "wh-1", "available": 8}],
        },
        "SKU-B": {"sku": "SKU-B", "available": 3, "locations": [{"location_id": "wh-1", "available": 3}]},
    }
    assert dirty(shop, "web") == {"SKU-A", "SKU-B"}


def test_a_paused_location_is_recomputed_from_the_figures_and_marked_dirty(shop: Api) -> None:
    shop.put("/v1/channels/ozon", {"kind": "ozon", "name": "Ozon"})
    shop.hub.settle()
    clear_dirty(shop)
    shop.put("/v1/locations/store-1", {"name": "Store", "kind": "store", "capabilities": ["courier"], "active": False})
    shop.hub.settle()
    for channel in ("web", "ozon"):
        assert int(_stored(channel, "SKU-A")["available"]["N"]) == 10
        assert _offer(shop, channel, "SKU-A")["SKU-A"]["locations"] == [{"location_id": "wh-1", "available": 10}]
        assert dirty(shop, channel) == {"SKU-A"}  # SKU-B has no stock at the store: its offer did not move
    shop.put("/v1/locations/store-1", {"name": "Store", "kind": "store", "capabilities": ["courier"]})
    shop.hub.settle()
    assert _offer(shop, "web", "SKU-A")["SKU-A"]["available"] == 13  # re-opened, from the same figures


def test_a_figure_of_another_basis_is_recomputed_at_read(shop: Api) -> None:
    """Before the background recompute reaches an item, the read does not trust its offer."""
    shop.hub.settle()
    boto3.client("dynamodb").update_item(
        TableName=os.environ["AVAILABILITY_TABLE"],
        Key={"channel_id": {"S": "web"}, "sku": {"S": "SKU-A"}},
        UpdateExpression="SET basis = :old, offer = :wrong",
        ExpressionAttributeValues={
            ":old": {"S": "rules-before"},
            ":wrong": {"S": '{"sku":"SKU-A","available":99,"locations":[]}'},
        },
    )
    assert _offer(shop, "web", "SKU-A")["SKU-A"]["available"] == 13


def test_a_new_channel_gets_figures_of_the_stock_already_there(shop: Api) -> None:
    shop.hub.settle()
    shop.put("/v1/channels/app", {"kind": "app", "name": "App", "rules": {"stock_share": 0.5}})
    shop.hub.settle()
    assert _stored("app", "SKU-A")  # built by the recompute, not at read
    assert _offer(shop, "app", "SKU-A,SKU-B,SKU-NONE") == {
        "SKU-A": {
            "sku": "SKU-A",
            "available": 6,
            "locations": [{"location_id": "store-1", "available": 1}, {"location_id": "wh-1", "available": 5}],
        },
        "SKU-B": {"sku": "SKU-B", "available": 2, "locations": [{"location_id": "wh-1", "available": 2}]},
        "SKU-NONE": {"sku": "SKU-NONE", "available": 0, "locations": []},
    }


def _stream_event(*rows: tuple[dict[str, Any] | None, dict[str, Any]]) -> dict[str, Any]:
    from common.dynamo import to_item

    return {
        "Records": [
            {
                "eventID": str(n),
                "eventName": "MODIFY" if before else "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": to_item({"sku": after["sku"], "location_id": after["location_id"]}),
                    "NewImage": to_item(after),
                    **({"OldImage": to_item(before)} if before else {}),
                    "SequenceNumber": str(n + 1),
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
            for n, (before, after) in enumerate(rows)
        ]
    }


def test_a_batch_delivered_twice_changes_nothing_twice_and_an_older_write_never_wins(shop: Api) -> None:
    shop.hub.settle()
    row = {"sku": "SKU-Z", "location_id": "wh-1", "on_hand": 7, "reserved": 0, "available": 7}
    newer = _stream_event((None, {**row, "updated_at": "2026-12-02T10:00:00.000000Z"}))
    older = _stream_event((None, {**row, "available": 1, "updated_at": "2026-12-02T09:00:00.000000Z"}))
    with dynamodb_calls() as first:
        assert shop.hub.invoke("StockChangesFunction", newer)["figures"] == 2  # the raw figures and web's offer
    stored = _stored("web", "SKU-Z")
    with dynamodb_calls() as again:
        assert shop.hub.invoke("StockChangesFunction", newer)["figures"] == 0
        assert shop.hub.invoke("StockChangesFunction", older)["figures"] == 0
    assert _stored("web", "SKU-Z") == stored
    assert _offer(shop, "web", "SKU-Z")["SKU-Z"]["available"] == 7
    assert _figures_calls(first) == ["BatchGetItem", "BatchWriteItem"]
    assert _figures_calls(again) == ["BatchGetItem", "BatchGetItem"]  # read, found the same, nothing written


@pytest.mark.parametrize("channels", [1, 3])
def test_a_batch_costs_one_read_per_100_skus_and_one_write_per_25_items(shop: Api, channels: int) -> None:
    for n in range(1, channels):
        shop.put(f"/v1/channels/c{n}", {"kind": "web", "name": f"C{n}"})
    shop.hub.settle()
    rows = [
        (None, {"sku": f"SKU-{n:03d}", "location_id": "wh-1", "available": n, "updated_at": "2026-12-02T10:00:00Z"})
        for n in range(150)
    ]
    with dynamodb_calls() as made:
        written = shop.hub.invoke("StockChangesFunction", _stream_event(*rows))["figures"]
    assert written == 150 * (channels + 1)  # the raw figures and each channel's offer
    figures = _figures_calls(made)
    assert figures.count("BatchGetItem") == 2  # 150 SKUs: 100 + 50
    assert figures.count("BatchWriteItem") == -(-written // 25)


def test_figures_of_an_existing_deployment_are_built_by_a_full_snapshot_import(shop: Api) -> None:
    """docs/inventory.md: a table created after the stock was imported fills from a full re-import."""
    shop.hub.settle()
    ddb, table = boto3.client("dynamodb"), os.environ["AVAILABILITY_TABLE"]
    for channel in ("#stock", "web"):
        for item in ddb.query(
            TableName=table, KeyConditionExpression="channel_id = :c", ExpressionAttributeValues={":c": {"S": channel}}
        )["Items"]:
            ddb.delete_item(TableName=table, Key={"channel_id": item["channel_id"], "sku": item["sku"]})
    assert _offer(shop, "web", "SKU-A")["SKU-A"]["available"] == 0  # what a new table answers
    for location, items in (("wh-1", [("SKU-A", 10), ("SKU-B", 5)]), ("store-1", [("SKU-A", 3)])):
        shop.put(
            f"/v1/stock/{location}",
            {
                "items": [{"sku": sku, "on_hand": units} for sku, units in items],
                "batch_id": "rebuild-1",
                "zero_unlisted": True,
            },
        )
    shop.hub.settle()
    assert _offer(shop, "web", "SKU-A,SKU-B") == {
        "SKU-A": {
            "sku": "SKU-A",
            "available": 13,
            "locations": [{"location_id": "store-1", "available": 3}, {"location_id": "wh-1", "available": 10}],
        },
        "SKU-B": {"sku": "SKU-B", "available": 5, "locations": [{"location_id": "wh-1", "available": 5}]},
    }


def test_a_stream_batch_writes_the_figures_of_a_channel_its_container_has_not_seen_yet(shop: Api) -> None:
    """A warm container's config cache may predate a channel: the stream's batch reads the channels fresh."""
    from reference import config_table

    shop.hub.settle()
    assert [c.channel_id for c in config_table.channels()] == ["web"]  # cached, as in a warm container
    ddb, table = boto3.client("dynamodb"), os.environ["CONFIG_TABLE"]
    web = ddb.get_item(TableName=table, Key={"kind": {"S": "channel"}, "id": {"S": "web"}})["Item"]
    ddb.put_item(
        TableName=table, Item={**web, "id": {"S": "late"}}
    )  # another container's write: this one's cache is not told
    row = {"sku": "SKU-L", "location_id": "wh-1", "available": 4, "updated_at": "2026-12-02T10:00:00Z"}
    assert shop.hub.invoke("StockChangesFunction", _stream_event((None, row)))["figures"] == 3  # #stock, web, late
    shop.hub.settle()
    assert _offer(shop, "late", "SKU-L")["SKU-L"]["available"] == 4
