"""Stock per SKU x location in DynamoDB: on_hand, reserved and available (= on_hand - reserved).

`available` is stored, not derived, because DynamoDB conditions cannot do arithmetic: a reservation
is then one conditional update (`available >= :qty`), exact under any concurrency. Imports write each
row with its own conditional UpdateItem (BatchWriteItem cannot be conditional, and a reservation may
move `reserved` at any moment); `last_batch` names the batch that last wrote a row, so a batch that is
resumed or repeated skips the rows it already wrote; `imported_at` tells the stock stream's reader that
an import, not a reservation or a return, made the change.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from common import aws
from common.config import settings
from common.dynamo import BATCH_GET_LIMIT, batch_get, from_item
from inventory.domain.availability import StockRow

BY_LOCATION = "ByLocation"
_PROJECTION = "sku, location_id, available, expected_at"


def stock_rows(skus: Iterable[str], location_ids: Iterable[str]) -> dict[tuple[str, str], StockRow]:
    """(sku, location) -> its record, for the pairs that have one.

    Whichever costs fewer calls: BatchGetItem of every SKU x location pair (100 per call), or one
    Query per SKU (the SKU is the partition: one call returns all its locations). A 3-line order
    from 3 locations is one call; from 300 stores it is 3, not 9.
    """
    sku_list, wanted = list(dict.fromkeys(skus)), set(location_ids)
    pairs = len(sku_list) * len(wanted)
    if not pairs:
        return {}
    if math.ceil(pairs / BATCH_GET_LIMIT) <= len(sku_list):
        rows = batch_get(
            aws.dynamodb(),
            settings().stock_table,
            [{"sku": sku, "location_id": loc} for sku in sku_list for loc in sorted(wanted)],
            projection=_PROJECTION,
        )
    else:
        rows = [row for sku in sku_list for row in _locations_of(sku) if row["location_id"] in wanted]
    return {
        (row["sku"], row["location_id"]): StockRow(
            int(row["available"]), date.fromisoformat(row["expected_at"]) if row.get("expected_at") else None
        )
        for row in rows
    }


def physical_available(skus: Iterable[str], location_ids: Iterable[str]) -> dict[tuple[str, str], int]:
    """(sku, location) -> units not reserved, for the pairs that have a stock record."""
    return {key: row.available for key, row in stock_rows(skus, location_ids).items()}


def _locations_of(sku: str) -> list[dict[str, Any]]:
    request: dict[str, Any] = {
        "TableName": settings().stock_table,
        "KeyConditionExpression": "sku = :sku",
        "ProjectionExpression": _PROJECTION,
        "ExpressionAttributeValues": {":sku": {"S": sku}},
    }
    return list(_pages(request))


def _pages(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    while True:
        page = aws.dynamodb().query(**request)
        yield from (from_item(item) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dataclass(frozen=True)
class RowWrite:
    """The outcome of writing one row: `before` is the row as it was (empty if new); `repeated` when
    it was not written because this batch already wrote it."""

    applied: bool
    before: dict[str, Any]
    repeated: bool = False


def set_on_hand(
    sku: str, location_id: str, on_hand: int, expected_at: date | None, batch_id: str | None, now: str
) -> RowWrite:
    """Snapshot one SKU; refused (nothing written) if the units reserved exceed the new on-hand."""
    values = {":on_hand": {"N": str(on_hand)}, ":zero": {"N": "0"}, ":now": {"S": now}}
    assignments = [
        "on_hand = :on_hand",
        "reserved = if_not_exists(reserved, :zero)",
        "available = :on_hand - if_not_exists(reserved, :zero)",
        "updated_at = :now",
        "imported_at = :now",
    ]
    remove = ""
    if expected_at is None:
        remove = " REMOVE expected_at"
    else:
        assignments.append("expected_at = :expected_at")
        values[":expected_at"] = {"S": expected_at.isoformat()}
    return _write(
        sku,
        location_id,
        assignments,
        remove,
        "(attribute_not_exists(reserved) OR reserved <= :on_hand)",
        values,
        batch_id,
    )


def add_on_hand(
    sku: str, location_id: str, delta: int, expected_at: date | None, batch_id: str | None, now: str
) -> RowWrite:
    """Add (or remove) units of one SKU; refused (nothing written) if a removal needs more than are free."""
    values = {
        ":delta": {"N": str(delta)},
        ":zero": {"N": "0"},
        ":now": {"S": now},
        ":needed": {"N": str(max(-delta, 0))},
    }
    assignments = [
        "on_hand = if_not_exists(on_hand, :zero) + :delta",
        "reserved = if_not_exists(reserved, :zero)",
        "available = if_not_exists(available, :zero) + :delta",
        "updated_at = :now",
        "imported_at = :now",
    ]
    if expected_at is not None:
        assignments.append("expected_at = :expected_at")
        values[":expected_at"] = {"S": expected_at.isoformat()}
    # An addition always fits; a removal needs that many free units.
    return _write(
        sku,
        location_id,
        assignments,
        "",
        "(attribute_not_exists(available) AND :delta >= :zero OR available >= :needed)",
        values,
        batch_id,
    )


def _write(
    sku: str,
    location_id: str,
    assignments: list[str],
    remove: str,
    condition: str,
    values: dict[str, Any],
    batch_id: str | None,
) -> RowWrite:
    if batch_id is not None:
        assignments = [*assignments, "last_batch = :batch"]
        condition += " AND (attribute_not_exists(last_batch) OR last_batch <> :batch)"
        values = {**values, ":batch": {"S": batch_id}}
    try:
        answer = aws.dynamodb().update_item(
            TableName=settings().stock_table,
            Key=_key(sku, location_id),
            UpdateExpression="SET " + ", ".join(assignments) + remove,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        before = from_item(error.response.get("Item") or {})
        return RowWrite(False, before, repeated=batch_id is not None and before.get("last_batch") == batch_id)
    return RowWrite(True, from_item(answer.get("Attributes") or {}))


def unlisted(location_id: str, batch_id: str) -> Iterator[str]:
    """SKUs of the location with units on hand that the batch did not write (sparse reads: keys + 2 fields)."""
    request: dict[str, Any] = {
        "TableName": settings().stock_table,
        "IndexName": BY_LOCATION,
        "KeyConditionExpression": "location_id = :loc",
        "FilterExpression": "on_hand > :zero AND (attribute_not_exists(last_batch) OR last_batch <> :batch)",
        "ExpressionAttributeValues": {":loc": {"S": location_id}, ":zero": {"N": "0"}, ":batch": {"S": batch_id}},
    }
    for row in _pages(request):
        yield row["sku"]


def _key(sku: str, location_id: str) -> dict[str, Any]:
    return {"sku": {"S": sku}, "location_id": {"S": location_id}}
