"""A store's own stock: what its staff look up by SKU or by product name (the admin page's store stock)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from catalog.use_cases.products import find_products
from common.models import Sku
from inventory.adapters.stock_table import StockLevel, stock_levels

_SKU = TypeAdapter(Sku)


@dataclass(frozen=True)
class StockLine:
    sku: str
    name: str | None  # None: the SKU is stocked but not in the catalog
    location_id: str
    on_hand: int
    reserved: int
    available: int


def stock_at(text: str, location_ids: Collection[str], limit: int) -> list[StockLine]:
    """The SKU typed, and the catalog's products matching it, at each of `location_ids` (zero where a location
    has no record of one), up to `limit` SKUs; a SKU the catalog lacks shows only if one of them stocks it."""
    names = {p.sku: p.name for p in find_products(text, limit)}
    try:
        typed = [_SKU.validate_python(text.strip())]
    except ValidationError:  # not a SKU (a name with a space, say): the catalog's matches only
        typed = []
    wanted = list(dict.fromkeys([*typed, *names]))
    levels = stock_levels(wanted, location_ids)
    shown = [sku for sku in wanted if sku in names or any((sku, loc) in levels for loc in location_ids)][:limit]
    lines = []
    for sku in shown:
        for location_id in sorted(location_ids):
            level = levels.get((sku, location_id), StockLevel(0, 0, 0))
            lines.append(StockLine(sku, names.get(sku), location_id, level.on_hand, level.reserved, level.available))
    return lines
