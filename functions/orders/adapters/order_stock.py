"""The order changes that move stock, each one TransactWriteItems: the order's own write (order_table),
the stock and reservation writes of the inventory ledger, and the operator task's write (task_table).

So an order and its reservations can never disagree, and a lost race changes nothing: the caller reads
again and re-plans (StockMoved).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from common import aws
from common.dynamo import CONDITION_FAILED, TRANSACTION_LIMIT, CancellationReason, TransactItem, transact
from inventory import ledger
from inventory.adapters import held_reservations
from inventory.ledger import Units
from orders.adapters import contact_lookup, order_table, task_table
from orders.adapters.order_table import StatusMove, Substituted
from orders.domain.fulfilment import ShortPick
from orders.domain.substitution import StockChange
from planning.sourcing import Allocation


class DuplicateOrder(Exception):
    def __init__(self, existing: dict[str, Any]) -> None:
        super().__init__(existing["order_id"])
        self.existing = existing


class StockMoved(Exception):
    """A reservation's condition failed or a concurrent transaction touched the same items: read again."""


def create_order(
    order: dict[str, Any], allocations: Sequence[Allocation], task: dict[str, Any] | None, now: str
) -> None:
    """Create the order, its contact lookups, its reservations and (when short) its operator task, all or nothing."""
    items = [order_table.new_order_item(order), *contact_lookup.lookup_items(order)]
    for allocation in allocations:
        items.extend(ledger.reserve(order["order_id"], _units(allocation), now, order.get("hold_expires_at")))
    if task:
        items.append(task_table.open_task(task))
    reasons = _transact(items)
    if reasons is None:
        return
    if reasons and reasons[0].code == CONDITION_FAILED and reasons[0].item:
        raise DuplicateOrder(reasons[0].item)
    raise StockMoved()


@dataclass(frozen=True)
class MoreReserved:
    """What an order on hold reserves on top of its holds, and how the order reads afterwards."""

    added: Sequence[Allocation]
    allocations: list[dict[str, Any]]  # all of the order's, the added ones included
    shortages: list[dict[str, Any]]  # what it still misses
    promise: dict[str, Any] | None
    hold_expires_at: str | None
    close_task: str | None  # the shortage task, once nothing is missing


def reserve_more(move: StatusMove, more: MoreReserved) -> bool:
    """Reserve more units for an order on hold; False when the order left that status meanwhile."""
    items = [order_table.reserved_more_item(move, more.allocations, more.shortages, more.promise)]
    for allocation in more.added:
        items.extend(ledger.reserve(move.order_id, _units(allocation), move.now, more.hold_expires_at))
    if more.close_task:
        items.append(task_table.close_task(more.close_task, move.now))
    return _committed(_transact(items))


def substitute(change: Substituted, stock: Sequence[StockChange], task_id: str, hold_expires_at: str | None) -> bool:
    """Edit an order on hold and its reservations at once. The order must be as it was read
    (`change.seen_at`); False when it changed meanwhile. The task is closed when nothing is missing."""
    order_id, now = change.order_id, change.now
    items = [order_table.substituted_item(change)]
    for net in stock:
        units = Units(net.sku, net.location_id, abs(net.delta))
        if net.delta > 0:
            items.extend(ledger.reserve(order_id, units, now, hold_expires_at))
        else:
            items.extend(ledger.release_part(order_id, units, now, emptied=net.held_after == 0))
    if change.shortages:
        items.append(task_table.set_shortages(task_id, change.shortages, now))
    else:
        items.append(task_table.close_task(task_id, now))
    return _committed(_transact(items))


def consume(move: StatusMove, task_token: str | None) -> bool:
    """Into a status that takes every held unit out of on-hand; a waiting status stores its task token.
    False when the order is no longer in an expected status (a retried step that already ran)."""
    return _close_holds(order_table.consumed_item(move, task_token), ledger.consume_held, move, close_task=None)


def release(move: StatusMove, close_task: str | None) -> bool:
    """Into a status that gives every held unit back to free stock, closing the shortage task if one is
    open. False when the order is no longer in an expected status (a retried step that already ran)."""
    return _close_holds(order_table.released_item(move), ledger.release_held, move, close_task)


def record_return(order_id: str, record: dict[str, Any], entry: dict[str, Any], read_at: str, now: str) -> None:
    """Append the return and put its units back on hand, all or nothing; conditional on the order not
    having changed since it was read (StockMoved: read again and re-check)."""
    items = [order_table.returned_item(order_id, record, entry, read_at, now)]
    items.extend(
        ledger.return_to_stock(Units(line["sku"], record["location_id"], line["qty"]), now) for line in record["lines"]
    )
    if _transact(items) is not None:
        raise StockMoved()


def write_off(order: dict[str, Any], location_id: str, plan: ShortPick, entry: dict[str, Any], now: str) -> None:
    """Units reserved at `location_id` that are not there: out of the reservation and out of on-hand, with
    the order's change, all or nothing; conditional on the order not having changed since it was read."""
    items = [order_table.short_picked_item(order, plan, entry, now)]
    for allocation in order["allocations"]:  # an order's allocations are its held reservations (same key, same qty)
        sku = allocation["sku"]
        if allocation["location_id"] != location_id or sku not in plan.written_off:
            continue
        missing = plan.written_off[sku]
        items.extend(
            ledger.write_off(
                order["order_id"], Units(sku, location_id, missing), now, whole=missing == allocation["qty"]
            )
        )
    if _transact(items) is not None:
        raise StockMoved()


def _close_holds(
    order_change: TransactItem,
    close: Callable[[str, Units, str], list[TransactItem]],
    move: StatusMove,
    close_task: str | None,
) -> bool:
    """Move the order and close every held reservation.

    An order whose reservations were split over many locations can hold more than one transaction
    takes (100 items): the reservations are then closed in chunks, each one conditional on the
    rows still being held, and the last chunk carries the order's change. A retry after a chunk
    picks up the rows still held.
    """
    order_id, now = move.order_id, move.now
    holds = held_reservations.held_by(order_id)
    room = TRANSACTION_LIMIT - 1 - (1 if close_task else 0)
    while len(holds) * 2 > room:
        chunk, holds = holds[: room // 2], holds[room // 2 :]
        if _transact([item for held in chunk for item in close(order_id, held, now)]) is not None:
            raise StockMoved()
    items = [order_change, *(item for held in holds for item in close(order_id, held, now))]
    if close_task:
        items.append(task_table.close_task(close_task, now))
    return _committed(_transact(items))


def _units(allocation: Allocation) -> Units:
    return Units(allocation.sku, allocation.location_id, allocation.qty)


def _transact(items: Sequence[TransactItem]) -> list[CancellationReason] | None:
    return transact(aws.dynamodb(), items)


def _committed(reasons: list[CancellationReason] | None) -> bool:
    """True if committed; False if the order's own condition failed (the step already ran); else read again."""
    if reasons is None:
        return True
    if reasons and reasons[0].code == CONDITION_FAILED:
        return False
    raise StockMoved()
