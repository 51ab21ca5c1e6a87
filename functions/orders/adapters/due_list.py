"""The due list (SlaTable's DUE# partitions): per waiting status, its orders by the deadline of their entry.

The SLA monitor writes an entry when it plans a status entry with a deadline and deletes it when the order
leaves it (sla_monitor.adapters.sla_table); the orders API reads it for `GET /v1/orders?due_before=`. The key
shapes live here, with the reader, so writer and reader cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence

from common.config import settings
from orders.adapters.listing import MergedPartitions, Page, merged_in_key_order


def due_partition(status: str) -> str:
    return f"DUE#{status}"


def due_sort_key(due_at: str, order_id: str) -> str:
    """The deadline first (hub time text sorts as time), the order after it: one entry per order and time."""
    return f"{due_at}#{order_id}"


def due_before(statuses: Sequence[str], before: str, limit: int, cursor: str | None) -> Page:
    """Entries of the statuses due before `before`, soonest first: `status` (the partition's), `due_at`,
    `order_id`, `channel` and `workflow` each."""
    partitions = tuple(due_partition(status) for status in statuses)
    page = merged_in_key_order(MergedPartitions(settings().sla_table, "pk", partitions, "sk", before), limit, cursor)
    entries = [
        {**entry, "status": entry["pk"].removeprefix("DUE#"), "due_at": entry["sk"].rpartition("#")[0]}
        for entry in page.items
    ]
    return Page(entries, page.next_cursor)
