"""Order intake: a new order with its reservations, once per (channel, external_id)."""

from __future__ import annotations

from typing import Any

from common.errors import Problem, Unprocessable
from common.observability import count, logger
from inventory.adapters import stock_table
from orders.adapters import lifecycle_engine, order_stock
from orders.adapters.workflow_catalog import workflow, workflow_for
from orders.domain.models import Order, OrderIn
from orders.domain.records import Placement, execution_input, new_order, shortage_task
from orders.domain.workflow import AWAITING_PAYMENT
from orders.use_cases.shared import promise_for, with_fresh_stock
from planning.sourcing import explain, plan_reservations, rank_candidates
from reference.lookup import known_references


def accept_order(order_in: OrderIn, now: str, source: str | None = None) -> tuple[Order, bool]:
    """Create the order with its reservations, or return the one this (channel, external_id) already made.
    `source` names who took it on the timeline (an operator taking it by phone); else its channel."""
    chosen = order_in.delivery.location_id
    channel, locations = known_references(order_in.channel, chosen, ("delivery", "location_id"))
    flow = workflow_for(order_in.delivery.method, order_in.channel)
    if order_in.payment.status == "pending" and AWAITING_PAYMENT not in flow.statuses:
        raise Unprocessable(
            f"{order_in.delivery.method.value} orders cannot wait for a payment",
            [Problem(("payment", "status"), "no payment wait in this workflow")],
        )
    ranked = rank_candidates(locations, order_in.delivery.method, chosen, order_in.delivery.destination())
    candidates = [c.location_id for c in ranked]
    wanted = order_in.quantities()

    def attempt() -> dict[str, Any]:
        free = stock_table.physical_available(wanted, candidates)
        plan = plan_reservations(wanted, candidates, free, allow_split=channel.allow_split)
        placement = Placement(
            plan,
            explain(plan, ranked, channel.channel_id),
            None if plan.shortages else promise_for(order_in.delivery, plan.locations(), locations, now),
        )
        order = new_order(
            order_in, flow, placement, now, locations[chosen].hold_hours if chosen else None, source=source
        )
        order_stock.create_order(order, plan.allocations, shortage_task(order, now) if plan.shortages else None, now)
        return order

    try:
        order = with_fresh_stock(attempt)
    except order_stock.DuplicateOrder as duplicate:
        existing = duplicate.existing
        _restart_if_lost(existing)
        count("OrderDuplicate")
        return Order.model_validate(existing), False
    lifecycle_engine.start(flow.name, order["order_id"], execution_input(order, flow))
    count("OrderCreated")
    if order["shortages"]:
        count("OrderOnHold")
    logger.info(
        "order accepted",
        extra={
            "order_id": order["order_id"],
            "channel": order["channel"],
            "status": order["status"],
            "lines": len(order["lines"]),
        },
    )
    return Order.model_validate(order), True


def _restart_if_lost(order: dict[str, Any]) -> None:
    """A first attempt that crashed between its write and StartExecution left an order with no lifecycle;
    its retry starts it (same name and input: Step Functions keeps one execution)."""
    if len(order["timeline"]) == 1 and not order.get("task_token") and not order.get("pending_event"):
        flow = workflow(order["workflow"])
        lifecycle_engine.start(flow.name, order["order_id"], execution_input(order, flow))
