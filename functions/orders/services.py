"""Order use cases: read what is needed, let the domain decide, write it in one go."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tenacity import (RetryError, Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay,
                      wait_fixed, wait_random_exponential)

from common import reference
from common.errors import Conflict, NotFound, OrderBusy, StockContention, Unprocessable
from common.observability import count, logger
from inventory.adapters import stock_table
from orders.adapters import lifecycle_engine, order_table
from orders.domain.models import Order, OrderEventIn, OrderIn, Task
from orders.domain.records import (describe_shortages, execution_input, merge_allocations, new_order,
                                   shortage_task, shortage_task_id, status_fields, timeline_entry)
from orders.domain.sourcing import candidate_locations, plan_reservations
from orders.domain.workflow import LIFECYCLE_FAILED, WORKFLOWS

T = TypeVar("T")

CANCELLABLE = sorted(status for status, moves in WORKFLOWS["courier"].transitions.items() if "cancel" in moves)


def _with_fresh_stock(attempt: Callable[[], T]) -> T:
    """Re-read and re-plan when stock moved under us; contention that outlasts a few tries is a 503."""
    try:
        for step in Retrying(retry=retry_if_exception_type(order_table.StockMoved), stop=stop_after_attempt(8),
                             wait=wait_random_exponential(multiplier=0.01, max=0.2)):
            with step:
                return attempt()
    except RetryError:
        count("StockContention")
        raise StockContention("stock is changing too fast to reserve; retry the request") from None
    raise AssertionError("unreachable")


# ------------------------------------------------------------------ intake

def accept_order(order_in: OrderIn, now: str) -> tuple[Order, bool]:
    """Create the order with its reservations, or return the one this (channel, external_id) already made."""
    if reference.channel(order_in.channel) is None:
        raise Unprocessable(f"unknown channel {order_in.channel!r}",
                            details=[{"loc": ["body", "channel"], "msg": "unknown channel"}])
    locations = reference.locations()
    chosen = order_in.delivery.location_id
    if chosen is not None and chosen not in locations:
        raise Unprocessable(f"unknown location {chosen!r}",
                            details=[{"loc": ["body", "delivery", "location_id"], "msg": "unknown location"}])
    candidates = candidate_locations(locations, order_in.delivery.method, chosen)
    wanted = order_in.quantities()

    def attempt() -> dict[str, Any]:
        plan = plan_reservations(wanted, candidates, stock_table.physical_available(wanted, candidates))
        order = new_order(order_in, plan, now)
        order_table.create_order(order, plan.allocations, shortage_task(order, now) if plan.shortages else None, now)
        return order

    try:
        order = _with_fresh_stock(attempt)
    except order_table.DuplicateOrder as duplicate:
        existing = duplicate.existing
        _restart_if_lost(existing)
        count("OrderDuplicate")
        return Order.model_validate(existing), False
    lifecycle_engine.start(order["order_id"], execution_input(order))
    count("OrderCreated")
    if order["shortages"]:
        count("OrderOnHold")
    logger.info("order accepted", extra={"order_id": order["order_id"], "channel": order["channel"],
                                         "status": order["status"], "lines": len(order["lines"])})
    return Order.model_validate(order), True


def _restart_if_lost(order: dict[str, Any]) -> None:
    """A first attempt that crashed between its write and StartExecution left an order with no lifecycle;
    its retry starts it (same name and input: Step Functions keeps one execution)."""
    if len(order["timeline"]) == 1 and not order.get("task_token") and not order.get("pending_event"):
        lifecycle_engine.start(order["order_id"], execution_input(order))


# ------------------------------------------------------------------ queries

def get_order(order_id: str) -> Order:
    order = order_table.get_order(order_id)
    if order is None:
        raise NotFound(f"order {order_id!r} does not exist", order_id=order_id)
    return Order.model_validate(order)


def list_orders(status: str | None, channel: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    page = order_table.list_orders(status, channel, limit, cursor)
    return {"items": [Order.model_validate(o).model_dump(mode="json") for o in page.items],
            "next_cursor": page.next_cursor}


# ------------------------------------------------------------------ operator events

class _NotReady(Exception):
    """The lifecycle has not reached its next wait yet, or another event took the token first."""


def _poll(read: Callable[[], T], seconds: float = 3) -> T:
    """Call `read` until it stops raising _NotReady, for a few seconds at most."""
    for step in Retrying(retry=retry_if_exception_type(_NotReady), stop=stop_after_delay(seconds),
                         wait=wait_fixed(0.05), reraise=True):
        with step:
            return read()
    raise AssertionError("unreachable")


def post_event(order_id: str, event_in: OrderEventIn, source: str) -> dict[str, Any]:
    """Validate the event against the order's workflow and resume its execution with it."""
    def attempt() -> dict[str, Any]:
        order = order_table.get_order(order_id)
        if order is None:
            raise NotFound(f"order {order_id!r} does not exist", order_id=order_id)
        status = order["status"]
        if order.get("pending_event"):
            raise _NotReady(status)  # judge the event against the status the previous one leads to
        workflow = WORKFLOWS[order["workflow"]]
        recovering = order.get("attention") == LIFECYCLE_FAILED
        next_status = workflow.next_status(status, event_in.event, recovering=recovering)
        token = order.get("task_token")
        if not token or not order_table.claim_token(order_id, token, status, event_in.event):
            raise _NotReady(status)
        try:
            lifecycle_engine.resume(token, {"event": event_in.event, "source": source, "note": event_in.note or ""})
        except lifecycle_engine.TaskGone:
            _applied_anyway(order_id, next_status)
        except Exception:
            order_table.return_token(order_id, token, status)
            raise
        return {"order_id": order_id, "event": event_in.event, "status": status, "next_status": next_status}

    # Events sent back to back (confirm, then pick) wait here for the lifecycle to reach its next step.
    try:
        accepted = _poll(attempt)
    except _NotReady as busy:
        raise OrderBusy("the order is still applying a previous event; retry shortly", status=busy.args[0]) from None
    count(f"OrderEvent_{event_in.event}")
    logger.info("order event accepted", extra={"order_id": order_id, "event": event_in.event,
                                               "next_status": accepted["next_status"]})
    return accepted


def _applied_anyway(order_id: str, next_status: str) -> None:
    """The token was gone: either an SDK retry of a SendTaskSuccess that did go through, or the step
    ended first (its deadline passed). The lifecycle settles the order either way; tell which."""
    def settled() -> dict[str, Any]:
        order = order_table.get_order(order_id) or {}
        if order.get("pending_event"):
            raise _NotReady(order.get("status"))
        return order

    try:
        order = _poll(settled)
    except _NotReady:
        order = {}
    if order.get("status") != next_status:
        raise Conflict("the order's step ended before this event arrived (its deadline passed); reload it",
                       status=order.get("status"))


def move_ship_by(order_id: str, ship_by: str, source: str, now: str) -> None:
    """The channel moved the hand-over deadline: the order's SLA deadline follows it."""
    order = order_table.get_order(order_id)
    if order is None:
        raise NotFound(f"order {order_id!r} does not exist", order_id=order_id)
    entry = timeline_entry(now, order["status"], {"event": "ship_by_changed", "source": source,
                                                  "note": f"ship by {ship_by}"})
    if not order_table.set_ship_by(order_id, ship_by, entry):
        raise NotFound(f"order {order_id!r} does not exist", order_id=order_id)
    count("OrderShipByMoved")


def list_tasks(state: str, limit: int, cursor: str | None) -> dict[str, Any]:
    page = order_table.list_tasks(state, limit, cursor)
    return {"items": [Task.model_validate(t).model_dump(mode="json") for t in page.items],
            "next_cursor": page.next_cursor}


# ------------------------------------------------------------------ lifecycle steps (state machine tasks)

def retry_reservation(order_id: str, event: dict[str, Any], now: str) -> dict[str, str]:
    """Reserve what an on-hold order still misses; it becomes `reserved` once nothing is missing."""
    def attempt() -> dict[str, str]:
        order = order_table.get_order(order_id)
        if order is None or order["status"] != "on_hold":
            return {"status": order["status"] if order else "missing"}
        missing = {s["sku"]: s["missing"] for s in order["shortages"]}
        candidates = candidate_locations(reference.locations(), Order.model_validate(order).delivery.method,
                                         order["delivery"].get("location_id"))
        plan = plan_reservations(missing, candidates, stock_table.physical_available(missing, candidates))
        status = "on_hold" if plan.shortages else "reserved"
        entry = timeline_entry(now, status, {**event, "note": describe_shortages(plan.shortages) or event.get("note")})
        committed = order_table.add_reservations(
            order_id, plan.allocations, expect="on_hold", now=now, timeline_entry=entry,
            set_fields={**status_fields(order["channel"], status, now),
                        "allocations": merge_allocations(order["allocations"], plan.allocations),
                        "shortages": [s.model_dump() for s in plan.shortages]},
            close_task=None if plan.shortages else shortage_task_id(order_id))
        return {"status": status if committed else order_table.get_order(order_id)["status"]}

    return _with_fresh_stock(attempt)


def ship(order_id: str, channel: str, event: dict[str, Any], task_token: str, now: str) -> dict[str, str]:
    """Packed -> shipped: the reserved units leave on-hand; the token waits for delivery."""
    def attempt() -> dict[str, str]:
        done = order_table.finish_reservations(
            order_id, "consumed", expect=["packed"], now=now, timeline_entry=timeline_entry(now, "shipped", event),
            set_fields={**status_fields(channel, "shipped", now), "task_token": task_token},
            remove=["pending_event"])
        if not done:  # a retry of a step that already ran: just hand over the new token
            order_table.set_task_token(order_id, task_token, "shipped")
        return {"status": "shipped"}

    result = _with_fresh_stock(attempt)
    count("OrderShipped")
    return result


def cancel(order_id: str, channel: str, event: dict[str, Any], now: str) -> dict[str, str]:
    """Before shipment: every held unit goes back to free stock, and an open shortage task is closed."""
    def attempt() -> dict[str, str]:
        order = order_table.get_order(order_id)
        if order is None or order["status"] == "cancelled":
            return {"status": "cancelled"}
        order_table.finish_reservations(
            order_id, "released", expect=CANCELLABLE, now=now,
            timeline_entry=timeline_entry(now, "cancelled", event),
            set_fields=status_fields(channel, "cancelled", now),
            remove=["task_token", "pending_event", "attention", "last_error"],
            close_task=shortage_task_id(order_id) if order["shortages"] else None)
        return {"status": order_table.get_order(order_id)["status"]}

    result = _with_fresh_stock(attempt)
    count("OrderCancelled")
    return result
