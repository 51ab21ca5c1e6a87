"""Inventory use cases: glue between the HTTP handlers, the pure rules and the stock table."""

from __future__ import annotations

from common import reference
from common.errors import Unprocessable
from common.observability import count
from inventory.adapters import stock_table
from inventory.domain.availability import SkuAvailability, availability
from inventory.domain.stock_changes import StockLineError, StockMode, StockUpdate, StockUpdateResult


def apply_stock_update(location_id: str, update: StockUpdate, now: str) -> StockUpdateResult:
    """Apply every line on its own: one line that would break `on_hand >= reserved` is reported, the rest land."""
    errors: list[StockLineError] = []
    for line in update.items:
        if update.mode is StockMode.snapshot:
            reserved = stock_table.set_on_hand(line.sku, location_id, line.on_hand, now)
            if reserved is not None:
                errors.append(StockLineError(sku=line.sku, error="below_reserved",
                                             message=f"on_hand {line.on_hand} is below the {reserved} units reserved"))
        else:
            free = stock_table.add_on_hand(line.sku, location_id, line.on_hand, now)
            if free is not None:
                errors.append(StockLineError(sku=line.sku, error="below_reserved",
                                             message=f"removing {-line.on_hand} units but only {free} are not reserved"))
    updated = len(update.items) - len(errors)
    count("StockLinesUpdated", updated)
    if errors:
        count("StockLinesRejected", len(errors))
    return StockUpdateResult(updated=updated, errors=errors)


def channel_availability(channel_id: str, skus: list[str]) -> list[SkuAvailability]:
    channel = reference.channel(channel_id)
    if channel is None:
        raise Unprocessable(f"unknown channel {channel_id!r}",
                            details=[{"loc": ["query", "channel"], "msg": "unknown channel"}])
    active = [loc.location_id for loc in reference.locations().values() if loc.active]
    return availability(skus, stock_table.physical_available(skus, active), active, channel.rules)
