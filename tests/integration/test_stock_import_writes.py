"""How PUT /v1/stock writes its rows: 100 to a transaction after one read, each line with its own outcome,
the requests counted; parts that are repeated or resumed change nothing twice; rows that move meanwhile
are decided again from what they became."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import boto3
import pytest

from inventory.adapters import stock_table
from tests.support.api import Api
from tests.support.aws_calls import Call, dynamodb_calls
from tests.support.builders import courier_order


def _row(sku: str, location_id: str = "wh-1") -> dict[str, Any]:
    item = boto3.client("dynamodb").get_item(
        TableName=os.environ["STOCK_TABLE"],
        Key={"sku": {"S": sku}, "location_id": {"S": location_id}},
        ConsistentRead=True,
    )["Item"]
    return {name: int(value["N"]) if "N" in value else value["S"] for name, value in item.items()}


def _reserve(shop: Api, sku: str, qty: int) -> None:
    lines = [{"sku": sku, "qty": qty, "price": 1}]
    assert shop.post("/v1/orders", courier_order(f"hold-{sku}", lines=lines)).status == 201


def _on_stock_table(made: list[Call]) -> list[tuple[str, int]]:
    return [(call.operation, call.keys) for call in made if call.tables == [os.environ["STOCK_TABLE"]]]


def test_a_line_below_reserved_among_99_is_reported_and_the_99_land_in_one_read_and_one_write(shop: Api) -> None:
    _reserve(shop, "SKU-B", 5)  # all 5 units of SKU-B at wh-1
    items = [{"sku": "SKU-B", "on_hand": 2}] + [{"sku": f"NEW-{n:02d}", "on_hand": n + 1} for n in range(99)]
    with dynamodb_calls() as made:
        answer = shop.put("/v1/stock/wh-1", {"mode": "snapshot", "items": items})
    assert answer.status == 200, answer.body
    assert answer.body["updated"] == 99
    assert [(e["sku"], e["error"]) for e in answer.body["errors"]] == [("SKU-B", "below_reserved")]
    assert "below the 5 units reserved" in answer.body["errors"][0]["message"]
    # The refusal is decided from the read: the transaction carries the 99 others only.
    assert _on_stock_table(made) == [("BatchGetItem", 100), ("TransactWriteItems", 99)]
    assert shop.stock("SKU-B", "wh-1") == {"on_hand": 5, "reserved": 5, "available": 0}
    assert shop.stock("NEW-98", "wh-1") == {"on_hand": 99, "reserved": 0, "available": 99}


def test_a_1000_line_part_costs_22_requests(shop: Api) -> None:
    items = [{"sku": f"BULK-{n:04d}", "on_hand": n % 9} for n in range(1000)]
    with dynamodb_calls() as made:
        answer = shop.put("/v1/stock/wh-1", {"mode": "snapshot", "batch_id": "erp-1", "part": 0, "items": items})
    assert answer.status == 200 and answer.body["updated"] == 1000, answer.body
    stock, batches = os.environ["STOCK_TABLE"], os.environ["STOCK_BATCHES_TABLE"]
    # The location's check reads the config (cached per container); the import's own requests:
    requests = Counter((call.operation, call.tables[0]) for call in made if call.tables[0] in (stock, batches))
    assert requests == {("BatchGetItem", stock): 10, ("TransactWriteItems", stock): 10, ("UpdateItem", batches): 2}
    assert sum(requests.values()) / len(items) == 0.022  # was 1 UpdateItem per row
    assert shop.stock("BULK-0999", "wh-1")["on_hand"] == 999 % 9


def test_a_snapshot_and_a_delta_keep_every_field_of_the_row(shop: Api) -> None:
    client = boto3.client("dynamodb")
    client.update_item(
        TableName=os.environ["STOCK_TABLE"],
        Key={"sku": {"S": "SKU-A"}, "location_id": {"S": "wh-1"}},
        UpdateExpression="SET shelf = :shelf",
        ExpressionAttributeValues={":shelf": {"S": "A-12"}},
    )
    first = {
        "mode": "snapshot",
        "batch_id": "s-1",
        "items": [{"sku": "SKU-A", "on_hand": 4, "expected_at": "2026-12-24"}],
    }
    assert shop.put("/v1/stock/wh-1", first).body["updated"] == 1
    row = _row("SKU-A")
    assert {k: row[k] for k in ("on_hand", "reserved", "available", "expected_at", "last_batch", "shelf")} == {
        "on_hand": 4,
        "reserved": 0,
        "available": 4,
        "expected_at": "2026-12-24",
        "last_batch": "s-1",
        "shelf": "A-12",  # not the import's: carried over as it was
    }
    assert row["imported_at"] == row["updated_at"]
    # A delta adds and keeps expected_at; a snapshot line without it clears it.
    shop.put("/v1/stock/wh-1", {"mode": "delta", "batch_id": "d-1", "items": [{"sku": "SKU-A", "on_hand": 3}]})
    row = _row("SKU-A")
    assert (row["on_hand"], row["available"], row["expected_at"], row["last_batch"]) == (7, 7, "2026-12-24", "d-1")
    shop.put("/v1/stock/wh-1", {"mode": "snapshot", "items": [{"sku": "SKU-A", "on_hand": 1}]})
    row = _row("SKU-A")
    assert (row["on_hand"], row["available"], "expected_at" in row, row["last_batch"]) == (1, 1, False, "d-1")
    # With units reserved, a delta may take away only the free ones; available stays on_hand - reserved.
    _reserve(shop, "SKU-B", 3)
    refused = shop.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-B", "on_hand": -3}]}).body
    assert refused["updated"] == 0 and "only 2 are not reserved" in refused["errors"][0]["message"]
    assert (
        shop.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-B", "on_hand": -2}]}).body["updated"] == 1
    )
    assert shop.stock("SKU-B", "wh-1") == {"on_hand": 3, "reserved": 3, "available": 0}
    new_row = shop.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-NEW", "on_hand": -1}]}).body
    assert new_row["updated"] == 0 and new_row["errors"][0]["error"] == "below_reserved"


def test_a_part_sent_twice_changes_nothing_the_second_time(shop: Api) -> None:
    part = {"mode": "delta", "batch_id": "d-7", "part": 3, "items": [{"sku": "SKU-A", "on_hand": 2}]}
    assert shop.put("/v1/stock/wh-1", part).body["duplicate"] is False
    with dynamodb_calls() as made:
        again = shop.put("/v1/stock/wh-1", part).body
    assert again["duplicate"] is True and again["updated"] == 1  # the first answer
    # The batch ledger answers; no row is read (beside the config, cached per container).
    assert [call.operation for call in made if call.tables != [os.environ["CONFIG_TABLE"]]] == ["UpdateItem"]
    assert shop.stock("SKU-A", "wh-1")["on_hand"] == 12


def test_a_part_whose_first_attempt_died_midway_writes_only_the_rest(
    shop: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    skus = [f"RES-{n:03d}" for n in range(150)]
    shop.put("/v1/stock/wh-1", {"mode": "snapshot", "items": [{"sku": sku, "on_hand": 10} for sku in skus]})
    part = {"mode": "delta", "batch_id": "d-9", "part": 0, "items": [{"sku": sku, "on_hand": 2} for sku in skus]}
    transactions: list[int] = []
    real_transact = stock_table.transact

    def dies_at_the_second(client: Any, items: list[dict[str, Any]]) -> Any:
        transactions.append(len(items))
        if len(transactions) == 2:
            raise ConnectionError("the function timed out")
        return real_transact(client, items)

    monkeypatch.setattr(stock_table, "transact", dies_at_the_second)
    assert shop.put("/v1/stock/wh-1", part).status >= 500
    monkeypatch.setattr(stock_table, "transact", real_transact)
    assert [shop.stock(sku, "wh-1")["on_hand"] for sku in (skus[0], skus[99], skus[100])] == [12, 12, 10]
    resumed = shop.put("/v1/stock/wh-1", part).body
    assert (resumed["duplicate"], resumed["updated"], resumed["errors"]) == (False, 150, [])
    assert {shop.stock(sku, "wh-1")["on_hand"] for sku in skus} == {12}  # every row once
    assert shop.put("/v1/stock/wh-1", part).body["duplicate"] is True


def test_rows_that_move_between_the_read_and_the_write_are_decided_again(
    shop: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    skus = ["RACE-0", "RACE-1", *(f"CALM-{n}" for n in range(8))]
    shop.put("/v1/stock/wh-1", {"mode": "snapshot", "items": [{"sku": sku, "on_hand": 10} for sku in skus]})
    real_batch_get = stock_table.batch_get

    def read_then_reserve(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        rows = real_batch_get(*args, **kwargs)
        for sku in ("RACE-0", "RACE-1"):  # an order takes 3 units of each once the import has read them
            boto3.client("dynamodb").update_item(
                TableName=os.environ["STOCK_TABLE"],
                Key={"sku": {"S": sku}, "location_id": {"S": "wh-1"}},
                UpdateExpression="SET reserved = reserved + :q, available = available - :q",
                ExpressionAttributeValues={":q": {"N": "3"}},
            )
        return rows

    monkeypatch.setattr(stock_table, "batch_get", read_then_reserve)
    snapshot = [{"sku": "RACE-0", "on_hand": 2}, {"sku": "RACE-1", "on_hand": 5}]
    snapshot += [{"sku": sku, "on_hand": 4} for sku in skus[2:]]
    with dynamodb_calls() as made:
        answer = shop.put("/v1/stock/wh-1", {"mode": "snapshot", "items": snapshot}).body
    # The first transaction is refused on the two moved rows and returns them as they are now.
    assert [op for op, _ in _on_stock_table(made)] == [
        "BatchGetItem",
        "UpdateItem",
        "UpdateItem",
        "TransactWriteItems",
        "TransactWriteItems",
    ]
    assert answer["updated"] == 9 and [e["sku"] for e in answer["errors"]] == ["RACE-0"]
    assert shop.stock("RACE-0", "wh-1") == {"on_hand": 10, "reserved": 3, "available": 7}  # 2 < 3 reserved
    assert shop.stock("RACE-1", "wh-1") == {"on_hand": 5, "reserved": 3, "available": 2}  # the units stay held
    assert shop.stock("CALM-7", "wh-1") == {"on_hand": 4, "reserved": 0, "available": 4}
