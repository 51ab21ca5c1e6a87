"""Finding orders the way a call-centre operator is told about them: by the hub's order id, the channel's
order number, or the customer's phone or e-mail. Every path is a key read or an index Query, never a Scan."""

from __future__ import annotations

from typing import Any

from common.errors import Problem, Unprocessable
from orders.adapters import contact_lookup
from orders.domain.contacts import email_key, phone_key
from orders.domain.models import Order, order_id_for
from reference import config_table

MAX_QUERY = 254  # the longest e-mail address


def find_orders(text: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """Orders matching `text`, newest first; a phone or e-mail pages on with `next_cursor`."""
    wanted = text.strip()
    if not wanted or len(wanted) > MAX_QUERY:
        raise Unprocessable(
            f"give an order id, an order number, a phone or an e-mail (1 to {MAX_QUERY} characters)",
            [Problem(("q",), "empty or too long", part="query")],
        )
    found: list[dict[str, Any]] = []
    next_cursor = None
    if cursor is None:
        found.extend(_by_number(wanted))
    contact = email_key(wanted) or phone_key(wanted)
    if contact:
        page = contact_lookup.orders_with_contact(contact, limit, cursor)
        found.extend(row for row in page.items if row["order_id"] not in {o["order_id"] for o in found})
        next_cursor = page.next_cursor
    return {"items": [Order.model_validate(o) for o in found], "next_cursor": next_cursor}


def _by_number(wanted: str) -> list[dict[str, Any]]:
    """The order with this hub id, and the order with this number in each channel (the id derives from the
    channel and its number): key reads, one BatchGetItem."""
    ids = {order_id_for(c.channel_id, wanted) for c in config_table.channels()}
    if wanted.startswith("ord_"):
        ids.add(wanted)
    return sorted(contact_lookup.orders_by_id(sorted(ids)), key=lambda o: o["created_key"], reverse=True)
