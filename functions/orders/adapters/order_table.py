"""Orders, their reservations and operator tasks in DynamoDB.

Every change of stock is written in the same TransactWriteItems as the order change that causes it,
so an order and its reservations can never disagree, and a lost race changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from common import aws, secrets
from common.config import settings
from common.dynamo import CancellationReason, batch_get, cancellation_reasons, from_item, to_item, to_value, update_if
from common.errors import Unprocessable
from orders.domain.models import Allocation
from orders.domain.substitution import StockChange

CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_LIMIT = 100  # items in one TransactWriteItems


class DuplicateOrder(Exception):
    def __init__(self, existing: dict[str, Any]) -> None:
        super().__init__(existing["order_id"])
        self.existing = existing


class StockMoved(Exception):
    """A reservation's condition failed or a concurrent transaction touched the same items: read again."""


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}}


def get_order(order_id: str) -> dict[str, Any] | None:
    answer = aws.dynamodb().get_item(TableName=settings().orders_table, Key=order_key(order_id), ConsistentRead=True)
    return from_item(answer["Item"]) if "Item" in answer else None


# ------------------------------------------------------------------ transactions


def _reserve(order_id: str, allocation: Allocation, now: str, expires_at: str | None) -> list[dict[str, Any]]:
    """Take units from a location's free stock and record (or grow) the order's reservation there.

    A hold that expires carries `expires_at` and `expiry_day` (its UTC date): the sparse ByExpiry index
    the sweeper reads holds only these, until the reservation is closed."""
    values = {
        ":sku": {"S": allocation.sku},
        ":loc": {"S": allocation.location_id},
        ":held": {"S": "held"},
        ":qty": {"N": str(allocation.qty)},
        ":now": {"S": now},
        ":released": {"S": "released"},
        ":zero": {"N": "0"},
    }
    expiry = ""
    if expires_at is not None:
        expiry = ", expires_at = :expires_at, expiry_day = :expiry_day"
        values.update({":expires_at": {"S": expires_at}, ":expiry_day": {"S": expires_at[:10]}})
    return [
        {
            "Update": {
                "TableName": settings().stock_table,
                "Key": {"sku": {"S": allocation.sku}, "location_id": {"S": allocation.location_id}},
                "UpdateExpression": "SET available = available - :qty, reserved = reserved + :qty, updated_at = :now",
                "ConditionExpression": "available >= :qty",
                "ExpressionAttributeValues": {":qty": {"N": str(allocation.qty)}, ":now": {"S": now}},
            }
        },
        {
            "Update": {
                "TableName": settings().reservations_table,
                "Key": {
                    "order_id": {"S": order_id},
                    "reservation_key": {"S": f"{allocation.sku}#{allocation.location_id}"},
                },
                "UpdateExpression": (
                    "SET sku = :sku, location_id = :loc, #state = :held, "
                    f"created_at = if_not_exists(created_at, :now), updated_at = :now{expiry} "
                    "ADD qty :qty"
                ),
                # A row a substitution emptied (released, 0 units) may hold units again.
                "ConditionExpression": (
                    "attribute_not_exists(order_id) OR #state = :held OR (#state = :released AND qty = :zero)"
                ),
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": values,
            }
        },
    ]


def _unreserve(order_id: str, sku: str, location_id: str, qty: int, emptied: bool, now: str) -> list[dict[str, Any]]:
    """Give `qty` held units back to free stock; a row left with none is released (and may be re-held)."""
    values = {":qty": {"N": str(qty)}, ":neg": {"N": str(-qty)}, ":held": {"S": "held"}, ":now": {"S": now}}
    if emptied:
        values[":released"] = {"S": "released"}
    return [
        {
            "Update": {
                "TableName": settings().reservations_table,
                "Key": {"order_id": {"S": order_id}, "reservation_key": {"S": f"{sku}#{location_id}"}},
                # An emptied row leaves the sweeper's sparse ByExpiry index with its expiry_day.
                "UpdateExpression": (
                    "SET updated_at = :now"
                    + (", #state = :released" if emptied else "")
                    + " ADD qty :neg"
                    + (" REMOVE expiry_day" if emptied else "")
                ),
                "ConditionExpression": "#state = :held AND qty >= :qty",
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": values,
            }
        },
        {
            "Update": {
                "TableName": settings().stock_table,
                "Key": {"sku": {"S": sku}, "location_id": {"S": location_id}},
                "UpdateExpression": "SET available = available + :qty, reserved = reserved - :qty, updated_at = :now",
                "ConditionExpression": "reserved >= :qty",
                "ExpressionAttributeValues": {":qty": {"N": str(qty)}, ":now": {"S": now}},
            }
        },
    ]


def _finish(order_id: str, reservation: dict[str, Any], state: str, now: str) -> list[dict[str, Any]]:
    """Close a held reservation: `released` gives the units back, `consumed` takes them out of on-hand."""
    qty = {"N": str(reservation["qty"])}
    stock_update = (
        "SET available = available + :qty, reserved = reserved - :qty, updated_at = :now"
        if state == "released"
        else "SET on_hand = on_hand - :qty, reserved = reserved - :qty, updated_at = :now"
    )
    return [
        {
            "Update": {
                "TableName": settings().reservations_table,
                "Key": {"order_id": {"S": order_id}, "reservation_key": {"S": reservation["reservation_key"]}},
                "UpdateExpression": "SET #state = :state, updated_at = :now REMOVE expiry_day",
                "ConditionExpression": "#state = :held",
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": {":state": {"S": state}, ":held": {"S": "held"}, ":now": {"S": now}},
            }
        },
        {
            "Update": {
                "TableName": settings().stock_table,
                "Key": {"sku": {"S": reservation["sku"]}, "location_id": {"S": reservation["location_id"]}},
                "UpdateExpression": stock_update,
                "ConditionExpression": "reserved >= :qty",
                "ExpressionAttributeValues": {":qty": qty, ":now": {"S": now}},
            }
        },
    ]


def _put_task(task: dict[str, Any]) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": settings().tasks_table,
            "Item": to_item(task),
            "ConditionExpression": "attribute_not_exists(task_id)",
        }
    }


def _set_task_shortages(task_id: str, shortages: list[dict[str, Any]], now: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": settings().tasks_table,
            "Key": {"task_id": {"S": task_id}},
            "UpdateExpression": "SET shortages = :shortages, updated_at = :now",
            "ConditionExpression": "attribute_exists(task_id)",
            "ExpressionAttributeValues": {":shortages": to_value(shortages), ":now": {"S": now}},
        }
    }


def _set_task_state(task_id: str, state: str, now: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": settings().tasks_table,
            "Key": {"task_id": {"S": task_id}},
            "UpdateExpression": "SET #state = :state, updated_at = :now",
            "ConditionExpression": "attribute_exists(task_id)",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {":state": {"S": state}, ":now": {"S": now}},
        }
    }


def _transact(items: Sequence[dict[str, Any]]) -> list[CancellationReason] | None:
    """Run the transaction; None when it committed, else why each item was cancelled (request order)."""
    try:
        aws.dynamodb().transact_write_items(TransactItems=list(items))
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        return cancellation_reasons(error)
    return None


def create_order(
    order: dict[str, Any], allocations: Sequence[Allocation], task: dict[str, Any] | None, now: str
) -> None:
    """Create the order, its reservations and (when short) its operator task, all or nothing."""
    items: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": settings().orders_table,
                "Item": to_item({"pk": f"ORDER#{order['order_id']}", **order}),
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
    ]
    for allocation in allocations:
        items.extend(_reserve(order["order_id"], allocation, now, order.get("hold_expires_at")))
    if task:
        items.append(_put_task(task))
    reasons = _transact(items)
    if reasons is None:
        return
    if reasons and reasons[0].code == CONDITION_FAILED and reasons[0].item:
        raise DuplicateOrder(reasons[0].item)
    raise StockMoved()


def _order_update(
    order_id: str,
    *,
    expect: Sequence[str],
    set_fields: dict[str, Any],
    timeline_entry: dict[str, Any] | None = None,
    remove: Sequence[str] = (),
    unchanged_since: str | None = None,
) -> dict[str, Any]:
    names = {"#status": "status"}
    values: dict[str, Any] = {}
    assignments = []
    for i, (field, value) in enumerate(set_fields.items()):
        path = []
        for j, part in enumerate(field.split(".")):  # `payment.link_url`: a field of a map attribute
            names[f"#f{i}_{j}"] = part
            path.append(f"#f{i}_{j}")
        values[f":f{i}"] = to_value(value)
        assignments.append(f"{'.'.join(path)} = :f{i}")
    if timeline_entry:
        values[":entry"] = to_value([timeline_entry])
        assignments.append("timeline = list_append(timeline, :entry)")
    expected = []
    for i, status in enumerate(expect):
        values[f":expect{i}"] = {"S": status}
        expected.append(f":expect{i}")
    expression = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(remove) if remove else "")
    condition = f"#status IN ({', '.join(expected)})"
    if unchanged_since is not None:  # optimistic lock: the order as read, with no event being applied
        names["#updated"] = "updated_at"
        values[":seen"] = {"S": unchanged_since}
        condition += " AND #updated = :seen AND attribute_not_exists(pending_event)"
    return {
        "Update": {
            "TableName": settings().orders_table,
            "Key": order_key(order_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def update_order(
    order_id: str,
    *,
    expect: Sequence[str],
    set_fields: dict[str, Any],
    timeline_entry: dict[str, Any] | None = None,
    remove: Sequence[str] = (),
) -> bool:
    """One conditional update of the order; False when it is no longer in an expected status."""
    change = _order_update(
        order_id, expect=expect, set_fields=set_fields, timeline_entry=timeline_entry, remove=remove
    )["Update"]
    return update_if(aws.dynamodb(), **change) is None


def record_return(order_id: str, record: dict[str, Any], entry: dict[str, Any], read_at: str, now: str) -> None:
    """Append the return and put its units back on hand, all or nothing; conditional on the order not
    having changed since it was read (StockMoved: read again and re-check)."""
    items: list[dict[str, Any]] = [
        {
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
    ]
    for line in record["lines"]:
        items.append(
            {
                "Update": {
                    "TableName": settings().stock_table,
                    "Key": {"sku": {"S": line["sku"]}, "location_id": {"S": record["location_id"]}},
                    "UpdateExpression": (
                        "SET on_hand = if_not_exists(on_hand, :zero) + :qty, "
                        "available = if_not_exists(available, :zero) + :qty, "
                        "reserved = if_not_exists(reserved, :zero), updated_at = :now"
                    ),
                    "ExpressionAttributeValues": {
                        ":zero": {"N": "0"},
                        ":qty": {"N": str(line["qty"])},
                        ":now": {"S": now},
                    },
                }
            }
        )
    if _transact(items) is not None:
        raise StockMoved()


def write_off(
    order_id: str,
    location_id: str,
    units: dict[str, int],
    allocations: Sequence[dict[str, Any]],
    *,
    set_fields: dict[str, Any],
    entry: dict[str, Any],
    status: str,
    read_at: str,
    now: str,
) -> None:
    """Units reserved at `location_id` that are not there: out of the reservation and out of on-hand, with
    the order's change, all or nothing; conditional on the order not having changed since it was read."""
    change = _order_update(order_id, expect=[status], set_fields=set_fields, timeline_entry=entry)["Update"]
    change["ConditionExpression"] += " AND updated_at = :read"
    change["ExpressionAttributeValues"][":read"] = {"S": read_at}
    items: list[dict[str, Any]] = [{"Update": change}]
    for allocation in allocations:  # an order's allocations are its held reservations (same key, same qty)
        sku = allocation["sku"]
        if allocation["location_id"] != location_id or sku not in units:
            continue
        qty = {"N": str(units[sku])}
        whole = units[sku] == allocation["qty"]
        items.append(
            {
                "Update": {
                    "TableName": settings().reservations_table,
                    "Key": {"order_id": {"S": order_id}, "reservation_key": {"S": f"{sku}#{location_id}"}},
                    "UpdateExpression": "SET qty = qty - :qty, updated_at = :now"
                    + (", #state = :released" if whole else ""),
                    "ConditionExpression": "#state = :held AND qty >= :qty",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": {
                        ":qty": qty,
                        ":now": {"S": now},
                        ":held": {"S": "held"},
                        **({":released": {"S": "released"}} if whole else {}),
                    },
                }
            }
        )
        items.append(
            {
                "Update": {
                    "TableName": settings().stock_table,
                    "Key": {"sku": {"S": sku}, "location_id": {"S": location_id}},
                    "UpdateExpression": "SET on_hand = on_hand - :qty, reserved = reserved - :qty, updated_at = :now",
                    "ConditionExpression": "reserved >= :qty AND on_hand >= :qty",
                    "ExpressionAttributeValues": {":qty": qty, ":now": {"S": now}},
                }
            }
        )
    if _transact(items) is not None:
        raise StockMoved()


def record_payment(order_id: str, payment_id: str, now: str) -> bool:
    """Mark the order paid; False if it already was (a repeated or concurrent callback)."""
    return (
        update_if(
            aws.dynamodb(),
            TableName=settings().orders_table,
            Key=order_key(order_id),
            UpdateExpression="SET payment.#st = :paid, payment.payment_id = :id, payment.paid_at = :now, updated_at = :now",
            ConditionExpression="attribute_exists(pk) AND NOT payment.#st = :paid",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={":paid": {"S": "paid"}, ":id": {"S": payment_id}, ":now": {"S": now}},
        )
        is None
    )


def record_refund(order_id: str, refund_id: str, now: str) -> None:
    aws.dynamodb().update_item(
        TableName=settings().orders_table,
        Key=order_key(order_id),
        UpdateExpression="SET payment.refund_id = :refund, updated_at = :now",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":refund": {"S": refund_id}, ":now": {"S": now}},
    )


def held_reservations(order_id: str) -> list[dict[str, Any]]:
    answer = aws.dynamodb().query(
        TableName=settings().reservations_table,
        KeyConditionExpression="order_id = :id",
        FilterExpression="#state = :held",
        ConsistentRead=True,
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues={":id": {"S": order_id}, ":held": {"S": "held"}},
    )
    return [from_item(item) for item in answer["Items"]]


def finish_reservations(
    order_id: str,
    state: str,
    *,
    expect: Sequence[str],
    set_fields: dict[str, Any],
    timeline_entry: dict[str, Any],
    remove: Sequence[str] = (),
    close_task: str | None = None,
    now: str,
) -> bool:
    """Move the order and close every held reservation (released or consumed).

    An order whose reservations were split over many locations can hold more than one transaction
    takes (100 items): the reservations are then closed in chunks, each one conditional on the
    rows still being held, and the last chunk carries the order's change. A retry after a chunk
    picks up the rows still held. False when the order is no longer in an expected status (a
    retried step that already ran).
    """
    order_change = _order_update(
        order_id, expect=expect, set_fields=set_fields, timeline_entry=timeline_entry, remove=remove
    )
    reservations = held_reservations(order_id)
    room = TRANSACTION_LIMIT - 1 - (1 if close_task else 0)
    while len(reservations) * 2 > room:
        chunk, reservations = reservations[: room // 2], reservations[room // 2 :]
        if _transact([item for r in chunk for item in _finish(order_id, r, state, now)]) is not None:
            raise StockMoved()
    items = [order_change, *(item for r in reservations for item in _finish(order_id, r, state, now))]
    if close_task:
        items.append(_set_task_state(close_task, "closed", now))
    return _committed(_transact(items))


def add_reservations(
    order_id: str,
    allocations: Sequence[Allocation],
    *,
    expect: str,
    set_fields: dict[str, Any],
    timeline_entry: dict[str, Any],
    close_task: str | None,
    expires_at: str | None,
    now: str,
) -> bool:
    """Reserve more units for an order on hold; False when the order left that status meanwhile."""
    items = [_order_update(order_id, expect=[expect], set_fields=set_fields, timeline_entry=timeline_entry)]
    for allocation in allocations:
        items.extend(_reserve(order_id, allocation, now, expires_at))
    if close_task:
        items.append(_set_task_state(close_task, "closed", now))
    return _committed(_transact(items))


def change_reservations(
    order_id: str,
    changes: Sequence[StockChange],
    *,
    seen_at: str,
    set_fields: dict[str, Any],
    timeline_entry: dict[str, Any],
    task_id: str,
    shortages: list[dict[str, Any]],
    expires_at: str | None,
    now: str,
) -> bool:
    """Edit an order on hold and its reservations at once (a substitution). The order must be as it was
    read (`seen_at`); False when it changed meanwhile. The task is closed when nothing is missing."""
    items = [
        _order_update(
            order_id, expect=["on_hold"], set_fields=set_fields, timeline_entry=timeline_entry, unchanged_since=seen_at
        )
    ]
    for change in changes:
        if change.delta > 0:
            items.extend(
                _reserve(
                    order_id,
                    Allocation(sku=change.sku, location_id=change.location_id, qty=change.delta),
                    now,
                    expires_at,
                )
            )
        else:
            items.extend(
                _unreserve(order_id, change.sku, change.location_id, -change.delta, change.held_after == 0, now)
            )
    items.append(_set_task_shortages(task_id, shortages, now) if shortages else _set_task_state(task_id, "closed", now))
    return _committed(_transact(items))


def _committed(reasons: list[CancellationReason] | None) -> bool:
    """True if committed; False if the order's own condition failed (the step already ran); else read again."""
    if reasons is None:
        return True
    if reasons and reasons[0].code == CONDITION_FAILED:
        return False
    raise StockMoved()


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
    """Move the order's SLA deadline (a marketplace moved its ship-by); False if the order does not exist."""
    return (
        update_if(
            aws.dynamodb(),
            TableName=settings().orders_table,
            Key=order_key(order_id),
            UpdateExpression="SET ship_by = :ship_by, timeline = list_append(timeline, :entry), updated_at = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={
                ":ship_by": {"S": ship_by},
                ":entry": {"L": [to_value(timeline_entry)]},
                ":at": {"S": timeline_entry["at"]},
            },
        )
        is None
    )


# ------------------------------------------------------------------ operator events


def claim_token(order_id: str, token: str, status: str, event: str) -> bool:
    """Take the order's task token for one event; exactly one of concurrent claimants wins."""
    return (
        update_if(
            aws.dynamodb(),
            TableName=settings().orders_table,
            Key=order_key(order_id),
            UpdateExpression="SET pending_event = :event REMOVE task_token",
            ConditionExpression="task_token = :token AND #status = :status",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":event": {"S": event}, ":token": {"S": token}, ":status": {"S": status}},
        )
        is None
    )


def return_token(order_id: str, token: str, status: str) -> None:
    """Undo a claim whose SendTaskSuccess did not go through, so the next event can use the token.

    If the condition fails, the lifecycle has moved on by itself and there is nothing to undo."""
    update_if(
        aws.dynamodb(),
        TableName=settings().orders_table,
        Key=order_key(order_id),
        UpdateExpression="SET task_token = :token REMOVE pending_event",
        ConditionExpression="attribute_not_exists(task_token) AND #status = :status",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":token": {"S": token}, ":status": {"S": status}},
    )


# ------------------------------------------------------------------ lists

_INDEXES = {  # (status given, channel given) -> index and its partition attribute
    (False, False): ("ByCreated", "entity"),
    (True, False): ("ByStatus", "status"),
    (False, True): ("ByChannel", "channel"),
    (True, True): ("ByChannelStatus", "channel_status"),
}


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def list_orders(status: str | None, channel: str | None, limit: int, cursor: str | None) -> Page:
    """Newest first. One Query on the matching KEYS_ONLY index, one BatchGetItem for the current items."""
    index, attribute = _INDEXES[(status is not None, channel is not None)]
    partition = {"entity": "order", "status": status, "channel": channel, "channel_status": f"{channel}#{status}"}[
        attribute
    ]
    page = _newest_first(settings().orders_table, "pk", index, attribute, partition, limit, cursor)
    keys = [{"pk": item["pk"]} for item in page.items]
    by_pk = {row["pk"]: row for row in batch_get(aws.dynamodb(), settings().orders_table, keys)}
    # The index is eventually consistent: drop orders that have moved out of the filter since.
    rows = [by_pk[k["pk"]] for k in keys if k["pk"] in by_pk and (status is None or by_pk[k["pk"]]["status"] == status)]
    return Page(rows, page.next_cursor)


def list_tasks(state: str, limit: int, cursor: str | None) -> Page:
    """Newest first; the index projects whole tasks, so a page is one Query."""
    return _newest_first(settings().tasks_table, "task_id", "ByState", "state", state, limit, cursor)


def _newest_first(
    table: str, table_key: str, index: str, attribute: str, partition: str, limit: int, cursor: str | None
) -> Page:
    """One page of an index partition sorted by created_key, newest first, with an opaque cursor."""
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": index,
        "Limit": limit,
        "ScanIndexForward": False,
        "KeyConditionExpression": "#p = :p",
        "ExpressionAttributeNames": {"#p": attribute},
        "ExpressionAttributeValues": {":p": {"S": partition}},
    }
    if cursor:
        request["ExclusiveStartKey"] = _decode_cursor(cursor, index, table_key, attribute, partition)
    answer = aws.dynamodb().query(**request)
    last = answer.get("LastEvaluatedKey")
    return Page([from_item(item) for item in answer["Items"]], _encode_cursor(index, partition, last) if last else None)


def _unpadded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_signature(payload: str) -> str:
    """HMAC-SHA256 of the cursor's payload under the hub's cursor key (SSM, never in code or logs)."""
    name = settings().cursor_key_parameter
    if not name:
        raise LookupError("CURSOR_KEY_PARAMETER is not configured")
    key = secrets.generated_secret(name).encode()
    return _unpadded(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def _encode_cursor(index: str, partition: str, last_key: dict[str, Any]) -> str:
    """`<payload>.<signature>`: callers cannot forge or alter a cursor to read from any table key."""
    payload = _unpadded(json.dumps({"i": index, "p": partition, "k": last_key}, separators=(",", ":")).encode())
    return f"{payload}.{_cursor_signature(payload)}"


def _decode_cursor(cursor: str, index: str, table_key: str, attribute: str, partition: str) -> dict[str, Any]:
    """The cursor must be one the hub signed, for this very query: same index, same partition, a key of
    the right shape (DynamoDB answers a foreign start key with a ValidationException, a 5xx)."""
    payload, _, signature = cursor.rpartition(".")
    try:
        # Constant time: a caller cannot learn the signature byte by byte from answer times.
        if not payload or not hmac.compare_digest(signature.encode(), _cursor_signature(payload).encode()):
            raise ValueError("not signed by the hub")
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        key = data["k"]
        valid = (
            data["i"] == index
            and data["p"] == partition
            and isinstance(key, dict)
            and set(key) == {table_key, attribute, "created_key"}
            and all(
                isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) and v["S"] for v in key.values()
            )
            and key[attribute]["S"] == partition
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise Unprocessable(
            "cursor is not valid for this query; start again without it",
            details=[{"loc": ["query", "cursor"], "msg": "invalid cursor"}],
        )
    return key
