"""Stock per SKU x location in DynamoDB: reads of the free units (`available`, which the ledger keeps)
and the runner of imports' row writes.

Imports write each row with its own conditional UpdateItem built by the ledger (BatchWriteItem cannot
be conditional, and a reservation may move `reserved` at any moment); `last_batch` names the batch
that last wrote a row, so a batch that is resumed or repeated skips the rows it already wrote;
`imported_at` tells the stock stream's reader that an import, not a reservation or a return, made the
change.
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
from common.dynamo import BATCH_GET_LIMIT, TransactItem, batch_get, from_item, query_all
from inventory import ledger
from inventory.domain.availability import StockRow
from inventory.ledger import RowImport

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
    return [from_item(item) for item in query_all(aws.dynamodb(), request)]


@dataclass(frozen=True)
class RowWrite:
    """The outcome of writing one row: `before` is the row as it was (empty if new); `repeated` when
    it was not written because this batch already wrote it."""

    applied: bool
    before: dict[str, Any]
    repeated: bool = False


def set_on_hand(row: RowImport) -> RowWrite:
    """Snapshot one SKU; refused (nothing written) if the units reserved exceed the new on-hand."""
    return _write(ledger.set_on_hand(row), row.batch_id)


def add_on_hand(row: RowImport) -> RowWrite:
    """Add (or remove) units of one SKU; refused (nothing written) if a removal needs more than are free."""
    return _write(ledger.add_on_hand(row), row.batch_id)


def _write(item: TransactItem, batch_id: str | None) -> RowWrite:
    try:
        answer = aws.dynamodb().update_item(
            **item["Update"], ReturnValues="ALL_OLD", ReturnValuesOnConditionCheckFailure="ALL_OLD"
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
    for item in query_all(aws.dynamodb(), request):
        yield item["sku"]["S"]
