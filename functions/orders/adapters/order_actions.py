"""The records of an order's on-entry actions (the order's `actions` map, docs/actions.md), written by
OrderActionsFunction with conditional updates: a claim takes the record as it was read (or creates it) and
holds a lease, so a second delivery of the same announcement while the first runs changes nothing; the
outcome is written only by the claim's holder, with its timeline entry, and for a permanent failure the
order's attention and the operator task, in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from common import aws
from common.config import settings
from common.dynamo import CONDITION_FAILED, TransactItem, to_value, transact, update_if
from orders.adapters.order_table import order_key
from orders.adapters.task_table import close_task, open_task


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


def requeue(order_id: str, key: str, failed: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """An operator's retry: `record` (retrying, due now) in place of the `failed` one as read; False if the
    record changed meanwhile (another retry took it first)."""
    refused = update_if(
        aws.dynamodb(),
        TableName=settings().orders_table,
        Key=order_key(order_id),
        UpdateExpression="SET #actions.#key = :record",
        ConditionExpression="#actions.#key.holder = :holder AND #actions.#key.#status = :failed",
        ExpressionAttributeNames={"#actions": "actions", "#key": key, "#status": "status"},
        ExpressionAttributeValues={
            ":record": to_value(dict(record)),
            ":holder": {"S": failed["holder"]},
            ":failed": {"S": "failed"},
        },
    )
    return refused is None


def put_back(order_id: str, key: str, failed: Mapping[str, Any], requeued: Mapping[str, Any]) -> None:
    """Undo a requeue whose announcement could not be sent (unless the function has taken it already)."""
    update_if(
        aws.dynamodb(),
        TableName=settings().orders_table,
        Key=order_key(order_id),
        UpdateExpression="SET #actions.#key = :record",
        ConditionExpression="#actions.#key.holder = :holder",
        ExpressionAttributeNames={"#actions": "actions", "#key": key},
        ExpressionAttributeValues={":record": to_value(dict(failed)), ":holder": {"S": requeued["holder"]}},
    )


@dataclass(frozen=True)
class Effects:
    """What an outcome changes beside the action's record: for a permanent failure, the order's `attention`
    and the operator `task`; for an operator's retry that went through, the task it `settles` closed and
    (`clear_attention`) the order's attention removed."""

    attention: str | None = None
    task: Mapping[str, Any] | None = None
    settles: str | None = None
    clear_attention: bool = False


NO_EFFECTS = Effects()


def finish(
    order_id: str,
    key: str,
    record: Mapping[str, Any],
    entry: Mapping[str, Any] | None,
    effects: Effects = NO_EFFECTS,
) -> bool:
    """The outcome of the holder's attempt: the record, its timeline entry (if any) and its `effects`, in one
    transaction. False if the claim was lost (its lease ran out and another delivery took it): that one
    writes the outcome."""
    names = {"#actions": "actions", "#key": key}
    values: dict[str, Any] = {":record": to_value(dict(record)), ":holder": {"S": record["holder"]}}
    assignments = ["#actions.#key = :record"]
    if entry is not None:
        assignments.append("timeline = list_append(timeline, :entry)")
        values[":entry"] = to_value([dict(entry)])
    if effects.attention is not None:
        assignments.append("attention = :attention")
        values[":attention"] = {"S": effects.attention}
    items: list[TransactItem] = [
        {
            "Update": {
                "TableName": settings().orders_table,
                "Key": order_key(order_id),
                "UpdateExpression": "SET "
                + ", ".join(assignments)
                + (" REMOVE attention" if effects.clear_attention else ""),
                "ConditionExpression": "#actions.#key.holder = :holder",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }
    ]
    if effects.task is not None:
        items.append(open_task(dict(effects.task)))
    if effects.settles is not None:
        items.append(close_task(effects.settles, record["updated_at"]))
    reasons = transact(aws.dynamodb(), items)
    if reasons is None:
        return True
    if len(reasons) > 1 and reasons[0].code != CONDITION_FAILED and reasons[1].code == CONDITION_FAILED:
        # The task is open already (an earlier attempt's transaction was retried), or the one to close is
        # gone: write the rest.
        return finish(order_id, key, record, entry, replace(effects, task=None, settles=None))
    return False
