"""`open_task`: the store's to-do for an order it accepted (ship from store): pick and pack it.
`close_task`: the to-do closed when the order is cancelled, so that nobody picks what nobody will collect."""

from __future__ import annotations

from actions.domain.outcomes import Done, Outcome, Skipped
from actions.use_cases.context import Context
from orders.adapters import task_table
from orders.domain.actions import done_results

TASK_KIND = "store_order"


def open_task(ctx: Context) -> Outcome:
    """One task per status entry (its id names the entry), so a retried attempt keeps the one it opened."""
    order = ctx.order
    task_id = f"store#{order['order_id']}#{ctx.status}#{ctx.entry}"
    locations = sorted({a["location_id"] for a in order.get("allocations", [])})
    task_table.keep_open(
        task_id,
        TASK_KIND,
        {
            "order_id": order["order_id"],
            "channel": order["channel"],
            "action": ctx.name,
            "reason": f"pick and pack the order at {', '.join(locations) or 'the store'}",
        },
        ctx.now,
    )
    return Done({"task_id": task_id})


def close_task(ctx: Context) -> Outcome:
    """Every task the order's `open_task` actions opened; closing a closed one again changes nothing."""
    opened = done_results(ctx.order, "open_task", "task_id")
    if not opened:
        return Skipped("no store task was opened")
    for task_id in opened:
        task_table.close(task_id, ctx.now)
    return Done({"closed": opened})
