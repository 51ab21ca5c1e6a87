"""How an order is recorded: pure functions from the request, the plan and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from common.clock import utc_moment, utc_text
from common.quantities import sum_by
from orders.domain.loyalty import new_record
from orders.domain.models import OrderIn
from orders.domain.workflow import AWAITING_PAYMENT, Workflow
from planning.promise import Promise
from planning.sourcing import Allocation, ReservationPlan, Shortage
from reference.models import DeliveryMethod


def timeline_entry(at: str, status: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": at,
        "status": status,
        "event": event.get("event", ""),
        "source": event.get("source", ""),
        "note": event.get("note") or "",
    }


def status_fields(channel: str, workflow: str, status: str, now: str) -> dict[str, str]:
    """What every status entry writes. `channel_status` keys the ByChannelStatus list index; `status_since`
    starts the entry's SLA clock, and `sla_lane` + `sla_next_at` (now) put the order on the BySlaCheck index,
    so the SLA monitor plans the entry at its next run (the ASL's status writes do the same)."""
    return {
        "status": status,
        "channel_status": f"{channel}#{status}",
        "updated_at": now,
        "status_since": now,
        "sla_lane": workflow,
        "sla_next_at": now,
    }


# What an entry removes: the SLA tiers the monitor fired for the previous entry.
ENTRY_CLEARS = ("sla_fired",)


def merge_allocations(current: list[dict[str, Any]], added: list[Allocation]) -> list[dict[str, Any]]:
    merged = sum_by(
        ((allocation["sku"], allocation["location_id"]), allocation["qty"])
        for allocation in [*current, *(a.model_dump() for a in added)]
    )
    return [{"sku": sku, "location_id": loc, "qty": qty} for (sku, loc), qty in merged.items()]


def describe_shortages(shortages: list[Shortage]) -> str:
    return "missing " + ", ".join(f"{s.sku} x{s.missing}" for s in shortages) if shortages else ""


def hold_expiry(order_in: OrderIn, now: str, hold_hours: int | None) -> str | None:
    """When the order's reservations expire: the time it asked for, else the location's hold for reserve in store."""
    if order_in.hold_until is not None:
        return utc_text(order_in.hold_until)
    if order_in.delivery.method is DeliveryMethod.reserve_in_store and hold_hours:
        return utc_text(utc_moment(now) + timedelta(hours=hold_hours))
    return None


@dataclass(frozen=True)
class Placement:
    """Where intake placed the order's units: the reservation plan, why (in words for the timeline), and
    the delivery promise (none while units are missing)."""

    plan: ReservationPlan
    reason: str
    promise: Promise | None


def new_order(
    order_in: OrderIn,
    flow: Workflow,
    placement: Placement,
    now: str,
    hold_hours: int | None = None,
    *,
    source: str | None = None,
) -> dict[str, Any]:
    plan, reason, promise = placement.plan, placement.reason, placement.promise
    order_id = order_in.order_id()
    status = "on_hold" if plan.shortages else AWAITING_PAYMENT if order_in.payment.status == "pending" else "reserved"
    note = "; ".join(filter(None, [f"sourced: {reason}", describe_shortages(plan.shortages)]))
    created = {"event": "create", "source": source or f"channel:{order_in.channel}", "note": note}
    return {
        "entity": "order",
        "order_id": order_id,
        "channel": order_in.channel,
        "external_id": order_in.external_id,
        **status_fields(order_in.channel, flow.name, status, now),
        "workflow": flow.name,
        "customer": order_in.customer.model_dump(exclude_none=True),
        "lines": [line.model_dump() for line in order_in.lines],
        "delivery": order_in.delivery.model_dump(mode="json", exclude_none=True),
        "payment": order_in.payment.model_dump(mode="json"),
        "total": order_in.total(),
        "allocations": [a.model_dump() for a in plan.allocations],
        "shortages": [s.model_dump() for s in plan.shortages],
        "timeline": [timeline_entry(now, status, created)],
        "ship_by": utc_text(order_in.ship_by) if order_in.ship_by else None,
        "hold_expires_at": hold_expiry(order_in, now, hold_hours),
        "sourcing": {"locations": plan.locations(), "rule": plan.rule.value, "reason": reason},
        "promise": promise.model_dump(mode="json") if promise else None,
        "loyalty": (
            new_record(order_in.loyalty, ((line.sku, line.qty, line.price) for line in order_in.lines))
            if order_in.loyalty
            else None
        ),
        "created_at": now,
        "created_key": f"{now}#{order_id}",
    }


def shortage_task(order: dict[str, Any], now: str) -> dict[str, Any]:
    """The operator's to-do for an order that could not be fully reserved: call the customer."""
    return {
        "task_id": shortage_task_id(order["order_id"]),
        "kind": "stock_shortage",
        "state": "open",
        "order_id": order["order_id"],
        "channel": order["channel"],
        "shortages": order["shortages"],
        "created_at": now,
        "created_key": f"{now}#{order['order_id']}",
    }


def shortage_task_id(order_id: str) -> str:
    return f"shortage#{order_id}"


def execution_input(order: dict[str, Any], flow: Workflow) -> dict[str, Any]:
    """Built only from what never changes on the order, so a repeated start sends the same input.

    Statuses whose deadline is the order's own (ship_by) get it in seconds."""
    started = {"order_id": order["order_id"], "channel": order["channel"], "status": order["timeline"][0]["status"]}
    deadlines = flow.deadlines(order.get("ship_by"), order["created_at"])
    if deadlines:
        started["deadlines"] = deadlines
    return started
