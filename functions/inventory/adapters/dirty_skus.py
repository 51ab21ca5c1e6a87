"""Per-channel dirty marks: the SKUs whose availability on a channel changed since its last stock push.

Record: partition `channel_shard` = "<channel>#<NN>" (NN = crc32(sku) % SHARDS, two digits), sort key
`sku`, attribute `marked_at`. A push job for one channel Queries its SHARDS partitions (each page
sorted by SKU, 1 MB per call), pushes the current availability, then deletes each mark on condition
`marked_at = <the value it read>` so a SKU marked again meanwhile stays dirty. Sharding spreads a
100,000-row import over SHARDS partitions instead of one (1,000 writes/s per partition).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from common import aws
from common.config import settings
from common.dynamo import TransactItem, batch_put, query_all, to_item, transact_each

SHARDS = 16


@dataclass(frozen=True)
class Mark:
    sku: str
    marked_at: str


def shard_of(channel_id: str, sku: str) -> str:
    return f"{channel_id}#{zlib.crc32(sku.encode()) % SHARDS:02d}"


def channel_of(channel_shard: str) -> str:
    """The channel a mark's partition belongs to (channel ids hold no "#")."""
    return channel_shard.rsplit("#", 1)[0]


def mark(channel_skus: Iterable[tuple[str, str]], now: str) -> None:
    """Mark each (channel, sku) dirty; marking twice is the same as once (the newest marked_at wins)."""
    unique = dict.fromkeys(channel_skus)
    batch_put(
        aws.dynamodb(),
        settings().dirty_skus_table,
        [_mark(channel, sku, now) for channel, sku in unique],
    )


def mark_in_transaction(channel_id: str, sku: str, now: str) -> TransactItem:
    """The mark as an item of the transaction that moves the SKU's offer: both land, or neither."""
    return {"Put": {"TableName": settings().dirty_skus_table, "Item": to_item(_mark(channel_id, sku, now))}}


def _mark(channel_id: str, sku: str, now: str) -> dict[str, str]:
    return {"channel_shard": shard_of(channel_id, sku), "sku": sku, "marked_at": now}


def marks(channel_id: str) -> Iterator[Mark]:
    """The channel's marks, shard after shard, page by page (Query; pages are read as they are consumed)."""
    for shard in range(SHARDS):
        request = {
            "TableName": settings().dirty_skus_table,
            "KeyConditionExpression": "channel_shard = :p",
            "ExpressionAttributeValues": {":p": {"S": f"{channel_id}#{shard:02d}"}},
            "ConsistentRead": True,
        }
        for item in query_all(aws.dynamodb(), request):
            yield Mark(item["sku"]["S"], item["marked_at"]["S"])


def clear(channel_id: str, done: Iterable[Mark]) -> int:
    """Delete each mark that still holds the `marked_at` it was read with (a SKU marked again meanwhile
    stays dirty); the number deleted."""
    items: list[TransactItem] = [
        {
            "Delete": {
                "TableName": settings().dirty_skus_table,
                "Key": {"channel_shard": {"S": shard_of(channel_id, m.sku)}, "sku": {"S": m.sku}},
                "ConditionExpression": "marked_at = :seen",
                "ExpressionAttributeValues": {":seen": {"S": m.marked_at}},
            }
        }
        for m in dict.fromkeys(done)
    ]
    return len(items) - len(transact_each(aws.dynamodb(), items))
