"""Orders in DynamoDB (the orders table): reads, the list, and every write of an order, named by intent.

The writes that move stock are also built here, as transaction items (`*_item`), and composed with
the ledger's items by `order_stock`; the rest are single conditional updates. Use cases never name
attributes: each intent knows which fields it sets and which it clears.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from common import aws
from common.config import settings
from common.dynamo import TransactItem, batch_get, count_all, from_item, to_item, to_value, update_if
from orders.adapters.listing import IndexPartition, Page, newest_first, oldest_first
from orders.domain.fulfilment import ShortPick
from orders.domain.records import ENTRY_CLEARS, status_fields

# Entering a status ends whatever the previous one was doing: an event being applied, a flag for people.
_LEFT_BEHIND = ("pending_event", "attention")


@dataclass(frozen=True)
class StatusMove:
    """The order entering `status` from one of `expect`; `entry` is its timeline entry."""

    order_id: str
    channel: str
    workflow: str
    status: str
    expect: Sequence[str]
    entry: dict[str, Any]
    now: str


@dataclass(frozen=True)
class _Update:
    """A conditional update of an order still in one of `expect` statuses."""

    expect: Sequence[str]
    fields: Mapping[str, Any]  # a dotted name is a field of a map attribute (`payment.link_url`)
    entry: dict[str, Any] | None = None
    remove: Sequence[str] = ()
    unchanged_since: str | None = None  # optimistic lock: as read, and no event being applied
    read_at: str | None = None  # optimistic lock: as read


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}}


def get_order(order_id: str) -> dict[str, Any] | None:
    answer = aws.dynamodb().get_item(TableName=settings().orders_table, Key=order_key(order_id), ConsistentRead=True)
    return from_item(answer["Item"]) if "Item" in answer else None


# ------------------------------------------------------------------ items of the order transactions


def new_order_item(order: dict[str, Any]) -> TransactItem:
    """The order, once: a duplicate fails with the existing order as its cancellation reason."""
    return {
        "Put": {
            "TableName": settings().orders_table,
            "Item": to_item({"pk": f"ORDER#{order['order_id']}", **order}),
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def consumed_item(move: StatusMove, task_token: str | None) -> TransactItem:
    """Into a status whose units left: a waiting status stores its task token, any other drops the old one."""
    token = {"task_token": task_token} if task_token else {}
    remove = _LEFT_BEHIND if task_token else ("task_token", *_LEFT_BEHIND)
    return _update_item(move.order_id, _moved(move, token, remove))


def released_item(move: StatusMove) -> TransactItem:
    """Into a status that gave the units back: the lifecycle waits no more, and its last error is history."""
    return _update_item(move.order_id, _moved(move, {}, ("task_token", *_LEFT_BEHIND, "last_error")))


def reserved_more_item(
    move: StatusMove, allocations: list[dict[str, Any]], shortages: list[dict[str, Any]], promise: dict[str, Any] | None
) -> TransactItem:
    """An order on hold with more units reserved: its allocations, what it still misses and its promise."""
    fields = {"allocations": allocations, "shortages": shortages, "promise": promise}
    return _update_item(move.order_id, _moved(move, fields, ()))


@dataclass(frozen=True)
class Substituted:
    """An order on hold after an operator's substitution, as the use case computed it."""

    order_id: str
    seen_at: str  # the order's updated_at when it was read
    lines: list[dict[str, Any]]
    total: Decimal
    allocations: list[dict[str, Any]]
    shortages: list[dict[str, Any]]
    substitution_key: str  # a repeat of the same substitution changes nothing
    entry: dict[str, Any]
    now: str


def substituted_item(change: Substituted) -> TransactItem:
    fields = {
        "lines": change.lines,
        "updated_at": change.now,
        "total": change.total,
        "allocations": change.allocations,
        "shortages": change.shortages,
        "last_substitution": change.substitution_key,
    }
    update = _Update(expect=["on_hold"], fields=fields, entry=change.entry, unchanged_since=change.seen_at)
    return _update_item(change.order_id, update)


def short_picked_item(order: dict[str, Any], plan: ShortPick, entry: dict[str, Any], now: str) -> TransactItem:
    """The order's lines, allocations and total without the units written off; as read, in its status."""
    fields = {"lines": plan.lines, "allocations": plan.allocations, "total": plan.total, "updated_at": now}
    update = _Update(expect=[order["status"]], fields=fields, entry=entry, read_at=order["updated_at"])
    return _update_item(order["order_id"], update)


def returned_item(order_id: str, record: dict[str, Any], entry: dict[str, Any], read_at: str, now: str) -> TransactItem:
    """The return appended to the order (as read)."""
    return {
        "Update": {
            "TableName": settings().orders_table,
            "Key": order_key(order_id),
            "UpdateExpression": (
                "SET #returns = list_append(if_not_exists(#returns, :none), :record), "
                "timeline = list_append(timeline, :entry), updated_at = :now"
            ),
            "ConditionExpression": "updated_at = :read",
            "ExpressionAttributeNames": {"#returns": "returns"},
            "ExpressionAttributeValues": {
                ":none": {"L": []},
                ":record": to_value([record]),
                ":entry": to_value([entry]),
                ":now": {"S": now},
                ":read": {"S": read_at},
            },
        }
    }


# ------------------------------------------------------------------ single writes


def _updated_if(order_id: str, **request: Any) -> bool:
    """One conditional UpdateItem of the order; False when its condition failed."""
    return update_if(aws.dynamodb(), TableName=settings().orders_table, Key=order_key(order_id), **request) is None


def record_payment_link(move: StatusMove, task_token: str, link_url: str, payment_id: str) -> bool:
    """Into the status that waits for the payment through a new link; False if the order left the expected
    statuses (a retried step that already ran)."""
    fields = {"task_token": task_token, "payment.link_url": link_url, "payment.payment_id": payment_id}
    change = _update_item(move.order_id, _moved(move, fields, _LEFT_BEHIND))["Update"]
    return update_if(aws.dynamodb(), **change) is None


def record_payment(order_id: str, payment_id: str, now: str) -> bool:
    """Mark the order paid; False if it already was (a repeated or concurrent callback)."""
    return _updated_if(
        order_id,
        UpdateExpression=(
            "SET payment.#st = :paid, payment.payment_id = :id, payment.paid_at = :now, updated_at = :now"
        ),
        ConditionExpression="attribute_exists(pk) AND NOT payment.#st = :paid",
        ExpressionAttributeNames={"#st": "status"},
        ExpressionAttributeValues={":paid": {"S": "paid"}, ":id": {"S": payment_id}, ":now": {"S": now}},
    )


def record_refund(order_id: str, refund_id: str, now: str) -> None:
    aws.dynamodb().update_item(
        TableName=settings().orders_table,
        Key=order_key(order_id),
        UpdateExpression="SET payment.refund_id = :refund, updated_at = :now",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":refund": {"S": refund_id}, ":now": {"S": now}},
    )


def set_task_token(order_id: str, token: str, status: str) -> None:
    aws.dynamodb().update_item(
        TableName=settings().orders_table,
        Key=order_key(order_id),
        UpdateExpression="SET task_token = :token REMOVE pending_event",
        ConditionExpression="#status = :status",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":token": {"S": token}, ":status": {"S": status}},
    )


def set_ship_by(order_id: str, ship_by: str, timeline_entry: dict[str, Any]) -> bool:
    """Move the order's SLA deadline (a marketplace moved its ship-by), due for the SLA monitor to re-plan at its
    next run (an order off its index, with no sla_lane, stays off); False if the order does not exist."""
    return _updated_if(
        order_id,
        UpdateExpression=(
            "SET ship_by = :ship_by, timeline = list_append(timeline, :entry), updated_at = :at, sla_next_at = :at"
        ),
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={
            ":ship_by": {"S": ship_by},
            ":entry": {"L": [to_value(timeline_entry)]},
            ":at": {"S": timeline_entry["at"]},
        },
    )


def claim_token(order_id: str, token: str, status: str, event: str) -> bool:
    """Take the order's task token for one event; exactly one of concurrent claimants wins."""
    return _updated_if(
        order_id,
        UpdateExpression="SET pending_event = :event REMOVE task_token",
        ConditionExpression="task_token = :token AND #status = :status",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":event": {"S": event}, ":token": {"S": token}, ":status": {"S": status}},
    )


def return_token(order_id: str, token: str, status: str) -> None:
    """Undo a claim whose SendTaskSuccess did not go through, so the next event can use the token.

    If the condition fails, the lifecycle has moved on by itself and there is nothing to undo."""
    _updated_if(
        order_id,
        UpdateExpression="SET task_token = :token REMOVE pending_event",
        ConditionExpression="attribute_not_exists(task_token) AND #status = :status",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":token": {"S": token}, ":status": {"S": status}},
    )


# ------------------------------------------------------------------ the list

_INDEXES = {  # (status given, channel given) -> index and its partition attribute
    (False, False): ("ByCreated", "entity"),
    (True, False): ("ByStatus", "status"),
    (False, True): ("ByChannel", "channel"),
    (True, True): ("ByChannelStatus", "channel_status"),
}


def list_orders(
    status: str | None, channel: str | None, limit: int, cursor: str | None, *, oldest: bool = False
) -> Page:
    """Newest first (`oldest`: a queue, oldest first). One Query on the matching KEYS_ONLY index, one
    BatchGetItem for the current items."""
    index, attribute = _INDEXES[(status is not None, channel is not None)]
    partition = {"entity": "order", "status": status, "channel": channel, "channel_status": f"{channel}#{status}"}[
        attribute
    ]
    table = settings().orders_table
    page = (oldest_first if oldest else newest_first)(
        IndexPartition(table, "pk", index, attribute, str(partition)), limit, cursor
    )
    keys = [{"pk": item["pk"]} for item in page.items]
    by_pk = {row["pk"]: row for row in batch_get(aws.dynamodb(), table, keys)}
    # The index is eventually consistent: drop orders that have moved out of the filter since.
    rows = [by_pk[k["pk"]] for k in keys if k["pk"] in by_pk and (status is None or by_pk[k["pk"]]["status"] == status)]
    return Page(rows, page.next_cursor)


def current_orders(order_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The orders' current items by id (BatchGetItem); an id with no order is left out."""
    keys = [{"pk": f"ORDER#{order_id}"} for order_id in dict.fromkeys(order_ids)]
    return {row["order_id"]: row for row in batch_get(aws.dynamodb(), settings().orders_table, keys)}


def count_orders(status: str, channel: str) -> int:
    """How many orders of the channel are in the status: COUNT Queries of one ByChannelStatus partition (keys
    only, nothing returned), so a dashboard counts open work without reading an order."""
    request = {
        "TableName": settings().orders_table,
        "IndexName": "ByChannelStatus",
        "KeyConditionExpression": "channel_status = :p",
        "ExpressionAttributeValues": {":p": {"S": f"{channel}#{status}"}},
    }
    return count_all(aws.dynamodb(), request)


# ------------------------------------------------------------------ building updates


def _moved(move: StatusMove, fields: Mapping[str, Any], remove: Sequence[str]) -> _Update:
    """The move's own fields with its status entry's (none when it stays in its status: an order still on
    hold with more units reserved is in the same entry, whose SLA clock runs on)."""
    cleared: Sequence[str] = ()
    if move.status in move.expect:
        entered = {"updated_at": move.now}
    else:
        entered, cleared = status_fields(move.channel, move.workflow, move.status, move.now), ENTRY_CLEARS
    return _Update(expect=move.expect, fields={**entered, **fields}, entry=move.entry, remove=(*remove, *cleared))


def _update_item(order_id: str, update: _Update) -> TransactItem:
    names = {"#status": "status"}
    values: dict[str, Any] = {}
    assignments = []
    for i, (name, value) in enumerate(update.fields.items()):
        path = []
        for j, part in enumerate(name.split(".")):
            names[f"#f{i}_{j}"] = part
            path.append(f"#f{i}_{j}")
        values[f":f{i}"] = to_value(value)
        assignments.append(f"{'.'.join(path)} = :f{i}")
    if update.entry:
        values[":entry"] = to_value([update.entry])
        assignments.append("timeline = list_append(timeline, :entry)")
    expected = []
    for i, status in enumerate(update.expect):
        values[f":expect{i}"] = {"S": status}
        expected.append(f":expect{i}")
    remove = " REMOVE " + ", ".join(update.remove) if update.remove else ""
    condition = f"#status IN ({', '.join(expected)})"
    if update.unchanged_since is not None:
        names["#updated"] = "updated_at"
        values[":seen"] = {"S": update.unchanged_since}
        condition += " AND #updated = :seen AND attribute_not_exists(pending_event)"
    if update.read_at is not None:
        values[":read"] = {"S": update.read_at}
        condition += " AND updated_at = :read"
    return {
        "Update": {
            "TableName": settings().orders_table,
            "Key": order_key(order_id),
            "UpdateExpression": "SET " + ", ".join(assignments) + remove,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }
