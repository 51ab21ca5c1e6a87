"""A store's work, keyed by store: which queue entries an order puts in the store work table, and how a
batch of order writes changes them.

The orders table is indexed by status across every store; a store's queue read from there would read
every store's orders to keep its own. Each order in a status a store works on instead has one entry per
store it involves (its allocations' locations and its pickup point), in the partition
`<location>#<status>`, sorted by the order's created_key: a store's section is one Query of its own
partition. Pure: the orders table's stream handler hands in each write's images, in stream order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Image = Mapping[str, Any]

# The queue's sections, most urgent work first: (section, status, only this workflow's orders or any).
QUEUE = (
    ("to_pick", "confirmed", None),
    ("to_pack", "picked", None),
    ("to_hand_over", "packed", None),
    ("ready_for_pickup", "ready_for_pickup", None),
    ("to_put_aside", "reserved", "reserve_in_store"),
    ("held_in_store", "held", None),
)
_WORKFLOWS_OF = {status: only for _, status, only in QUEUE}


@dataclass(frozen=True, order=True)
class Entry:
    """One order in one store's section: `queue` is `<location>#<status>`, `created_key` sorts it."""

    queue: str
    created_key: str
    order_id: str


def queue_of(location_id: str, status: str) -> str:
    return f"{location_id}#{status}"


def stores_of(order: Image) -> set[str]:
    """The locations an order involves: where its units are allocated and where it is collected (the same
    locations store staff may see it from, admin.auth.policy)."""
    locations = {str(a["location_id"]) for a in order.get("allocations") or [] if a.get("location_id")}
    pickup = (order.get("delivery") or {}).get("location_id")
    if pickup:
        locations.add(str(pickup))
    return locations


def entries_of(order: Image | None) -> set[Entry]:
    """The entries an order item puts in the store work table (none for other items of the orders table, and
    for statuses no store works on)."""
    if order is None or not str(order.get("pk", "")).startswith("ORDER#") or "status" not in order:
        return set()
    status = str(order["status"])
    if status not in _WORKFLOWS_OF:
        return set()
    only = _WORKFLOWS_OF[status]
    if only is not None and order.get("workflow") != only:
        return set()
    return {
        Entry(queue_of(location, status), str(order["created_key"]), str(order["order_id"]))
        for location in stores_of(order)
    }


@dataclass(frozen=True)
class EntryChanges:
    put: list[Entry]
    delete: list[Entry]


def entry_changes(writes: Iterable[tuple[Image | None, Image | None]]) -> EntryChanges:
    """What a batch of order writes changes in the store work table: per order, the entries of its image
    before the first write against those after the last (an order confirmed and picked within one batch
    is put in to_pack only). Applying the result twice changes nothing more, so a retried batch is safe."""
    first: dict[str, Image | None] = {}
    last: dict[str, Image | None] = {}
    for before, after in writes:
        item = after if after is not None else before
        if item is None:
            continue
        pk = str(item.get("pk", ""))
        first.setdefault(pk, before)
        last[pk] = after
    put: set[Entry] = set()
    delete: set[Entry] = set()
    for pk, after in last.items():
        was, now = entries_of(first[pk]), entries_of(after)
        put |= now - was
        delete |= was - now
    return EntryChanges(sorted(put), sorted(delete))
