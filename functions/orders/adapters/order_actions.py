"""The records of an order's on-entry actions (the order's `actions` map, docs/actions.md), written by
OrderActionsFunction with conditional updates: a claim takes the record as it was read (or creates it) and
holds a lease, so a second delivery of the same announcement while the first runs changes nothing; the
outcome is written only by the claim's holder, with its timeline entry, and for a permanent failure the
order's attention and the operator task, in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common import aws
from common.config import settings
from common.dynamo import CONDITION_FAILED, TransactItem, to_value, transact, update_if
from orders.adapters.order_table import order_key
from orders.adapters.task_table import open_task


def claim(order_id: str, key: str, record: Mapping[str, Any], seen: Mapping[str, Any] | None) -> bool:
    """Write the running `record` at `key` if the record there is still `seen` (None: there is none);
    False when another delivery changed it first."""
    table = settings().orders_table
    names = {"#actions": "actions", "#key": key}
    values: dict[str, Any] = {":record": to_value(dict(record))}
    if seen is None:
        condition = "attribute_exists(#actions) AND attribute_not_exists(#actions.#key)"
    else:
        condition = "#actions.#key.holder = :holder AND #actions.#key.attempts = :attempts"
        values |= {":holder": {"S": seen["holder"]}, ":attempts": {"N": str(seen["attempts"])}}
    request = {
        "TableName": table,
        "Key": order_key(order_id),
        "UpdateExpression": "SET #actions.#key = :record",
        "ConditionExpression": f"attribute_exists(pk) AND {condition}",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    refused = update_if(aws.dynamodb(), **request)
    if refused is None:
        return True
    if refused and "actions" not in refused:
        # An order from before actions were recorded: give it the (empty) map, then claim again.
        update_if(
            aws.dynamodb(),
            TableName=table,
            Key=order_key(order_id),
            UpdateExpression="SET #actions = :none",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#actions)",
            ExpressionAttributeNames={"#actions": "actions"},
            ExpressionAttributeValues={":none": {"M": {}}},
        )
        return update_if(aws.dynamodb(), **request) is None
    return False


def finish(
    order_id: str,
    key: str,
    record: Mapping[str, Any],
    entry: Mapping[str, Any] | None,
    attention: str | None = None,
    task: Mapping[str, Any] | None = None,
) -> bool:
    """The outcome of the holder's attempt: the record, its timeline entry (if any) and, for a permanent failure,
    the order's `attention` and the operator `task`. False if the claim was lost (its lease ran out and
    another delivery took it): that one writes the outcome."""
    names = {"#actions": "actions", "#key": key}
    values: dict[str, Any] = {":record": to_value(dict(record)), ":holder": {"S": record["holder"]}}
    assignments = ["#actions.#key = :record"]
    if entry is not None:
        assignments.append("timeline = list_append(timeline, :entry)")
        values[":entry"] = to_value([dict(entry)])
    if attention is not None:
        assignments.append("attention = :attention")
        values[":attention"] = {"S": attention}
    items: list[TransactItem] = [
        {
            "Update": {
                "TableName": settings().orders_table,
                "Key": order_key(order_id),
                "UpdateExpression": "SET " + ", ".join(assignments),
                "ConditionExpression": "#actions.#key.holder = :holder",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }
    ]
    if task is not None:
        items.append(open_task(dict(task)))
    reasons = transact(aws.dynamodb(), items)
    if reasons is None:
        return True
    if len(reasons) > 1 and reasons[0].code != CONDITION_FAILED and reasons[1].code == CONDITION_FAILED:
        # The task is open already (an earlier attempt's transaction was retried): write the rest.
        return finish(order_id, key, record, entry, attention)
    return False
