"""A Wildberries channel's open supply: the one its confirmed assembly tasks go into until it is handed
over. Wildberries lists no open supplies in the API the hub uses, so the hub keeps the id (an item of the
orders table under `SUPPLY#<channel>`, outside every order index)."""

from __future__ import annotations

from typing import Any

from common import aws
from common.config import settings
from common.dynamo import update_if


def _key(channel_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"SUPPLY#{channel_id}"}}


def current(channel_id: str) -> str | None:
    answer = aws.dynamodb().get_item(TableName=settings().orders_table, Key=_key(channel_id), ConsistentRead=True)
    supply = answer.get("Item", {}).get("supply_id")  # the item stays, without an id, once one was delivered
    return str(supply["S"]) if supply else None


def keep(channel_id: str, supply_id: str, now: str) -> str:
    """Make `supply_id` the channel's open supply unless another one is; the open one."""
    refused = update_if(
        aws.dynamodb(),
        TableName=settings().orders_table,
        Key=_key(channel_id),
        UpdateExpression="SET supply_id = :supply, opened_at = :now",
        ConditionExpression="attribute_not_exists(supply_id)",
        ExpressionAttributeValues={":supply": {"S": supply_id}, ":now": {"S": now}},
    )
    return supply_id if refused is None else str(refused["supply_id"])


def close(channel_id: str, supply_id: str) -> bool:
    """The supply went to delivery: the next confirmed task opens a new one. False if it was not open."""
    refused = update_if(
        aws.dynamodb(),
        TableName=settings().orders_table,
        Key=_key(channel_id),
        UpdateExpression="REMOVE supply_id, opened_at",
        ConditionExpression="supply_id = :supply",
        ExpressionAttributeValues={":supply": {"S": supply_id}},
    )
    return refused is None
