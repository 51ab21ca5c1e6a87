"""Each store's queue entries in DynamoDB (the store work table: `queue` = `<location>#<status>`, sorted by
`created_key`), kept by the orders table's stream (orders.domain.store_work says which)."""

from __future__ import annotations

from collections.abc import Sequence

from common import aws
from common.config import settings
from common.dynamo import batch_write
from orders.domain.store_work import Entry, queue_of


def apply(put: Sequence[Entry], delete: Sequence[Entry]) -> None:
    batch_write(
        aws.dynamodb(),
        settings().store_work_table,
        ({"queue": e.queue, "created_key": e.created_key, "order_id": e.order_id} for e in put),
        ({"queue": e.queue, "created_key": e.created_key} for e in delete),
    )


def oldest(location_id: str, status: str, limit: int) -> list[str]:
    """The ids of the oldest `limit` orders in the store's section: one Query of its partition."""
    page = aws.dynamodb().query(
        TableName=settings().store_work_table,
        KeyConditionExpression="#q = :q",
        ExpressionAttributeNames={"#q": "queue"},
        ExpressionAttributeValues={":q": {"S": queue_of(location_id, status)}},
        ProjectionExpression="order_id",
        Limit=limit,
    )
    return [item["order_id"]["S"] for item in page["Items"]]
