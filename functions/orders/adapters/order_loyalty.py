"""The order's loyalty operations in the orders table (orders.domain.loyalty describes the record).

An operation is planned before the provider is asked (its points are then spoken for: a concurrent
give-back cannot count the same value again) and marked done once the provider confirmed it. Planning is
conditioned on the record's version as read, so two operations planned at once are planned one after the
other, each on what the other left.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common import aws
from common.config import settings
from common.dynamo import to_value, update_if
from orders.adapters.order_table import order_key


def plan(order_id: str, key: str, operation: Mapping[str, Any], version: int) -> bool:
    """Record `operation` under `key` (replacing a refused one); False when the record changed since read."""
    return (
        update_if(
            aws.dynamodb(),
            TableName=settings().orders_table,
            Key=order_key(order_id),
            UpdateExpression="SET loyalty.operations.#key = :operation, loyalty.version = :next",
            ConditionExpression="loyalty.version = :read",
            ExpressionAttributeNames={"#key": key},
            ExpressionAttributeValues={
                ":operation": to_value(dict(operation)),
                ":next": {"N": str(version + 1)},
                ":read": {"N": str(version)},
            },
        )
        is None
    )


def settle(order_id: str, key: str, state: str, fields: Mapping[str, Any]) -> bool:
    """A planned operation's end (`done` or `refused`) with what the provider answered; False when it was
    settled already (a concurrent repeat got there first)."""
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":f{i}": to_value(value) for i, value in enumerate(fields.values())}
    assignments = "".join(f", loyalty.operations.#key.{name} = :f{i}" for i, name in enumerate(names))
    return (
        update_if(
            aws.dynamodb(),
            TableName=settings().orders_table,
            Key=order_key(order_id),
            UpdateExpression=f"SET loyalty.operations.#key.#state = :state{assignments}",
            ConditionExpression="loyalty.operations.#key.#state = :planned",
            ExpressionAttributeNames={"#key": key, "#state": "state", **names},
            ExpressionAttributeValues={":state": {"S": state}, ":planned": {"S": "planned"}, **values},
        )
        is None
    )
