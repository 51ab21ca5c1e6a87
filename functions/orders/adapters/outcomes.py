"""Orders created in a range of days, by status, read from the KEYS_ONLY created_key indexes (ByCreated,
ByStatus): COUNT Queries of one partition's key range, and the newest few orders of a status for their
reasons. No order is read to be counted."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from common import aws
from common.config import settings
from common.dynamo import batch_get, count_all


def _range(index: str, attribute: str, value: str, first: date, last: date) -> dict[str, Any]:
    # created_key is `<created_at>#<order_id>`: a day's keys sort from its date to the next day's.
    return {
        "TableName": settings().orders_table,
        "IndexName": index,
        "KeyConditionExpression": "#p = :p AND created_key BETWEEN :first AND :last",
        "ExpressionAttributeNames": {"#p": attribute},
        "ExpressionAttributeValues": {
            ":p": {"S": value},
            ":first": {"S": first.isoformat()},
            ":last": {"S": (last + timedelta(days=1)).isoformat()},
        },
    }


def count_created(first: date, last: date, status: str | None = None) -> int:
    """Orders created from `first` to `last` (UTC days, both included), of the status when one is given."""
    index, attribute, value = ("ByStatus", "status", status) if status else ("ByCreated", "entity", "order")
    return count_all(aws.dynamodb(), _range(index, attribute, value, first, last))


def newest_created(status: str, first: date, last: date, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` orders in the status created in the range: one Query, one BatchGetItem."""
    request = {**_range("ByStatus", "status", status, first, last), "ScanIndexForward": False, "Limit": limit}
    keys = [{"pk": item["pk"]["S"]} for item in aws.dynamodb().query(**request)["Items"]]
    rows = batch_get(
        aws.dynamodb(), settings().orders_table, keys, projection="order_id, #s, timeline", names={"#s": "status"}
    )
    # The index is eventually consistent: an order that has left the status since is left out.
    return [row for row in rows if row["status"] == status]
