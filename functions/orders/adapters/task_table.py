"""Operator tasks in DynamoDB (the tasks table): the items the order transactions write, and the list.

A task is written only inside an order's transaction (the shortage task opens with the order it is
about and closes with the write that reserves its last missing units), so the two never disagree.
"""

from __future__ import annotations

from typing import Any

from common import aws
from common.config import settings
from common.dynamo import TransactItem, to_item, to_value, update_if
from orders.adapters.listing import IndexPartition, Page, newest_first, oldest_first


def open_task(task: dict[str, Any]) -> TransactItem:
    return {
        "Put": {
            "TableName": settings().tasks_table,
            "Item": to_item(task),
            "ConditionExpression": "attribute_not_exists(task_id)",
        }
    }


def set_shortages(task_id: str, shortages: list[dict[str, Any]], now: str) -> TransactItem:
    return {
        "Update": {
            "TableName": settings().tasks_table,
            "Key": {"task_id": {"S": task_id}},
            "UpdateExpression": "SET shortages = :shortages, updated_at = :now",
            "ConditionExpression": "attribute_exists(task_id)",
            "ExpressionAttributeValues": {":shortages": to_value(shortages), ":now": {"S": now}},
        }
    }


def close_task(task_id: str, now: str) -> TransactItem:
    return {
        "Update": {
            "TableName": settings().tasks_table,
            "Key": {"task_id": {"S": task_id}},
            "UpdateExpression": "SET #state = :state, updated_at = :now",
            "ConditionExpression": "attribute_exists(task_id)",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {":state": {"S": "closed"}, ":now": {"S": now}},
        }
    }


def close(task_id: str, now: str) -> bool:
    """Close the task outside a transaction (a store's task of a cancelled order); False if there is none."""
    return update_if(aws.dynamodb(), **close_task(task_id, now)["Update"]) is None


def keep_open(task_id: str, kind: str, fields: dict[str, Any], now: str) -> None:
    """Open the task, or update the open one: one task per subject kept current (e.g. a channel's items a
    partner refuses), created with its first write and reopened if an operator had closed it."""
    names = {f"#f{n}": name for n, name in enumerate(fields)}
    values = {f":f{n}": to_value(value) for n, value in enumerate(fields.values())}
    aws.dynamodb().update_item(
        TableName=settings().tasks_table,
        Key={"task_id": {"S": task_id}},
        UpdateExpression="SET "
        + ", ".join(f"#f{n} = :f{n}" for n in range(len(fields)))
        + ", kind = :kind, #state = :open, updated_at = :now, created_at = if_not_exists(created_at, :now),"
        " created_key = if_not_exists(created_key, :key)",
        ExpressionAttributeNames={**names, "#state": "state"},
        ExpressionAttributeValues={
            **values,
            ":kind": {"S": kind},
            ":open": {"S": "open"},
            ":now": {"S": now},
            ":key": {"S": f"{now}#{task_id}"},
        },
    )


def list_tasks(state: str, limit: int, cursor: str | None) -> Page:
    """Newest first; the index projects whole tasks, so a page is one Query."""
    return newest_first(_in_state(state), limit, cursor)


def task_queue(state: str, limit: int, cursor: str | None) -> Page:
    """Oldest first, as operators work them; one Query a page."""
    return oldest_first(_in_state(state), limit, cursor)


def _in_state(state: str) -> IndexPartition:
    return IndexPartition(settings().tasks_table, "task_id", "ByState", "state", state)
