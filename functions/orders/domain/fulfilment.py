"""Partial fulfilment: units found missing at picking leave the order, and the rest carries on. Pure.

The missing units are written off where they were reserved (the stock record was wrong: they are not
on the shelf), the order's lines, allocations and total shrink, and its lifecycle continues unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from common.errors import Conflict, Problem, Unprocessable
from common.quantities import sum_by
from orders.domain.models import ShortPickIn
from orders.domain.workflow import Workflow


@dataclass(frozen=True)
class ShortPick:
    lines: list[dict[str, Any]]
    allocations: list[dict[str, Any]]
    total: Decimal
    written_off: dict[str, int]  # sku -> units at request.location_id


def plan_short_pick(order: dict[str, Any], flow: Workflow, request: ShortPickIn) -> ShortPick:
    if not flow.statuses[order["status"]].short_pick:
        raise Conflict(f"units cannot be reported missing in status {order['status']!r}", status=order["status"])
    missing = sum_by((line.sku, line.missing) for line in request.lines)
    held = {a["sku"]: a["qty"] for a in order["allocations"] if a["location_id"] == request.location_id}
    problems = [
        Problem(
            ("lines", i, "missing"), f"{request.location_id} holds {held.get(line.sku, 0)} of {line.sku} for this order"
        )
        for i, line in enumerate(request.lines)
        if missing[line.sku] > held.get(line.sku, 0)
    ]
    if problems:
        raise Unprocessable("more units missing than the location holds for the order", problems)
    lines: list[dict[str, Any]] = []
    left = dict(missing)
    for line in reversed(order["lines"]):  # the last lines give up their units first
        taken = min(line["qty"], left.get(line["sku"], 0))
        left[line["sku"]] = left.get(line["sku"], 0) - taken
        if line["qty"] > taken:
            lines.insert(0, {**line, "qty": line["qty"] - taken})
    if not lines:
        raise Unprocessable(
            "every unit would be missing: cancel the order instead",
            [Problem(("lines",), "nothing would be left to fulfil")],
        )
    allocations = [
        {**a, "qty": a["qty"] - missing.get(a["sku"], 0)} if a["location_id"] == request.location_id else a
        for a in order["allocations"]
    ]
    total = sum((Decimal(str(line["price"])) * line["qty"] for line in lines), start=Decimal(0))
    return ShortPick(
        lines=lines, allocations=[a for a in allocations if a["qty"] > 0], total=total, written_off=missing
    )


def describe(request: ShortPickIn) -> str:
    found = ", ".join(f"{line.sku} x{line.missing}" for line in request.lines)
    return f"missing at {request.location_id}: {found}" + (f" ({request.note})" if request.note else "")
