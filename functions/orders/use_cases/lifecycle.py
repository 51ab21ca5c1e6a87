"""Stock steps of the order lifecycle (state machine tasks): reserve what an order on hold misses, consume
the reserved units, release them."""

from __future__ import annotations

from typing import Any

from common.observability import count
from inventory.adapters import stock_table
from orders.adapters import order_stock, order_table
from orders.adapters.order_table import StatusMove
from orders.adapters.workflow_catalog import workflow
from orders.domain.models import Order, StatusStep
from orders.domain.records import (
    describe_shortages,
    merge_allocations,
    shortage_task_id,
    timeline_entry,
)
from orders.use_cases.payments import refund_if_paid
from orders.use_cases.shared import promise_for, sourcing_for_more, with_fresh_stock
from planning.sourcing import plan_reservations
from reference import config_table


def retry_reservation(order_id: str, event: dict[str, Any], now: str) -> dict[str, str]:
    """Reserve what an on-hold order still misses; it becomes `reserved` once nothing is missing."""

    def attempt() -> dict[str, str]:
        order = order_table.get_order(order_id)
        if order is None or order["status"] != "on_hold":
            return {"status": order["status"] if order else "missing"}
        missing = {s["sku"]: s["missing"] for s in order["shortages"]}
        held = Order.model_validate(order)
        candidates, allow_split = sourcing_for_more(held)
        plan = plan_reservations(
            missing, candidates, stock_table.physical_available(missing, candidates), allow_split=allow_split
        )
        status = "on_hold" if plan.shortages else "reserved"
        entry = timeline_entry(now, status, {**event, "note": describe_shortages(plan.shortages) or event.get("note")})
        allocations = merge_allocations(order["allocations"], plan.allocations)
        promise = (
            None
            if plan.shortages
            else promise_for(
                held.delivery, list(dict.fromkeys(a["location_id"] for a in allocations)), config_table.locations(), now
            )
        )
        committed = order_stock.reserve_more(
            StatusMove(order_id, order["channel"], order["workflow"], status, ["on_hold"], entry, now),
            order_stock.MoreReserved(
                added=plan.allocations,
                allocations=allocations,
                shortages=[s.model_dump() for s in plan.shortages],
                promise=promise.model_dump(mode="json") if promise else None,
                hold_expires_at=order.get("hold_expires_at"),
                close_task=None if plan.shortages else shortage_task_id(order_id),
            ),
        )
        if committed:
            return {"status": status}
        current = order_table.get_order(order_id)  # another step moved it meanwhile: report where it is
        return {"status": current["status"] if current else "missing"}

    return with_fresh_stock(attempt)


def consume(step: StatusStep) -> dict[str, str]:
    """Into a status that takes the reserved units out of on-hand (shipped, collected, sold). A waiting
    status gets the task token in the same write."""

    def attempt() -> dict[str, str]:
        done = order_stock.consume(_move(step, "consume"), step.task_token)
        if not done and step.task_token:  # a retry of a step that already ran: just hand over the new token
            order_table.set_task_token(step.order_id, step.task_token, step.status)
        return {"status": step.status}

    result = with_fresh_stock(attempt)
    count(f"OrderEntered_{step.status}")
    return result


def release(step: StatusStep) -> dict[str, str]:
    """Into a status that gives every held unit back to free stock (cancelled, expired, returned_to_stock);
    an open shortage task is closed, and a paid order is refunded."""

    def attempt() -> dict[str, Any]:
        order = order_table.get_order(step.order_id)
        if order is None or order["status"] == step.status:
            return order or {}
        order_stock.release(_move(step, "release"), shortage_task_id(step.order_id) if order["shortages"] else None)
        return order_table.get_order(step.order_id) or {}

    order = with_fresh_stock(attempt)
    if order:  # after the stock: a retried step that already released still refunds
        refund_if_paid(Order.model_validate(order), step.now)
    count(f"OrderEntered_{step.status}")
    return {"status": order.get("status", "missing")}


def _move(step: StatusStep, stock: str) -> StatusMove:
    """The order's write for the step: from the statuses of its workflow whose move into it has this stock effect."""
    expect = workflow(step.workflow).sources_of(stock)
    return StatusMove(
        step.order_id,
        step.channel,
        step.workflow,
        step.status,
        expect,
        timeline_entry(step.now, step.status, step.event),
        step.now,
    )
