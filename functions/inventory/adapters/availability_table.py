"""Each channel's availability figures (AvailabilityTable: partition `channel_id`, sort key `sku`).

A channel's item of a SKU holds `stock` (the raw figures, inventory.domain.channel_figures.encode),
`basis`, `offer` (the answer's item as JSON), `available` (the offered total) and `updated_at`. The
partition STOCK_PARTITION holds the raw figures of every SKU that has a stock row, whatever channels
exist: a new channel's figures are built from it. Both are JSON text rather than DynamoDB maps: the
item is always read and written whole, and one string is parsed in microseconds where a map of a few
hundred locations is hundreds of typed values to unmarshal per SKU.

A channel's partition is read in SKU order (a stock push or a recompute pages through it, 1 MB per
Query), one storefront read is one BatchGetItem of up to 100 SKUs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from common import aws
from common.config import settings
from common.dynamo import batch_get, batch_put, from_item, query_all, to_value, update_if

# Channel ids never hold "#" (common.models.Identifier), so this partition is no channel's.
STOCK_PARTITION = "#stock"
_NAMES = {"#sku": "sku", "#stock": "stock", "#basis": "basis", "#offer": "offer"}


@dataclass(frozen=True)
class StoredFigures:
    sku: str
    stock: str  # encoded raw figures
    basis: str | None = None  # None in STOCK_PARTITION
    offer: str | None = None


def _stored(item: Mapping[str, Any]) -> StoredFigures:
    return StoredFigures(str(item["sku"]), str(item["stock"]), item.get("basis"), item.get("offer"))


def figures(channel_id: str, skus: Iterable[str], *, consistent: bool = False) -> dict[str, StoredFigures]:
    """sku -> its stored figures, for the SKUs that have an item (BatchGetItem, 100 keys per call)."""
    items = batch_get(
        aws.dynamodb(),
        settings().availability_table,
        [{"channel_id": channel_id, "sku": sku} for sku in dict.fromkeys(skus)],
        consistent=consistent,
        # Only what a read uses: locally moto spends ~30 us on every attribute value it answers.
        projection="#sku, #stock, #basis, #offer",
        names=_NAMES,
    )
    return {item["sku"]: _stored(item) for item in items}


def put(items: Iterable[Mapping[str, Any]]) -> None:
    """Whole items, 25 per BatchWriteItem: only the stock stream's reader, the one writer of a SKU's raw
    figures (the stream hands a SKU's writes to one batch at a time), writes this way."""
    batch_put(aws.dynamodb(), settings().availability_table, items)


def partition(channel_id: str, after: str | None = None) -> Iterator[StoredFigures]:
    """Every item of the partition in SKU order (those after the SKU `after`, if given: a resumed walk),
    page by page (consistent: a recompute builds on it)."""
    request: dict[str, Any] = {
        "TableName": settings().availability_table,
        "KeyConditionExpression": "channel_id = :c" + (" AND #sku > :after" if after is not None else ""),
        "ProjectionExpression": "#sku, #stock, #basis, #offer",
        "ExpressionAttributeNames": _NAMES,
        "ExpressionAttributeValues": {
            ":c": {"S": channel_id},
            **({":after": {"S": after}} if after is not None else {}),
        },
        "ConsistentRead": True,
    }
    for item in query_all(aws.dynamodb(), request):
        yield _stored(from_item(item))


def replace_if_unchanged(channel_id: str, sku: str, seen_stock: str | None, item: Mapping[str, Any]) -> bool:
    """Write a recomputed item unless the stream wrote the SKU since it was read (`seen_stock`: its raw
    figures then, None if there was no item): the stream's write is newer and wins."""
    fields = {k: v for k, v in item.items() if k not in ("channel_id", "sku")}
    names = {f"#f{n}": name for n, name in enumerate(fields)}
    values = {f":f{n}": to_value(value) for n, value in enumerate(fields.values())}
    if seen_stock is None:
        condition, names["#sku"] = "attribute_not_exists(#sku)", "sku"
    else:
        condition, names["#stock"] = "#stock = :seen", "stock"
        values[":seen"] = to_value(seen_stock)
    refused = update_if(
        aws.dynamodb(),
        TableName=settings().availability_table,
        Key={"channel_id": {"S": channel_id}, "sku": {"S": sku}},
        UpdateExpression="SET " + ", ".join(f"#f{n} = :f{n}" for n in range(len(fields))),
        ConditionExpression=condition,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )
    return refused is None
