"""Ledger of applied import batches: the same (location, batch id, part) is applied at most once.

A part is `applying` from its first attempt until it is done, then `applied` with its result. A
retry of an `applying` part (the first attempt crashed) runs again and skips the rows the first
attempt wrote (see stock_table.last_batch); a retry of an `applied` part gets the stored result.
Entries expire after KEEP_DAYS (DynamoDB TTL: deleting late is harmless here).
"""

from __future__ import annotations

from typing import Any

from common import aws
from common.clock import epoch_seconds
from common.config import settings
from common.dynamo import to_value, update_if

KEEP_DAYS = 90


def _key(location_id: str, batch_id: str, part: int) -> dict[str, Any]:
    return {"location_id": {"S": location_id}, "batch_key": {"S": f"{batch_id}#{part:07d}"}}


def begin(location_id: str, batch_id: str, part: int, now: str) -> dict[str, Any] | None:
    """Claim the part; None to go ahead, else the result it had when it was applied."""
    refused = update_if(
        aws.dynamodb(),
        TableName=settings().stock_batches_table,
        Key=_key(location_id, batch_id, part),
        UpdateExpression="SET #state = :applying, started_at = if_not_exists(started_at, :now), expires_at = :expires",
        ConditionExpression="attribute_not_exists(#state) OR #state = :applying",
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues={
            ":applying": {"S": "applying"},
            ":now": {"S": now},
            ":expires": {"N": str(epoch_seconds(now) + KEEP_DAYS * 86_400)},
        },
    )
    return None if refused is None else refused.get("result") or {}


def finish(location_id: str, batch_id: str, part: int, result: dict[str, Any], now: str) -> None:
    aws.dynamodb().update_item(
        TableName=settings().stock_batches_table,
        Key=_key(location_id, batch_id, part),
        UpdateExpression="SET #state = :applied, #result = :result, applied_at = :now",
        ExpressionAttributeNames={"#state": "state", "#result": "result"},
        ExpressionAttributeValues={":applied": {"S": "applied"}, ":result": to_value(result), ":now": {"S": now}},
    )
