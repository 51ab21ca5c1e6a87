"""The inventory engine over HTTP: rules per channel, batches, snapshots, arrivals, dirty marks, StockChanged."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.support.api import Api
from tests.support.builders import courier_order
from tests.support.dirty_marks import clear_dirty, dirty


def _offer(api: Api, channel: str, skus: str) -> dict[str, Any]:
    """The channel's offer once the stock stream (and the config stream, for rules) delivered every write so far."""
    api.hub.settle()
    answer = api.get("/v1/availability", f"channel={channel}&skus={skus}")
    assert answer.status == 200, answer.body
    return {item["sku"]: item for item in answer.body["items"]}


@pytest.fixture
def stock_events(api: Api) -> Iterator[Any]:
    """StockChanged events as a subscriber sees them: a rule on the bus forwarding to an SQS queue."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue = sqs.create_queue(QueueName="stock-changed")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = os.environ["EVENT_BUS_NAME"]
    events.put_rule(Name="stock-changed", EventBusName=bus, EventPattern=json.dumps({"detail-type": ["StockChanged"]}))
    events.put_targets(Rule="stock-changed", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    def received() -> list[dict[str, Any]]:
        api.hub.settle()
        details = []
        while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                details.append(json.loads(message["Body"])["detail"])
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return details

    yield received


@pytest.fixture
def chain(api: Api) -> Api:
    """Three stores and a warehouse; SKU-A at each; channels web (no rules) and ozon."""
    for loc, kind in [("wh-1", "warehouse"), ("s1", "store"), ("s2", "store"), ("s3", "store")]:
        assert api.put(f"/v1/locations/{loc}", {"name": loc, "kind": kind, "capabilities": ["courier"]}).status == 200
        assert api.put(f"/v1/stock/{loc}", {"items": [{"sku": "SKU-A", "on_hand": 10}]}).status == 200
    assert api.put("/v1/channels/web", {"kind": "web", "name": "Site"}).status == 200
    return api


def test_each_rule_over_http(chain: Api) -> None:
    rules = {
        "safety_stock": 1,
        "stock_share": 0.5,
        "excluded_locations": ["s3"],
        "locations": {"wh-1": {"safety_stock": 0, "stock_share": 1}},
    }
    assert chain.put("/v1/channels/ozon", {"kind": "ozon", "name": "Ozon", "rules": rules}).status == 200
    item = _offer(chain, "ozon", "SKU-A")["SKU-A"]
    # wh-1: 10 (its own rules); s1, s2: (10 - 1) * 0.5 = 4; s3 excluded
    assert {loc["location_id"]: loc["available"] for loc in item["locations"]} == {"wh-1": 10, "s1": 4, "s2": 4}
    assert item["available"] == 18
    capped = {**rules, "max_units": 12, "skus": {"SKU-B": {"min_presentable": 3}}}
    chain.put("/v1/channels/ozon", {"kind": "ozon", "name": "Ozon", "rules": capped})
    assert _offer(chain, "ozon", "SKU-A")["SKU-A"]["available"] == 12
    chain.put("/v1/channels/ozon", {"kind": "ozon", "name": "Ozon", "rules": {**rules, "max_share": 0.25}})
    assert _offer(chain, "ozon", "SKU-A")["SKU-A"]["available"] == 7  # 25 % of 30 free at wh-1, s1, s2
    chain.put(
        "/v1/channels/ozon",
        {"kind": "ozon", "name": "Ozon", "rules": {"min_presentable": 5, "skus": {"SKU-A": {"min_presentable": 41}}}},
    )
    assert _offer(chain, "ozon", "SKU-A")["SKU-A"]["available"] == 0  # 40 < 41
    chain.put("/v1/locations/s1", {"name": "s1", "kind": "store", "active": False})
    web = _offer(chain, "web", "SKU-A")["SKU-A"]
    assert web["available"] == 30 and "s1" not in [loc["location_id"] for loc in web["locations"]]


def test_the_old_rules_shape_still_works_and_bad_rules_are_422(chain: Api) -> None:
    answer = chain.put(
        "/v1/channels/app", {"kind": "app", "name": "App", "rules": {"safety_stock": 2, "stock_share": 0.9}}
    )
    assert answer.status == 200 and answer.body["rules"]["safety_stock"] == 2
    assert _offer(chain, "app", "SKU-A")["SKU-A"]["available"] == 28  # 4 x (10 - 2) * 0.9 = 4 x 7
    for rules, loc in [
        ({"max_units": -1}, ["body", "rules", "max_units"]),
        ({"max_share": 2}, ["body", "rules", "max_share"]),
        ({"min_presentable": -3}, ["body", "rules", "min_presentable"]),
        ({"excluded_locations": ["bad id"]}, ["body", "rules", "excluded_locations", 0]),
        ({"skus": {"bad sku": {}}}, ["body", "rules", "skus", "bad sku", "[key]"]),
        ({"locations": {"s1": {"stock_share": 7}}}, ["body", "rules", "locations", "s1", "stock_share"]),
        ({"skus": {"A": {"unknown": 1}}}, ["body", "rules", "skus", "A", "unknown"]),
    ]:
        refused = chain.put("/v1/channels/app", {"kind": "app", "name": "App", "rules": rules})
        assert refused.status == 422 and loc in [d["loc"] for d in refused.body["details"]], (rules, refused.body)
    assert _offer(chain, "app", "SKU-A")["SKU-A"]["available"] == 28  # unchanged


def test_the_same_batch_twice_changes_nothing(chain: Api) -> None:
    delta = {"mode": "delta", "batch_id": "erp-77", "items": [{"sku": "SKU-A", "on_hand": 5}]}
    first = chain.put("/v1/stock/s1", delta)
    assert first.body["duplicate"] is False and first.body["updated"] == 1
    again = chain.put("/v1/stock/s1", delta)
    assert again.status == 200 and again.body["duplicate"] is True and again.body["updated"] == 1
    assert chain.stock("SKU-A", "s1")["on_hand"] == 15
    # A snapshot repeated after a shipment must not put the shipped units back.
    snapshot = {"batch_id": "erp-78", "items": [{"sku": "SKU-A", "on_hand": 3}]}
    chain.put("/v1/stock/wh-1", snapshot)
    chain.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": -1}]})
    assert chain.put("/v1/stock/wh-1", snapshot).body["duplicate"] is True
    assert chain.stock("SKU-A", "wh-1")["on_hand"] == 2
    # The same batch id at another location is another batch.
    assert chain.put("/v1/stock/s2", snapshot).body["duplicate"] is False


def test_snapshot_zeroes_unlisted_skus_only_when_asked(chain: Api) -> None:
    chain.put("/v1/stock/s1", {"items": [{"sku": "SKU-B", "on_hand": 4}, {"sku": "SKU-C", "on_hand": 2}]})
    chain.put("/v1/stock/s1", {"batch_id": "b1", "items": [{"sku": "SKU-B", "on_hand": 5}]})
    assert chain.stock("SKU-A", "s1")["on_hand"] == 10  # not asked: left alone
    chain.post("/v1/orders", courier_order("z-1", lines=[{"sku": "SKU-C", "qty": 1, "price": 1}]))
    answer = chain.put(
        "/v1/stock/s1", {"batch_id": "b2", "zero_unlisted": True, "items": [{"sku": "SKU-B", "on_hand": 6}]}
    ).body
    assert chain.stock("SKU-B", "s1")["on_hand"] == 6
    reserved_at_s1 = chain.stock("SKU-C", "s1")["reserved"]
    assert chain.stock("SKU-A", "s1")["on_hand"] == 0
    if reserved_at_s1:  # the order took SKU-C from s1: its reserved unit cannot be zeroed away
        assert [e["sku"] for e in answer["errors"]] == ["SKU-C"] and answer["zeroed"] == 1
    else:
        assert answer["errors"] == [] and answer["zeroed"] == 2
    assert chain.stock("SKU-A", "s2")["on_hand"] == 10  # other locations untouched


def test_bad_imports_are_422_and_change_nothing(chain: Api) -> None:
    for body, loc in [
        ({"items": [{"sku": "SKU-A", "on_hand": -1}]}, ["body"]),
        ({"mode": "delta", "zero_unlisted": True, "batch_id": "x", "items": [{"sku": "A", "on_hand": 1}]}, ["body"]),
        ({"zero_unlisted": True, "items": [{"sku": "A", "on_hand": 1}]}, ["body"]),
        ({"batch_id": "has space", "items": [{"sku": "A", "on_hand": 1}]}, ["body", "batch_id"]),
        ({"items": [{"sku": "A", "on_hand": 1, "expected_at": "soon"}]}, ["body", "items", 0, "expected_at"]),
        ({"part": -1, "items": [{"sku": "A", "on_hand": 1}]}, ["body", "part"]),
    ]:
        answer = chain.put("/v1/stock/s1", body)
        assert answer.status == 422 and any(d["loc"][: len(loc)] == loc for d in answer.body["details"]), answer.body
    assert chain.put("/v1/stock/nowhere", {"items": [{"sku": "A", "on_hand": 1}]}).status == 404
    assert chain.stock("A", "s1") == {"on_hand": 0, "reserved": 0, "available": 0}
    assert chain.stock("SKU-A", "s1")["on_hand"] == 10


def test_expected_arrival_shows_while_out_of_stock(chain: Api) -> None:
    chain.put("/v1/stock/s1", {"items": [{"sku": "SKU-N", "on_hand": 0, "expected_at": "2026-12-20"}]})
    chain.put("/v1/stock/s2", {"mode": "delta", "items": [{"sku": "SKU-N", "on_hand": 0, "expected_at": "2026-12-10"}]})
    item = _offer(chain, "web", "SKU-N")["SKU-N"]
    assert item["available"] == 0 and item["expected_at"] == "2026-12-10"
    chain.put("/v1/stock/s2", {"items": [{"sku": "SKU-N", "on_hand": 2}]})  # arrived: the snapshot clears it
    item = _offer(chain, "web", "SKU-N")["SKU-N"]
    assert item["available"] == 2 and "expected_at" not in item


def test_changes_mark_dirty_per_channel_and_emit_stock_changed(chain: Api, stock_events: Any) -> None:
    chain.put(
        "/v1/channels/ozon",
        {"kind": "ozon", "name": "Ozon", "rules": {"safety_stock": 5, "excluded_locations": ["s2"]}},
    )
    clear_dirty(chain)
    stock_events()
    chain.put("/v1/stock/s1", {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": 1}]})  # 10 -> 11
    assert dirty(chain, "web") == {"SKU-A"} and dirty(chain, "ozon") == {"SKU-A"}
    events = stock_events()
    assert [(e["location_id"], e["skus"], e["channels"], e["cause"]) for e in events] == [
        ("s1", ["SKU-A"], ["ozon", "web"], "import")
    ]
    clear_dirty(chain)
    chain.put("/v1/stock/s2", {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": 1}]})  # ozon excludes s2
    assert dirty(chain, "web") == {"SKU-A"} and dirty(chain, "ozon") == set()
    clear_dirty(chain)
    chain.put("/v1/stock/s3", {"items": [{"sku": "SKU-Q", "on_hand": 3}]})  # under ozon's safety stock
    assert dirty(chain, "web") == {"SKU-Q"} and dirty(chain, "ozon") == set()
    clear_dirty(chain)
    stock_events()
    chain.put("/v1/stock/s3", {"items": [{"sku": "SKU-Q", "on_hand": 3}]})  # no change at all
    assert dirty(chain, "web") == set() and stock_events() == []
    order = chain.post("/v1/orders", courier_order("d-1", lines=[{"sku": "SKU-Q", "qty": 1, "price": 1}])).body
    assert dirty(chain, "web") == {"SKU-Q"}
    assert [e["cause"] for e in stock_events()] == ["reservation"]
    clear_dirty(chain)
    chain.event(order["order_id"], "cancel")
    chain.wait_for(order["order_id"], "cancelled")
    assert dirty(chain, "web") == {"SKU-Q"}
    assert [e["cause"] for e in stock_events()] == ["reservation"]


def test_an_announcement_that_fails_is_retried_from_the_stream_and_loses_no_marks(
    chain: Api, stock_events: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import has committed; the dirty marks fail for a while. The stream delivers the batch again
    until they land: the ERP's request is not failed for it, and nothing is applied twice."""
    from inventory.adapters import dirty_skus

    real_mark = dirty_skus.mark
    failures = [RuntimeError("DynamoDB unavailable")] * 2

    def flaky(*args: Any, **kwargs: Any) -> None:
        if failures:
            raise failures.pop()
        real_mark(*args, **kwargs)

    clear_dirty(chain)
    stock_events()
    delta = {"mode": "delta", "batch_id": "erp-9", "items": [{"sku": "SKU-A", "on_hand": 4}]}
    monkeypatch.setattr(dirty_skus, "mark", flaky)
    answer = chain.put("/v1/stock/s1", delta)
    assert answer.status == 200 and answer.body["updated"] == 1
    assert dirty(chain, "web") == {"SKU-A"} and failures == []
    assert chain.stock("SKU-A", "s1")["on_hand"] == 14
    assert [(e["skus"], e["cause"], e["batch_id"]) for e in stock_events()] == [(["SKU-A"], "import", "erp-9")]
    assert chain.put("/v1/stock/s1", delta).body["duplicate"] is True


def test_every_writer_of_a_stock_row_is_announced_returns_included(chain: Api, stock_events: Any) -> None:
    """Announcing from the stock table's stream covers writers that never called it themselves: a
    return puts units back on hand, and the channels hear of it."""
    order = chain.post("/v1/orders", courier_order("ret-1", lines=[{"sku": "SKU-A", "qty": 1, "price": 1}])).body
    for event in ["confirm", "pick", "pack", "ship", "deliver"]:
        chain.event(order["order_id"], event)
    chain.wait_for(order["order_id"], "delivered")
    location = order["allocations"][0]["location_id"]
    clear_dirty(chain)
    stock_events()
    answer = chain.post(
        f"/v1/orders/{order['order_id']}/returns",
        {"return_id": "r-1", "reason": "damaged", "location_id": location, "lines": [{"sku": "SKU-A", "qty": 1}]},
    )
    assert answer.status == 201, answer.body
    assert dirty(chain, "web") == {"SKU-A"}
    assert [(e["location_id"], e["skus"], e["cause"]) for e in stock_events()] == [(location, ["SKU-A"], "stock")]


def test_a_batch_that_keeps_failing_goes_to_the_failure_queue_with_its_range(
    chain: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inventory.adapters import dirty_skus

    def down(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("DynamoDB unavailable")

    chain.hub.settle()  # the set-up's own writes are announced first
    monkeypatch.setattr(dirty_skus, "mark", down)
    assert chain.put("/v1/stock/s1", {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": 1}]}).status == 200
    chain.hub.settle()
    sqs = boto3.client("sqs")
    queue = next(url for url in sqs.list_queues()["QueueUrls"] if "AsyncFailuresQueue" in url)
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    failure = json.loads(messages[0]["Body"])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 11  # MaximumRetryAttempts 10 + the first
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    monkeypatch.undo()
    assert chain.put("/v1/stock/s1", {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": 1}]}).status == 200
    assert dirty(chain, "web") == {"SKU-A"}  # the stream goes on after a batch given up on


def test_a_failed_transaction_does_not_stall_the_stream(chain: Api) -> None:
    """moto puts back a copy of the table when a transaction fails (here: a duplicate order); the local
    stream reader must follow the copy's stream, as DynamoDB simply writes no record for it."""
    order = courier_order("dup-1", lines=[{"sku": "SKU-A", "qty": 1, "price": 1}])
    assert chain.post("/v1/orders", order).status == 201
    assert chain.post("/v1/orders", order).status == 200  # the transaction's condition fails
    clear_dirty(chain)
    assert chain.put("/v1/stock/s2", {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": 1}]}).status == 200
    assert dirty(chain, "web") == {"SKU-A"}
