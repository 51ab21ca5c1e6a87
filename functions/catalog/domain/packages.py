"""A courier's packages for an order, from its lines and the catalog. Pure.

One package per order (CDEK's `packages[]` takes several, the hub packs an order in one box unless told
otherwise). Its weight is the sum of the units' weights (grams, as CDEK takes them); its size is the box
the units fit in stacked on their smallest side: the longest side of any unit, the widest middle side,
and the units' smallest sides added up. Dimensions go to CDEK in whole centimetres, rounded up so the box
is never declared smaller than it is. A SKU the catalog does not know is a permanent error naming every
such SKU: a guessed weight would be billed wrongly or refused at the counter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from catalog.domain.products import ProductIn
from common.errors import Problem, Unprocessable


class Line(Protocol):
    """What an order line gives: the SKU, the units and the price of one (orders' Line fits)."""

    @property
    def sku(self) -> str: ...

    @property
    def qty(self) -> int: ...

    @property
    def price(self) -> Decimal: ...


class ProductsMissing(Unprocessable):
    """Lines whose SKU the catalog does not hold: no package can be declared until the catalog has them."""

    def __init__(self, skus: Iterable[str]) -> None:
        self.skus = sorted(set(skus))
        super().__init__(
            f"the catalog has no weight and dimensions for {', '.join(self.skus)}: add them with PUT /v1/products",
            [Problem(("lines",), f"SKU {sku!r} is not in the catalog") for sku in self.skus],
            skus=self.skus,
        )


@dataclass(frozen=True)
class Unit:
    sku: str
    qty: int
    price: Decimal
    product: ProductIn


def _centimetres(millimetres: int) -> int:
    return math.ceil(millimetres / 10)


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def packages(
    order_id: str, lines: Iterable[Line], catalog: Mapping[str, ProductIn], *, cash_on_delivery: bool = False
) -> list[dict[str, Any]]:
    """CDEK's `packages` for the order (one package, `number` = `<order_id>-1`), or ProductsMissing.

    `cash_on_delivery`: the courier collects each unit's price from the recipient (`payment.value`);
    otherwise the order is paid and nothing is collected."""
    units: dict[str, Unit] = {}
    missing = []
    for line in lines:
        product = catalog.get(line.sku)
        if product is None:
            missing.append(line.sku)
            continue
        known = units.get(line.sku)
        units[line.sku] = Unit(line.sku, line.qty + (known.qty if known else 0), line.price, product)
    if missing:
        raise ProductsMissing(missing)
    if not units:
        raise Unprocessable("an order with no lines has no package", [Problem(("lines",), "no lines")])
    sides = {sku: sorted((u.product.length_mm, u.product.width_mm, u.product.height_mm)) for sku, u in units.items()}
    items = [
        {
            "name": unit.product.name,
            "ware_key": unit.sku,
            "payment": {"value": _money(unit.price) if cash_on_delivery else 0},
            "cost": _money(unit.price),
            "weight": unit.product.weight_grams,
            "amount": unit.qty,
        }
        for unit in units.values()
    ]
    return [
        {
            "number": f"{order_id}-1",
            "weight": sum(unit.product.weight_grams * unit.qty for unit in units.values()),
            "length": _centimetres(max(side[2] for side in sides.values())),
            "width": _centimetres(max(side[1] for side in sides.values())),
            "height": _centimetres(sum(sides[sku][0] * unit.qty for sku, unit in units.items())),
            "items": items,
        }
    ]
