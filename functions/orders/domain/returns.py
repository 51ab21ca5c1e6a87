"""Returns: which units of an order may come back, and the record of a return. Pure.

A return is accepted once the order's goods have left stock (a status that consumed them was entered)
and its lifecycle has ended, so it never races a step of the state machine. Full and partial returns
are the same path: the units returned so far plus these may not exceed what was bought.
"""

from __future__ import annotations

from typing import Any

from common.errors import Conflict, Problem, Unprocessable
from common.quantities import sum_by
from orders.domain.models import ReturnIn
from orders.domain.workflow import Workflow


def returnable(order: dict[str, Any]) -> dict[str, int]:
    """Units per SKU bought and not returned yet."""
    left = sum_by((line["sku"], line["qty"]) for line in order["lines"])
    for past in order.get("returns") or []:
        for line in past["lines"]:
            left[line["sku"]] -= line["qty"]
    return left


def may_return(order: dict[str, Any], flow: Workflow) -> bool:
    """Whether the order's goods have left stock and its lifecycle has ended."""
    consumed = {name for name, s in flow.statuses.items() if s.stock == "consume"}
    return order["status"] in flow.terminal_statuses and bool(consumed & {t["status"] for t in order["timeline"]})


def check_return(order: dict[str, Any], flow: Workflow, request: ReturnIn) -> None:
    """Raise why this return cannot be accepted; nothing when it can."""
    if not may_return(order, flow):
        raise Conflict(
            f"an order in status {order['status']!r} has nothing to return: its goods have not "
            "left stock, or its lifecycle has not ended",
            status=order["status"],
        )
    left = returnable(order)
    wanted = sum_by((line.sku, line.qty) for line in request.lines)
    problems = [
        Problem(("lines", i, "qty"), f"at most {max(left.get(line.sku, 0), 0)} left to return")
        for i, line in enumerate(request.lines)
        if wanted[line.sku] > left.get(line.sku, 0)
    ]
    if problems:
        raise Unprocessable("more units than the order has left to return", problems)


def describe(request: ReturnIn) -> str:
    return f"{request.reason}: " + ", ".join(f"{line.sku} x{line.qty}" for line in request.lines)
