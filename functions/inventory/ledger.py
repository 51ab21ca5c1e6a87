"""The stock ledger: every write of a stock row or a reservation, built as a TransactWriteItems item.

A stock row stores `available` beside `on_hand` and `reserved` because DynamoDB conditions cannot do
arithmetic: a reservation is then one conditional update (`available >= :qty`), exact under any
concurrency. This module is the only place that keeps `available = on_hand - reserved`: each write
below moves the three together, in one expression (or, for an import, one Put of the row it read,
conditioned on the row being unchanged). Nothing here calls DynamoDB: the orders adapters
compose these items with the order's own write in one transaction, the stock table runs an import's
row writes up to 100 to a transaction.

A held reservation that expires carries `expires_at` and `expiry_day` (its UTC date): the sparse
ByExpiry index the hold sweeper reads holds only these, until the reservation is closed or kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from common.clock import utc_day
from common.config import settings
from common.dynamo import TransactItem, to_item, to_value

HELD, RELEASED, CONSUMED = "held", "released", "consumed"

# The three ways reserved units move, each keeping available = on_hand - reserved.
_TAKE_FREE = "SET available = available - :qty, reserved = reserved + :qty, updated_at = :now"
_GIVE_BACK = "SET available = available + :qty, reserved = reserved - :qty, updated_at = :now"
_TAKE_OUT = "SET on_hand = on_hand - :qty, reserved = reserved - :qty, updated_at = :now"
# What every other write of a stock row moves (reservations, shipments, returns: on_hand or reserved;
# an import: last_batch when it has one): an import's Put is conditioned on these being as it read them.
_WRITERS_MOVE = ("on_hand", "reserved", "last_batch")


@dataclass(frozen=True)
class Units:
    """`qty` units of one SKU at one location (for one order, where a reservation is concerned)."""

    sku: str
    location_id: str
    qty: int


@dataclass(frozen=True)
class RowImport:
    """One imported line for one stock row: `units` is the new on-hand (snapshot) or the change (delta).

    With a `batch_id`, the row records it as `last_batch`: a row that names the batch already is not
    written again (stock_table)."""

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


def set_on_hand(row: RowImport, before: Mapping[str, Any]) -> TransactItem | None:
    """A snapshot of one row read as `before` (empty: no row yet); None if the units reserved exceed the
    new on-hand. A line without `expected_at` clears it."""
    return _imported(row, before, row.units, row.expected_at.isoformat() if row.expected_at else None)


def add_on_hand(row: RowImport, before: Mapping[str, Any]) -> TransactItem | None:
    """Add (or remove) units of one row read as `before`; None if a removal needs more units than are free.
    A line without `expected_at` keeps the row's."""
    expected_at = row.expected_at.isoformat() if row.expected_at else before.get("expected_at")
    return _imported(row, before, int(before.get("on_hand", 0)) + row.units, expected_at)


def _imported(row: RowImport, before: Mapping[str, Any], on_hand: int, expected_at: str | None) -> TransactItem | None:
    """The row after an imported line, as a Put conditioned on the row being as it was read.

    A Put of figures computed here rather than an arithmetic UpdateExpression: a batch reads its rows
    once (BatchGetItem) and writes them 100 to a transaction. The condition is what makes the read safe:
    a reservation, shipment or return that moved `on_hand` or `reserved` since, or another attempt of
    the same batch that wrote `last_batch`, refuses the Put, and the writer decides again from the row
    the refusal returns. Attributes this does not own are carried over as read."""
    reserved = int(before.get("reserved", 0))
    if on_hand < reserved:
        return None
    after = {**before, "sku": row.sku, "location_id": row.location_id, "on_hand": on_hand, "reserved": reserved}
    after.update(available=on_hand - reserved, updated_at=row.now, imported_at=row.now, expected_at=expected_at)
    if row.batch_id is not None:
        after["last_batch"] = row.batch_id
    request: dict[str, Any] = {"TableName": settings().stock_table, "Item": to_item(after)}
    if not before:
        request["ConditionExpression"] = "attribute_not_exists(sku)"
        return {"Put": request}
    unchanged, values = [], {}
    for name in _WRITERS_MOVE:
        if name in before:
            unchanged.append(f"{name} = :{name}")
            values[f":{name}"] = to_value(before[name])
        else:
            unchanged.append(f"attribute_not_exists({name})")
    request.update(ConditionExpression=" AND ".join(unchanged), ExpressionAttributeValues=values)
    return {"Put": request}


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
