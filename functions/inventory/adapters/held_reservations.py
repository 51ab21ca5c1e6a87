"""Held reservations in DynamoDB: an order's, and those whose hold ran out (the sparse ByExpiry index).

Only held reservations with an expiry carry `expiry_day` (the UTC date of `expires_at`); closing a
reservation removes it. A sweep Queries the day partitions from LOOKBACK_DAYS ago to today with
`expires_at <= now`: a handful of small Queries whatever the table's size, and no Scan. The writes
are the ledger's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from common import aws
from common.clock import utc_day
from common.config import settings
from common.dynamo import query_all
from inventory import ledger
from inventory.ledger import Units

BY_EXPIRY = "ByExpiry"
LOOKBACK_DAYS = 14  # a sweeper down longer than this leaves older holds to an operator


def held_by(order_id: str) -> list[Units]:
    """The order's reservations that still hold units (consistent: read just before closing them)."""
    request = {
        "TableName": settings().reservations_table,
        "KeyConditionExpression": "order_id = :id",
        "FilterExpression": "#state = :held",
        "ConsistentRead": True,
        "ExpressionAttributeNames": {"#state": "state"},
        "ExpressionAttributeValues": {":id": {"S": order_id}, ":held": {"S": ledger.HELD}},
    }
    return [
        Units(item["sku"]["S"], item["location_id"]["S"], int(item["qty"]["N"]))
        for item in query_all(aws.dynamodb(), request)
    ]


def expired_orders(now: str) -> list[str]:
    """Orders with a held reservation whose hold has run out, oldest expiry first, each once."""
    today = utc_day(now)
    order_ids: dict[str, None] = {}
    for days_ago in range(LOOKBACK_DAYS, -1, -1):
        for item in _expired_on(today - timedelta(days=days_ago), now):
            order_ids.setdefault(item["order_id"]["S"])
    return list(order_ids)


def _expired_on(day: date, now: str) -> Iterator[dict[str, Any]]:
    request = {
        "TableName": settings().reservations_table,
        "IndexName": BY_EXPIRY,
        "KeyConditionExpression": "expiry_day = :day AND expires_at <= :now",
        "ExpressionAttributeValues": {":day": {"S": day.isoformat()}, ":now": {"S": now}},
    }
    return query_all(aws.dynamodb(), request)


def keep(order_id: str) -> None:
    """The order moved on (confirmed, shipped...): its holds no longer expire; take them out of the index."""
    request = {
        "TableName": settings().reservations_table,
        "KeyConditionExpression": "order_id = :id",
        "FilterExpression": "attribute_exists(expiry_day)",
        "ProjectionExpression": "reservation_key",
        "ExpressionAttributeValues": {":id": {"S": order_id}},
    }
    for item in list(query_all(aws.dynamodb(), request)):
        aws.dynamodb().update_item(**ledger.keep_hold(order_id, item["reservation_key"]["S"])["Update"])
