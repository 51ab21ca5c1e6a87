"""Held reservations that expire, read through the sparse ByExpiry index of the reservations table.

Only held reservations with an expiry carry `expiry_day` (the UTC date of `expires_at`); closing a
reservation removes it. A sweep Queries the day partitions from LOOKBACK_DAYS ago to today with
`expires_at <= now`: a handful of small Queries whatever the table's size, and no Scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from common import aws
from common.config import settings

BY_EXPIRY = "ByExpiry"
LOOKBACK_DAYS = 14  # a sweeper down longer than this leaves older holds to an operator


def expired_orders(now: str) -> list[str]:
    """Orders with a held reservation whose hold has run out, oldest expiry first, each once."""
    today = date.fromisoformat(now[:10])
    order_ids: dict[str, None] = {}
    for days_ago in range(LOOKBACK_DAYS, -1, -1):
        for item in _expired_on(today - timedelta(days=days_ago), now):
            order_ids.setdefault(item["order_id"]["S"])
    return list(order_ids)


def _expired_on(day: date, now: str) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {
        "TableName": settings().reservations_table,
        "IndexName": BY_EXPIRY,
        "KeyConditionExpression": "expiry_day = :day AND expires_at <= :now",
        "ExpressionAttributeValues": {":day": {"S": day.isoformat()}, ":now": {"S": now}},
    }
    while True:
        page = aws.dynamodb().query(**request)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def keep(order_id: str) -> None:
    """The order moved on (confirmed, shipped...): its holds no longer expire; take them out of the index."""
    answer = aws.dynamodb().query(
        TableName=settings().reservations_table,
        KeyConditionExpression="order_id = :id",
        FilterExpression="attribute_exists(expiry_day)",
        ProjectionExpression="reservation_key",
        ExpressionAttributeValues={":id": {"S": order_id}},
    )
    for item in answer["Items"]:
        aws.dynamodb().update_item(
            TableName=settings().reservations_table,
            Key={"order_id": {"S": order_id}, "reservation_key": item["reservation_key"]},
            UpdateExpression="REMOVE expiry_day",
        )
