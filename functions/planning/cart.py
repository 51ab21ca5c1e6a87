"""A cart: the lines an order or a delivery-promise request wants, and their bounds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from common.models import Sku
from common.quantities import sum_by

# One order, 2 contact lookups, 2 items per reserved line and 1 task must fit TransactWriteItems' 100 items
MAX_CART_LINES = 40
MAX_QTY = 10_000
Qty = Annotated[StrictInt, Field(ge=1, le=MAX_QTY)]  # a JSON integer: true, "1" and 1.0 are refused


class CartLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    qty: Qty


def quantities(lines: Sequence[CartLine]) -> dict[str, int]:
    """Units wanted per SKU (one SKU on two lines is reserved once)."""
    return sum_by((line.sku, line.qty) for line in lines)
