"""Per-channel dirty marks: the SKUs whose availability on a channel changed since its last stock push.

Record: partition `channel_shard` = "<channel>#<NN>" (NN = crc32(sku) % SHARDS, two digits), sort key
`sku`, attribute `marked_at`. A push job for one channel Queries its SHARDS partitions (each page
sorted by SKU, 1 MB per call), pushes the current availability, then deletes each mark on condition
`marked_at = <the value it read>` so a SKU marked again meanwhile stays dirty. Sharding spreads a
100,000-row import over SHARDS partitions instead of one (1,000 writes/s per partition).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from common import aws
from common.config import settings
from common.dynamo import TransactItem, batch_put, to_item

SHARDS = 16


def shard_of(channel_id: str, sku: str) -> str:
    return f"{channel_id}#{zlib.crc32(sku.encode()) % SHARDS:02d}"


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
