"""A store's work: its queue by urgency, and the hand-over of a click & collect order against its pickup code."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from common.errors import Conflict, Problem, Unprocessable
from orders.adapters import contact_lookup, order_table
from orders.domain.models import Order, OrderEventIn
from orders.domain.pickup import code_matches, pickup_code, ready_since
from orders.use_cases import events, queries

# The queue's sections, most urgent work first: (section, status, only this workflow's orders or any).
QUEUE = (
    ("to_pick", "confirmed", None),
    ("to_pack", "picked", None),
    ("to_hand_over", "packed", None),
    ("ready_for_pickup", "ready_for_pickup", None),
    ("to_put_aside", "reserved", "reserve_in_store"),
    ("held_in_store", "held", None),
)


def store_queue(visible: Callable[[Order], bool], limit: int) -> dict[str, list[Order]]:
    """Each section's orders this store may see, oldest first: one index page per status (the index is by
    status across stores, so a page holds at most `limit` orders of every store; the store's are kept)."""
    queue: dict[str, list[Order]] = {}
    for section, status, only in QUEUE:
        page = order_table.list_orders(status, None, limit, None, oldest=True)
        orders = [Order.model_validate(row) for row in page.items if only is None or row["workflow"] == only]
        queue[section] = [o for o in orders if visible(o)]
    return queue


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
