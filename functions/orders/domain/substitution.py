"""An operator's substitution on an order on hold: replace a line's SKU/quantity, or drop the line. Pure.

The line is named by its current SKU. The old line's reservations are given back and the new line is
reserved in full in the same transaction; the stock rows both touch get one net change each
(DynamoDB allows one operation per item in a transaction).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from common.errors import Problem, Unprocessable
from common.models import FREE_TEXT, Sku
from common.quantities import sum_by
from orders.domain.models import Line, Money, check_total
from planning.cart import Qty
from planning.sourcing import Allocation


class Replacement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    qty: Qty
    price: Money | None = Field(None, description="Unit price of the new line; the old line's price if omitted.")


class SubstitutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku = Field(description="The SKU of the line to change.")
    replacement: Replacement | None = Field(None, description="The new line; omitted or null drops the line.")
    note: str | None = Field(
        None, max_length=500, pattern=FREE_TEXT, description="E.g. what the customer agreed to on the phone."
    )
    actor: str | None = Field(
        None, max_length=64, pattern=r"^[A-Za-z0-9_.@:-]+$", description="Operator id, recorded in the timeline."
    )

    def key(self) -> str:
        """What the substitution asks for (not who or why): a repeat of the last one changes nothing."""
        wanted = self.model_dump(mode="json", include={"sku", "replacement"})
        return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()[:16]

    def describe(self) -> str:
        if self.replacement is None:
            return f"dropped line {self.sku}"
        return f"line {self.sku} -> {self.replacement.sku} x{self.replacement.qty}"


def substitute_lines(lines: Sequence[Line], change: SubstitutionIn) -> list[Line]:
    """The order's lines after the change; 422 when the change does not fit the order."""

    def invalid(message: str, field: tuple[str, ...]) -> Unprocessable:
        return Unprocessable(message, [Problem(field, message)])

    positions = [i for i, line in enumerate(lines) if line.sku == change.sku]
    if len(positions) != 1:
        raise invalid(
            f"the order has {'no' if not positions else 'more than one'} line with SKU {change.sku!r}", ("sku",)
        )
    at = positions[0]
    if change.replacement is None:
        if len(lines) == 1:
            raise invalid("cannot drop the order's only line; cancel the order instead", ("replacement",))
        return [line for i, line in enumerate(lines) if i != at]
    new = change.replacement
    if new.sku != change.sku and any(line.sku == new.sku for line in lines):
        raise invalid(f"SKU {new.sku!r} is already on another line; change that line instead", ("replacement", "sku"))
    old = lines[at]
    replaced = Line(sku=new.sku, qty=new.qty, price=old.price if new.price is None else new.price)
    changed = [replaced if i == at else line for i, line in enumerate(lines)]
    try:
        check_total(changed)  # the order is read back with Money: its total must stay storable
    except ValueError as too_much:
        raise invalid(str(too_much), ("replacement",)) from None
    return changed


@dataclass(frozen=True)
class StockChange:
    """A net change of one (SKU, location) reservation: positive reserves more, negative gives back."""

    sku: str
    location_id: str
    delta: int
    held_after: int


def net_changes(before: Sequence[Allocation], after: Sequence[Allocation]) -> list[StockChange]:
    def totals(allocations: Sequence[Allocation]) -> dict[tuple[str, str], int]:
        return sum_by(((a.sku, a.location_id), a.qty) for a in allocations)

    old, new = totals(before), totals(after)
    return [
        StockChange(sku, loc, new.get((sku, loc), 0) - old.get((sku, loc), 0), new.get((sku, loc), 0))
        for sku, loc in dict.fromkeys([*old, *new])
        if new.get((sku, loc), 0) != old.get((sku, loc), 0)
    ]
