"""The SLA monitor's side of the orders table: the BySlaCheck index (orders due for a look), and the
conditional writes that make each look and each tier happen once however many runs overlap.

An order is on the index while it has `sla_lane` (its workflow) and `sla_next_at` (when to look again); every
status entry sets `sla_next_at` to its own time. A run claims a due order by moving `sla_next_at` to a lease (a
compare-and-set on the value it read): a run that overlaps loses the claim and leaves the order alone, a run
that dies leaves it due again when the lease ends. `sla_fired` (cleared by every status entry) holds the tiers
and checks done for the current entry, `sla_tasks` the operator tasks opened for it and `sla_unsent` the tiers
whose notification is still to be sent (`<entered_at>#<tier>`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence, Set
from typing import Any

from common import aws
from common.config import settings
from common.dynamo import batch_get, query_all, to_value, update_if
from orders.adapters.order_table import order_key

INDEX = "BySlaCheck"


def due_keys(lane: str, now: str) -> list[tuple[str, str]]:
    """(sla_next_at, pk) of the orders of the workflow `lane` whose next look is due: one Query of the sparse
    index (keys only), so a run reads what is due and nothing else."""
    request = {
        "TableName": settings().orders_table,
        "IndexName": INDEX,
        "KeyConditionExpression": "sla_lane = :lane AND sla_next_at <= :now",
        "ExpressionAttributeValues": {":lane": {"S": lane}, ":now": {"S": now}},
    }
    return [(item["sla_next_at"]["S"], item["pk"]["S"]) for item in query_all(aws.dynamodb(), request)]


def due_orders(keys: Sequence[str], now: str) -> Iterator[dict[str, Any]]:
    """The orders of `keys` (pk values, in their order), read 100 at a time as the caller goes. An order
    another run has claimed or re-planned since the index was written (it is eventually consistent) is
    left out."""
    table = settings().orders_table
    for start in range(0, len(keys), 100):
        part = [{"pk": key} for key in keys[start : start + 100]]
        found = {order["pk"]: order for order in batch_get(aws.dynamodb(), table, part, consistent=True)}
        for key in keys[start : start + 100]:
            order = found.get(key)
            if order is not None and order.get("sla_lane") and order.get("sla_next_at", "~") <= now:
                yield order


def claim(order_id: str, read_next_at: str, lease_until: str) -> bool:
    """Take the order for this run until `lease_until`; False if another run or a status entry got there first."""
    return _updated(
        order_id,
        UpdateExpression="SET sla_next_at = :lease",
        ConditionExpression="sla_next_at = :read",
        ExpressionAttributeValues={":lease": {"S": lease_until}, ":read": {"S": read_next_at}},
    )


def release(order_id: str, lease_until: str, next_at: str) -> None:
    """Give a claimed order back as it was (its look failed), unless it has been moved on meanwhile."""
    _updated(
        order_id,
        UpdateExpression="SET sla_next_at = :next",
        ConditionExpression="sla_next_at = :lease",
        ExpressionAttributeValues={":next": {"S": next_at}, ":lease": {"S": lease_until}},
    )


def fire(
    order_id: str,
    entered_at: str,
    check: str,
    *,
    task_id: str | None = None,
    unsent: str | None = None,
    attention: str | None = None,
) -> bool:
    """Record `check` done for the entry `entered_at`, with the task it opens, the notification it owes and the
    order's `attention`; False when it was done already or the order has entered another status since."""
    adds = ["sla_fired :check"]
    values: dict[str, Any] = {":check": {"SS": [check]}, ":seen": {"S": entered_at}, ":name": {"S": check}}
    if task_id is not None:
        adds.append("sla_tasks :task")
        values[":task"] = {"SS": [task_id]}
    if unsent is not None:
        adds.append("sla_unsent :unsent")
        values[":unsent"] = {"SS": [unsent]}
    expression = "ADD " + ", ".join(adds)
    if attention is not None:
        expression = "SET attention = :attention " + expression
        values[":attention"] = {"S": attention}
    return _updated(
        order_id,
        UpdateExpression=expression,
        ConditionExpression="status_since = :seen AND NOT contains(sla_fired, :name)",
        ExpressionAttributeValues=values,
    )


def settle(
    order_id: str,
    lease_until: str,
    planned: Mapping[str, Any],
    next_at: str | None,
    *,
    leave_index: bool,
    forget: Mapping[str, Set[str]],
) -> bool:
    """End the run's claim: the entry as planned (`sla`), the next look (None: none; `leave_index`: off the
    index altogether, a terminal status), and the `sla_tasks` / `sla_unsent` marks to `forget` (closed, sent).
    False if the order entered a status or had its ship-by moved meanwhile: it is due again for the next run."""
    values: dict[str, Any] = {":planned": to_value(dict(planned)), ":lease": {"S": lease_until}}
    sets = ["sla = :planned"]
    removes = []
    if next_at is not None:
        sets.append("sla_next_at = :next")
        values[":next"] = {"S": next_at}
    else:
        removes = ["sla_next_at", *(["sla_lane"] if leave_index else [])]
    deletes = []
    for n, (attribute, marks) in enumerate(sorted(forget.items())):
        if marks:
            deletes.append(f"{attribute} :forget{n}")
            values[f":forget{n}"] = {"SS": sorted(marks)}
    expression = "SET " + ", ".join(sets)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    if deletes:
        expression += " DELETE " + ", ".join(deletes)
    return _updated(
        order_id,
        UpdateExpression=expression,
        ConditionExpression="sla_next_at = :lease",
        ExpressionAttributeValues=values,
    )


def _updated(order_id: str, **request: Any) -> bool:
    return update_if(aws.dynamodb(), TableName=settings().orders_table, Key=order_key(order_id), **request) is None
