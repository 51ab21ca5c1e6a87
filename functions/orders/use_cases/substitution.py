"""Operator substitutions: replace or drop a line of an order on hold."""

from __future__ import annotations

from common.errors import InsufficientStock, InvalidTransition, OrderBusy, OrderNotFound
from common.observability import count
from inventory.adapters import stock_table
from orders.adapters import order_stock, order_table
from orders.domain.models import Order, OrderEventIn, order_total
from orders.domain.records import describe_shortages, shortage_task_id, timeline_entry
from orders.domain.substitution import SubstitutionIn, net_changes, substitute_lines
from orders.use_cases import events
from orders.use_cases.queries import get_order
from orders.use_cases.shared import sourcing_for_more, with_fresh_stock
from planning.sourcing import Allocation, plan_reservations


def substitute(order_id: str, change: SubstitutionIn, now: str) -> Order:
    """Replace or drop a line of an order on hold, re-reserving at once; once nothing is missing the
    lifecycle is resumed with `reserve`, as an operator would. The same request again changes nothing."""
    source = f"operator:{change.actor}" if change.actor else "operator"

    def attempt() -> Order:
        """The order as it stands once the change is in (its shortages are what the answer turns on)."""
        current = order_table.get_order(order_id)
        if current is None:
            raise OrderNotFound(order_id)
        order = Order.model_validate(current)
        if current.get("last_substitution") == change.key():
            return order  # a repeat: nothing to change, but resume the lifecycle if the first try could not
        if order.status != "on_hold":
            raise InvalidTransition("substitutions apply only to orders on hold", status=order.status)
        if order.pending_event:
            raise OrderBusy("the order is still applying a previous event; retry shortly", status=order.status)
        lines = substitute_lines(order.lines, change)
        kept = [a for a in order.allocations if a.sku != change.sku]
        allocations = [*kept, *_reserve_replacement(order, change, kept)]
        remaining = [s for s in order.shortages if s.sku != change.sku]
        shortages = [s.model_dump() for s in remaining]
        note = "; ".join(filter(None, [change.describe(), change.note, describe_shortages(remaining)]))
        entry = timeline_entry(now, "on_hold", {"event": "substitute", "source": source, "note": note})
        changes = net_changes(order.allocations, allocations)
        substituted = order_table.Substituted(
            order_id=order_id,
            seen_at=order.updated_at,
            lines=[line.model_dump() for line in lines],
            total=order_total(lines),
            allocations=[a.model_dump() for a in allocations],
            shortages=shortages,
            substitution_key=change.key(),
            entry=entry,
            now=now,
        )
        committed = order_stock.substitute(
            substituted, changes, shortage_task_id(order_id), current.get("hold_expires_at")
        )
        if not committed:
            raise order_stock.StockMoved()  # the order changed since it was read: judge the request again
        count("OrderSubstitution")
        return order.model_copy(update={"shortages": remaining})

    changed = with_fresh_stock(attempt)
    if changed.status == "on_hold" and not changed.shortages:
        try:
            events.post_event(
                order_id, OrderEventIn(event="reserve", note=f"substitution: {change.describe()}"), source
            )
        except OrderBusy as busy:  # the lifecycle is not waiting yet (e.g. an order created a moment ago)
            raise OrderBusy(
                "the substitution is recorded; send the same request again to resume the order",
                status=busy.extra.get("status"),
            ) from None
    return get_order(order_id)


def _reserve_replacement(order: Order, change: SubstitutionIn, kept: list[Allocation]) -> list[Allocation]:
    """Where the new line is reserved, in full, or a 409 that says how much there is."""
    new = change.replacement
    if new is None:
        return []
    candidates, allow_split = sourcing_for_more(order, held={a.location_id for a in kept})
    available = stock_table.physical_available([new.sku], candidates)
    for a in order.allocations:  # units the old line gives back in the same transaction
        if a.sku == new.sku and (a.sku, a.location_id) in available:
            available[(a.sku, a.location_id)] += a.qty
    plan = plan_reservations({new.sku: new.qty}, candidates, available, allow_split=allow_split)
    if plan.shortages:
        raise InsufficientStock(
            f"only {new.qty - plan.shortages[0].missing} of {new.qty} x {new.sku} can be reserved for this order",
            sku=new.sku,
            wanted=new.qty,
            available=new.qty - plan.shortages[0].missing,
        )
    return plan.allocations
