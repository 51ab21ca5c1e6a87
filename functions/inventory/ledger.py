"""The stock ledger: every write of a stock row or a reservation, built as a TransactWriteItems item.

A stock row stores `available` beside `on_hand` and `reserved` because DynamoDB conditions cannot do
arithmetic: a reservation is then one conditional update (`available >= :qty`), exact under any
concurrency. This module is the only place that keeps `available = on_hand - reserved`: each write
below moves the three together in one expression. Nothing here calls DynamoDB: the orders adapters
compose these items with the order's own write in one transaction, the stock table runs an import's
row writes one UpdateItem each.

A held reservation that expires carries `expires_at` and `expiry_day` (its UTC date): the sparse
ByExpiry index the hold sweeper reads holds only these, until the reservation is closed or kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from common.clock import utc_day
from common.config import settings
from common.dynamo import TransactItem

HELD, RELEASED, CONSUMED = "held", "released", "consumed"

# The three ways reserved units move, each keeping available = on_hand - reserved.
_TAKE_FREE = "SET available = available - :qty, reserved = reserved + :qty, updated_at = :now"
_GIVE_BACK = "SET available = available + :qty, reserved = reserved - :qty, updated_at = :now"
_TAKE_OUT = "SET on_hand = on_hand - :qty, reserved = reserved - :qty, updated_at = :now"


@dataclass(frozen=True)
class Units:
    """`qty` units of one SKU at one location (for one order, where a reservation is concerned)."""

    sku: str
    location_id: str
    qty: int


@dataclass(frozen=True)
class RowImport:
    """One imported line for one stock row: `units` is the new on-hand (snapshot) or the change (delta).

    With a `batch_id`, the row records it as `last_batch`, and a write of the same batch is refused."""

    sku: str
    location_id: str
    units: int
    expected_at: date | None
    batch_id: str | None
    now: str


def reservation_key(sku: str, location_id: str) -> str:
    return f"{sku}#{location_id}"


def stock_key(sku: str, location_id: str) -> dict[str, Any]:
    return {"sku": {"S": sku}, "location_id": {"S": location_id}}


def reserve(order_id: str, units: Units, now: str, expires_at: str | None) -> list[TransactItem]:
    """Take units from the location's free stock and record (or grow) the order's held reservation."""
    values = {
        ":sku": {"S": units.sku},
        ":loc": {"S": units.location_id},
        ":held": {"S": HELD},
        ":qty": {"N": str(units.qty)},
        ":now": {"S": now},
        ":released": {"S": RELEASED},
        ":zero": {"N": "0"},
    }
    expiry = ""
    if expires_at is not None:
        expiry = ", expires_at = :expires_at, expiry_day = :expiry_day"
        values.update({":expires_at": {"S": expires_at}, ":expiry_day": {"S": utc_day(expires_at).isoformat()}})
    reservation = _reservation_update(
        order_id,
        units,
        expression=(
            "SET sku = :sku, location_id = :loc, #state = :held, "
            f"created_at = if_not_exists(created_at, :now), updated_at = :now{expiry} "
            "ADD qty :qty"
        ),
        # A row a substitution emptied (released, 0 units) may hold units again.
        condition="attribute_not_exists(order_id) OR #state = :held OR (#state = :released AND qty = :zero)",
        values=values,
    )
    return [_stock_update(units, _TAKE_FREE, "available >= :qty", now), reservation]


def release_part(order_id: str, units: Units, now: str, *, emptied: bool) -> list[TransactItem]:
    """Give `units` of a held reservation back to free stock; an `emptied` row is released (and may be
    held again), leaving the sweeper's ByExpiry index with its expiry_day."""
    values = {":qty": {"N": str(units.qty)}, ":neg": {"N": str(-units.qty)}, ":held": {"S": HELD}, ":now": {"S": now}}
    if emptied:
        values[":released"] = {"S": RELEASED}
    reservation = _reservation_update(
        order_id,
        units,
        expression=(
            "SET updated_at = :now"
            + (", #state = :released" if emptied else "")
            + " ADD qty :neg"
            + (" REMOVE expiry_day" if emptied else "")
        ),
        condition="#state = :held AND qty >= :qty",
        values=values,
    )
    return [reservation, _stock_update(units, _GIVE_BACK, "reserved >= :qty", now)]


def release_held(order_id: str, held: Units, now: str) -> list[TransactItem]:
    """Close a held reservation and give its units back to free stock."""
    return [_close(order_id, held, RELEASED, now), _stock_update(held, _GIVE_BACK, "reserved >= :qty", now)]


def consume_held(order_id: str, held: Units, now: str) -> list[TransactItem]:
    """Close a held reservation and take its units out of on-hand (they left the building)."""
    return [_close(order_id, held, CONSUMED, now), _stock_update(held, _TAKE_OUT, "reserved >= :qty", now)]


def write_off(order_id: str, units: Units, now: str, *, whole: bool) -> list[TransactItem]:
    """Units reserved that are not on the shelf: out of the reservation (released when `whole`) and out
    of on-hand."""
    values = {":qty": {"N": str(units.qty)}, ":now": {"S": now}, ":held": {"S": HELD}}
    if whole:
        values[":released"] = {"S": RELEASED}
    reservation = _reservation_update(
        order_id,
        units,
        expression="SET qty = qty - :qty, updated_at = :now" + (", #state = :released" if whole else ""),
        condition="#state = :held AND qty >= :qty",
        values=values,
    )
    return [reservation, _stock_update(units, _TAKE_OUT, "reserved >= :qty AND on_hand >= :qty", now)]


def return_to_stock(units: Units, now: str) -> TransactItem:
    """Returned units go back on hand and free (a row that does not exist yet is created)."""
    return {
        "Update": {
            "TableName": settings().stock_table,
            "Key": stock_key(units.sku, units.location_id),
            "UpdateExpression": (
                "SET on_hand = if_not_exists(on_hand, :zero) + :qty, "
                "available = if_not_exists(available, :zero) + :qty, "
                "reserved = if_not_exists(reserved, :zero), updated_at = :now"
            ),
            "ExpressionAttributeValues": {":zero": {"N": "0"}, ":qty": {"N": str(units.qty)}, ":now": {"S": now}},
        }
    }


def keep_hold(order_id: str, key: str) -> TransactItem:
    """The order moved on: its hold no longer expires, so the reservation leaves the ByExpiry index."""
    return {
        "Update": {
            "TableName": settings().reservations_table,
            "Key": {"order_id": {"S": order_id}, "reservation_key": {"S": key}},
            "UpdateExpression": "REMOVE expiry_day",
        }
    }


def set_on_hand(row: RowImport) -> TransactItem:
    """A snapshot of one row; refused if the units reserved exceed the new on-hand."""
    values = {":on_hand": {"N": str(row.units)}, ":zero": {"N": "0"}, ":now": {"S": row.now}}
    assignments = [
        "on_hand = :on_hand",
        "reserved = if_not_exists(reserved, :zero)",
        "available = :on_hand - if_not_exists(reserved, :zero)",
        "updated_at = :now",
        "imported_at = :now",
    ]
    if row.expected_at is not None:
        assignments.append("expected_at = :expected_at")
        values[":expected_at"] = {"S": row.expected_at.isoformat()}
    remove = " REMOVE expected_at" if row.expected_at is None else ""
    return _imported(row, assignments, remove, "(attribute_not_exists(reserved) OR reserved <= :on_hand)", values)


def add_on_hand(row: RowImport) -> TransactItem:
    """Add (or remove) units of one row; refused if a removal needs more units than are free."""
    values = {
        ":delta": {"N": str(row.units)},
        ":zero": {"N": "0"},
        ":now": {"S": row.now},
        ":needed": {"N": str(max(-row.units, 0))},
    }
    assignments = [
        "on_hand = if_not_exists(on_hand, :zero) + :delta",
        "reserved = if_not_exists(reserved, :zero)",
        "available = if_not_exists(available, :zero) + :delta",
        "updated_at = :now",
        "imported_at = :now",
    ]
    if row.expected_at is not None:
        assignments.append("expected_at = :expected_at")
        values[":expected_at"] = {"S": row.expected_at.isoformat()}
    # An addition always fits; a removal needs that many free units.
    condition = "(attribute_not_exists(available) AND :delta >= :zero OR available >= :needed)"
    return _imported(row, assignments, "", condition, values)


def _imported(
    row: RowImport, assignments: list[str], remove: str, condition: str, values: dict[str, Any]
) -> TransactItem:
    if row.batch_id is not None:
        assignments = [*assignments, "last_batch = :batch"]
        condition += " AND (attribute_not_exists(last_batch) OR last_batch <> :batch)"
        values = {**values, ":batch": {"S": row.batch_id}}
    return {
        "Update": {
            "TableName": settings().stock_table,
            "Key": stock_key(row.sku, row.location_id),
            "UpdateExpression": "SET " + ", ".join(assignments) + remove,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
    }


def _stock_update(units: Units, expression: str, condition: str, now: str) -> TransactItem:
    return {
        "Update": {
            "TableName": settings().stock_table,
            "Key": stock_key(units.sku, units.location_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": {":qty": {"N": str(units.qty)}, ":now": {"S": now}},
        }
    }


def _close(order_id: str, held: Units, state: str, now: str) -> TransactItem:
    return _reservation_update(
        order_id,
        held,
        expression="SET #state = :state, updated_at = :now REMOVE expiry_day",
        condition="#state = :held",
        values={":state": {"S": state}, ":held": {"S": HELD}, ":now": {"S": now}},
    )


def _reservation_update(
    order_id: str, units: Units, *, expression: str, condition: str, values: dict[str, Any]
) -> TransactItem:
    return {
        "Update": {
            "TableName": settings().reservations_table,
            "Key": {
                "order_id": {"S": order_id},
                "reservation_key": {"S": reservation_key(units.sku, units.location_id)},
            },
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": values,
        }
    }
