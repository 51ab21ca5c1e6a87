"""Stock per SKU x location in DynamoDB: on_hand, reserved and available (= on_hand - reserved).

`available` is stored, not derived, because DynamoDB conditions cannot do arithmetic: a reservation
is then one conditional update (`available >= :qty`), exact under any concurrency.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from common import aws
from common.config import settings
from common.dynamo import BATCH_GET_LIMIT, batch_get, from_item, update_if


def physical_available(skus: Iterable[str], location_ids: Iterable[str]) -> dict[tuple[str, str], int]:
    """(sku, location) -> units not reserved, for the pairs that have a stock record.

    Whichever costs fewer calls: BatchGetItem of every SKU x location pair (100 per call), or one
    Query per SKU (the SKU is the partition: one call returns all its locations). A 3-line order
    from 3 locations is one call; from 300 stores it is 3, not 9.
    """
    sku_list, wanted = list(dict.fromkeys(skus)), set(location_ids)
    pairs = len(sku_list) * len(wanted)
    if not pairs:
        return {}
    if math.ceil(pairs / BATCH_GET_LIMIT) <= len(sku_list):
        rows = batch_get(aws.dynamodb(), settings().stock_table,
                         [{"sku": sku, "location_id": loc} for sku in sku_list for loc in sorted(wanted)],
                         projection="sku, location_id, available")
    else:
        rows = [row for sku in sku_list for row in _locations_of(sku) if row["location_id"] in wanted]
    return {(row["sku"], row["location_id"]): int(row["available"]) for row in rows}


def _locations_of(sku: str) -> list[dict[str, Any]]:
    request: dict[str, Any] = {"TableName": settings().stock_table, "KeyConditionExpression": "sku = :sku",
                               "ProjectionExpression": "sku, location_id, available",
                               "ExpressionAttributeValues": {":sku": {"S": sku}}}
    rows: list[dict[str, Any]] = []
    while True:
        page = aws.dynamodb().query(**request)
        rows.extend(from_item(item) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return rows
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def set_on_hand(sku: str, location_id: str, on_hand: int, now: str) -> int | None:
    """Snapshot one SKU. Returns the units reserved if they exceed the new on-hand (nothing written)."""
    refused = update_if(
        aws.dynamodb(), TableName=settings().stock_table, Key=_key(sku, location_id),
        UpdateExpression=("SET on_hand = :on_hand, reserved = if_not_exists(reserved, :zero), "
                          "available = :on_hand - if_not_exists(reserved, :zero), updated_at = :now"),
        ConditionExpression="attribute_not_exists(reserved) OR reserved <= :on_hand",
        ExpressionAttributeValues={":on_hand": {"N": str(on_hand)}, ":zero": {"N": "0"}, ":now": {"S": now}})
    return None if refused is None else int(refused["reserved"])


def add_on_hand(sku: str, location_id: str, delta: int, now: str) -> int | None:
    """Delta one SKU. Returns the units still free if the delta would take more (nothing written)."""
    values = {":delta": {"N": str(delta)}, ":zero": {"N": "0"}, ":now": {"S": now},
              ":needed": {"N": str(max(-delta, 0))}}
    refused = update_if(
        aws.dynamodb(), TableName=settings().stock_table, Key=_key(sku, location_id),
        UpdateExpression=("SET on_hand = if_not_exists(on_hand, :zero) + :delta, "
                          "reserved = if_not_exists(reserved, :zero), "
                          "available = if_not_exists(available, :zero) + :delta, updated_at = :now"),
        # An addition always fits; a removal needs that many free units.
        ConditionExpression="attribute_not_exists(available) AND :delta >= :zero OR available >= :needed",
        ExpressionAttributeValues=values)
    return None if refused is None else int(refused.get("available", 0))


def _key(sku: str, location_id: str) -> dict[str, Any]:
    return {"sku": {"S": sku}, "location_id": {"S": location_id}}
