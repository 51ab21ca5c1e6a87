"""Stock per SKU x location in DynamoDB: on_hand, reserved and available (= on_hand - reserved).

`available` is stored, not derived, because DynamoDB conditions cannot do arithmetic: a reservation
is then one conditional update (`available >= :qty`), exact under any concurrency.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from common import aws
from common.config import settings
from common.dynamo import batch_get


def physical_available(skus: Iterable[str], location_ids: Iterable[str]) -> dict[tuple[str, str], int]:
    """(sku, location) -> units not reserved, for the pairs that have a stock record."""
    keys = [{"sku": sku, "location_id": loc} for sku in dict.fromkeys(skus) for loc in location_ids]
    rows = batch_get(aws.dynamodb(), settings().stock_table, keys,
                     projection="sku, location_id, available")
    return {(row["sku"], row["location_id"]): int(row["available"]) for row in rows}


def set_on_hand(sku: str, location_id: str, on_hand: int, now: str) -> int | None:
    """Snapshot one SKU. Returns the units reserved if they exceed the new on-hand (nothing written)."""
    try:
        aws.dynamodb().update_item(
            TableName=settings().stock_table, Key=_key(sku, location_id),
            UpdateExpression=("SET on_hand = :on_hand, reserved = if_not_exists(reserved, :zero), "
                              "available = :on_hand - if_not_exists(reserved, :zero), updated_at = :now"),
            ConditionExpression="attribute_not_exists(reserved) OR reserved <= :on_hand",
            ExpressionAttributeValues={":on_hand": {"N": str(on_hand)}, ":zero": {"N": "0"}, ":now": {"S": now}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return int(_old(error)["reserved"]["N"])
    return None


def add_on_hand(sku: str, location_id: str, delta: int, now: str) -> int | None:
    """Delta one SKU. Returns the units still free if the delta would take more (nothing written)."""
    condition: dict[str, Any] = {}
    if delta < 0:
        condition = {"ConditionExpression": "available >= :needed",
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    values = {":delta": {"N": str(delta)}, ":zero": {"N": "0"}, ":now": {"S": now}}
    if delta < 0:
        values[":needed"] = {"N": str(-delta)}
    try:
        aws.dynamodb().update_item(
            TableName=settings().stock_table, Key=_key(sku, location_id),
            UpdateExpression=("SET on_hand = if_not_exists(on_hand, :zero) + :delta, "
                              "reserved = if_not_exists(reserved, :zero), "
                              "available = if_not_exists(available, :zero) + :delta, updated_at = :now"),
            ExpressionAttributeValues=values, **condition)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return int(_old(error).get("available", {"N": "0"})["N"])
    return None


def _key(sku: str, location_id: str) -> dict[str, Any]:
    return {"sku": {"S": sku}, "location_id": {"S": location_id}}


def _old(error: ClientError) -> dict[str, Any]:
    return error.response.get("Item") or {}
