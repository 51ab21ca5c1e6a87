"""A store's work: its queue by urgency, and the hand-over of a click & collect order against its pickup code."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from common.errors import Conflict, Problem, Unprocessable
from orders.adapters import contact_lookup, order_table, store_work_table
from orders.domain.models import Order, OrderEventIn
from orders.domain.pickup import code_matches, pickup_code, ready_since
from orders.domain.store_work import QUEUE, EntryChanges, entries_of, entry_changes
from orders.use_cases import events, queries


def store_queue(location_ids: Iterable[str], visible: Callable[[Order], bool], limit: int) -> dict[str, list[Order]]:
    """Each section's orders at the stores, oldest first: per store and section one Query of its own entries
    (orders.domain.store_work), then one BatchGetItem of the orders' current items. The entries follow the
    orders through a stream, a moment behind: an order that has moved on since is left out."""
    stores = sorted(set(location_ids))
    wanted = {
        section: [order_id for location in stores for order_id in store_work_table.oldest(location, status, limit)]
        for section, status, _ in QUEUE
    }
    current = order_table.current_orders([order_id for ids in wanted.values() for order_id in ids])
    queue: dict[str, list[Order]] = {}
    for section, status, only in QUEUE:
        rows = [current[i] for i in dict.fromkeys(wanted[section]) if i in current]
        fitting = [row for row in rows if row["status"] == status and (only is None or row["workflow"] == only)]
        orders = [Order.model_validate(row) for row in sorted(fitting, key=lambda row: row["created_key"])]
        queue[section] = [order for order in orders if visible(order)][:limit]
    return queue


def keep_store_work(writes: Iterable[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]]) -> EntryChanges:
    """The store work entries a batch of order writes changes (the orders table's stream, in order)."""
    changes = entry_changes(writes)
    store_work_table.apply(changes.put, changes.delete)
    return changes


def rebuild_store_work(page_size: int = 100) -> int:
    """Put the entries of every order now in a status a store works on (an order that has not moved since
    the stream started keeping them); one ByStatus Query page and one BatchGetItem per `page_size` orders.
    Entries already there are written again unchanged. The entries written."""
    written = 0
    for _, status, _ in QUEUE:
        cursor: str | None = None
        while True:
            page = order_table.list_orders(status, None, page_size, cursor, oldest=True)
            entries = sorted({entry for row in page.items for entry in entries_of(row)})
            store_work_table.apply(entries, ())
            written += len(entries)
            cursor = page.next_cursor
            if cursor is None:
                break
    return written


def pickup_code_of(order_id: str, timeline: Sequence[Mapping[str, Any]]) -> str | None:
    """The code the customer is sent when the order becomes ready for pickup; None while it is not."""
    since = ready_since([(entry["status"], entry["at"]) for entry in timeline])
    return None if since is None else pickup_code(contact_lookup.hub_key(), order_id, since)


def collect(order_id: str, code: str, source: str) -> dict[str, Any]:
    """Hand the order over at the desk if the customer's code is right; a wrong code changes nothing."""
    order = queries.get_order(order_id)
    expected = pickup_code_of(order_id, order.model_dump(include={"timeline"})["timeline"])
    if expected is None:
        raise Conflict("the order is not ready for pickup", status=order.status)
    if not code_matches(expected, code):
        raise Unprocessable("the pickup code is wrong", [Problem(("code",), "wrong pickup code")])
    return events.post_event(order_id, OrderEventIn(event="collect"), source)
