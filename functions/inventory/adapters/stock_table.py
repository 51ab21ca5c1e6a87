"""Stock per SKU x location in DynamoDB: reads of the free units (`available`, which the ledger keeps)
and the runner of imports' row writes.

An import writes its rows 100 at a time: one consistent BatchGetItem reads them, the ledger computes
each row after its line, and one TransactWriteItems puts them, each Put conditioned on its row being
as read (BatchWriteItem cannot carry a condition, and a reservation may move `reserved` at any
moment). A Put refused because its row moved comes back with the row as it now is, so the chunk is
decided again from that and sent again: about 2 requests per 100 rows instead of one per row.
`last_batch` names the batch that last wrote a row, so a batch that is resumed or repeated skips the
rows it already wrote; `imported_at` tells the stock stream's reader that an import, not a
reservation or a return, made the change.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from common import aws
from common.config import settings
from common.dynamo import (
    BATCH_GET_LIMIT,
    CONDITION_FAILED,
    TRANSACTION_LIMIT,
    TransactItem,
    batch_get,
    from_item,
    query_all,
    transact,
)
from common.errors import StockContention
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


@dataclass(frozen=True)
class StockLevel:
    on_hand: int
    reserved: int
    available: int


def stock_levels(skus: Iterable[str], location_ids: Iterable[str]) -> dict[tuple[str, str], StockLevel]:
    """(sku, location) -> on hand, reserved and free units, for the pairs that have a record (BatchGetItem of
    every pair: a store's stock page asks for a few SKUs at one or two locations)."""
    keys = [{"sku": sku, "location_id": loc} for sku in dict.fromkeys(skus) for loc in sorted(set(location_ids))]
    rows = batch_get(
        aws.dynamodb(), settings().stock_table, keys, projection="sku, location_id, on_hand, reserved, available"
    )
    return {
        (row["sku"], row["location_id"]): StockLevel(
            int(row["on_hand"]), int(row.get("reserved", 0)), int(row["available"])
        )
        for row in rows
    }


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


RowBuilder = Callable[[RowImport, Mapping[str, Any]], TransactItem | None]
WRITE_ATTEMPTS = 8  # transactions of one chunk whose rows keep moving, before the part is refused (503)


def set_on_hand(rows: Sequence[RowImport]) -> list[RowWrite]:
    """Snapshot each row (in order); one is refused (nothing written) if its units reserved exceed the new on-hand."""
    return _write(rows, ledger.set_on_hand)


def add_on_hand(rows: Sequence[RowImport]) -> list[RowWrite]:
    """Add (or remove) units of each row (in order); one is refused if a removal needs more than are free."""
    return _write(rows, ledger.add_on_hand)


def _write(rows: Sequence[RowImport], build: RowBuilder) -> list[RowWrite]:
    """One outcome per row, in order. The rows are at one location, each SKU once."""
    outcomes: list[RowWrite] = []
    for start in range(0, len(rows), TRANSACTION_LIMIT):
        outcomes.extend(_write_chunk(rows[start : start + TRANSACTION_LIMIT], build))
    return outcomes


class _Cancelled(Exception):
    """The chunk's transaction was cancelled; the rows that had moved are now known as they are."""


def _write_chunk(rows: Sequence[RowImport], build: RowBuilder) -> list[RowWrite]:
    found = batch_get(
        aws.dynamodb(),
        settings().stock_table,
        [{"sku": row.sku, "location_id": row.location_id} for row in rows],
        consistent=True,
    )
    stored = {item["sku"]: item for item in found}
    try:
        for attempt in Retrying(
            retry=retry_if_exception_type(_Cancelled),
            stop=stop_after_attempt(WRITE_ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.01, max=0.2),
        ):
            with attempt:
                return _try_chunk(rows, stored, build)
    except RetryError:
        raise StockContention("stock rows kept moving while the import wrote them; send the part again") from None
    raise AssertionError("unreachable")


def _try_chunk(rows: Sequence[RowImport], stored: dict[str, dict[str, Any]], build: RowBuilder) -> list[RowWrite]:
    """Decide every row from `stored` and put the ones to write in one transaction; a row that moved
    meanwhile refuses its Put and returns itself, which goes to `stored` for the next attempt."""
    outcomes: list[RowWrite] = []
    puts: list[tuple[str, TransactItem]] = []
    for row in rows:
        before = stored.get(row.sku, {})
        if row.batch_id is not None and before.get("last_batch") == row.batch_id:
            outcomes.append(RowWrite(False, before, repeated=True))
            continue
        item = build(row, before)
        outcomes.append(RowWrite(item is not None, before))
        if item is not None:
            puts.append((row.sku, {"Put": {**item["Put"], "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}))
    reasons = transact(aws.dynamodb(), [item for _, item in puts]) if puts else None
    if reasons is None:
        return outcomes
    for (sku, _), reason in zip(puts, reasons, strict=True):
        if reason.code == CONDITION_FAILED:
            stored[sku] = reason.item or {}
    raise _Cancelled


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
