"""What a courier shipment needs from the catalog (the order actions call it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog.adapters import product_table
from catalog.domain.packages import Line, packages


def packages_for(order_id: str, lines: Sequence[Line], *, cash_on_delivery: bool = False) -> list[dict[str, Any]]:
    """CDEK's `packages` for the order's lines (catalog.domain.packages: one package, weights and sizes
    from the catalog), or ProductsMissing naming each SKU the catalog lacks (a permanent failure: the
    same call fails until the catalog has them). One BatchGetItem per 100 SKUs."""
    catalog = product_table.products(line.sku for line in lines)
    return packages(order_id, lines, catalog, cash_on_delivery=cash_on_delivery)
