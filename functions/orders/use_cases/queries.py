"""Reading orders, operator tasks and the order workflows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from common.clock import utc_text
from common.errors import OrderNotFound, Problem, Unprocessable
from orders.adapters import due_list, order_table, task_table
from orders.adapters.workflow_catalog import catalog
from orders.domain.models import Order, Task


def get_order(order_id: str) -> Order:
    order = order_table.get_order(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return Order.model_validate(order)


def list_orders(status: str | None, channel: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    page = order_table.list_orders(status, channel, limit, cursor)
    return {
        "items": [Order.model_validate(o).model_dump(mode="json") for o in page.items],
        "next_cursor": page.next_cursor,
    }


MAX_DUE_STATUSES = 10  # one Query each per page


def _due_problems(statuses: Sequence[str]) -> list[Problem]:
    """Only a status some workflow waits in has deadlines (a terminal one never does)."""
    if not statuses:
        return [Problem(("status",), "the due list needs status=S[,S2]", part="query")]
    if len(statuses) > MAX_DUE_STATUSES:
        return [Problem(("status",), f"at most {MAX_DUE_STATUSES} statuses", part="query")]
    flows = catalog().workflows.values()
    known = {name for flow in flows for name in flow.statuses}
    waiting = {name for flow in flows for name, s in flow.statuses.items() if not s.terminal}
    return [
        Problem(
            ("status", name), "no workflow has this status" if name not in known else "never due: terminal", "query"
        )
        for name in statuses
        if name not in waiting
    ]


def due_orders(
    statuses: Sequence[str], before: datetime, channel: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """The due list: orders in the statuses whose entry's deadline (a marketplace order's ship-by) is before
    `before`, soonest first, each with its `due_at`. Entries are checked against the orders as they are now: an
    order that has left the status since the SLA monitor listed it is left out (the monitor takes it off at its
    next run), so a page may hold fewer than `limit`. 422 for a status no workflow waits in."""
    wanted = list(dict.fromkeys(statuses))
    problems = _due_problems(wanted)
    if problems:
        raise Unprocessable(problems[0].msg, problems)
    page = due_list.due_before(wanted, utc_text(before), limit, cursor)
    orders = order_table.current_orders([entry["order_id"] for entry in page.items])
    items = [
        {**Order.model_validate(order).model_dump(mode="json"), "due_at": entry["due_at"]}
        for entry in page.items
        if (order := orders.get(entry["order_id"])) is not None
        and order["status"] == entry["status"]
        and (channel is None or order["channel"] == channel)
    ]
    return {"items": items, "next_cursor": page.next_cursor}


def list_tasks(state: str, limit: int, cursor: str | None) -> dict[str, Any]:
    page = task_table.list_tasks(state, limit, cursor)
    return {
        "items": [Task.model_validate(t).model_dump(mode="json") for t in page.items],
        "next_cursor": page.next_cursor,
    }


def task_queue(state: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """Tasks oldest first, the way operators work through them."""
    page = task_table.task_queue(state, limit, cursor)
    return {"items": [Task.model_validate(t) for t in page.items], "next_cursor": page.next_cursor}


def open_orders_by_status(channels: list[str]) -> list[dict[str, Any]]:
    """Orders at work (every status of every workflow but the terminal ones) per status and channel, the
    statuses in lifecycle order; what GET /v1/orders?status=&channel= pages through. Terminal statuses are
    left out: their partitions grow with history (the KPI figures count outcomes per day)."""
    statuses: list[str] = []
    for flow in catalog().workflows.values():
        statuses += [s for s in flow.statuses if s not in flow.terminal_statuses and s not in statuses]
    return [
        {"status": status, "channel": channel, "count": order_table.count_orders(status, channel)}
        for status in statuses
        for channel in channels
    ]


def list_workflows() -> dict[str, Any]:
    """The order lifecycles with their statuses, transitions and what each status does."""
    return {
        "items": [
            {
                "name": w.name,
                "description": w.description,
                "delivery_methods": [m.value for m in w.delivery_methods],
                "channels": w.channels,
                "initial_statuses": w.start_statuses(),
                "statuses": list(w.statuses),
                "terminal_statuses": w.terminal_statuses,
                "transitions": [
                    {"from": source, "event": event, "to": target}
                    for source, moves in w.transitions.items()
                    for event, target in moves.items()
                ],
                "cancellable_statuses": [name for name, s in w.statuses.items() if "cancel" in s.events],
                "status_details": [
                    {
                        "status": name,
                        "description": s.description,
                        "kpi_seconds": s.timeout_seconds() or None,
                        "deadline_from": s.deadline_from,
                        "on_timeout": None if s.terminal else s.on_timeout,
                        "stock": s.stock,
                        "payment": s.payment,
                        "actions": s.actions,
                    }
                    for name, s in w.statuses.items()
                ],
            }
            for w in catalog().workflows.values()
        ]
    }
