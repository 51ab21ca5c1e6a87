"""Availability rules: what a channel may sell from the physical stock. Pure.

The rules apply in this order (docs/inventory.md):
1. locations: a paused location, or one the channel excludes, offers nothing;
2. per location: of the free units (`available`, see inventory.ledger; never below 0) the safety
   stock is kept back; of the rest, the share is offered, rounded down. Safety stock and share come
   from the SKU's override, else the location's override, else the channel;
3. per SKU: the allocation cap (max_units, max_share of the free units at the channel's locations,
   rounded down; the lower wins) trims the total, taking first from the locations that offer least;
4. per SKU: a total below the minimum presentable quantity offers nothing at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from reference.models import ChannelRules


@dataclass(frozen=True)
class StockRow:
    """What availability needs of one SKU x location record."""

    available: int  # the units not reserved (inventory.ledger keeps it)
    expected_at: date | None = None


class LocationAvailability(BaseModel):
    location_id: str
    available: int
    expected_at: date | None = None


class SkuAvailability(BaseModel):
    sku: str
    available: int
    locations: list[LocationAvailability]
    expected_at: date | None = None  # when nothing is offered: the earliest expected arrival


def offered(available: int, rules: ChannelRules, sku: str | None = None, location_id: str | None = None) -> int:
    """Units one location offers (steps 1-2); never negative."""
    if location_id is not None and location_id in rules.excluded_locations:
        return 0
    sku_rules = rules.skus.get(sku) if sku is not None else None
    location_rules = rules.locations.get(location_id) if location_id is not None else None
    safety, share = rules.safety_stock, rules.stock_share
    for override in (location_rules, sku_rules):  # the more specific one wins
        if override is not None:
            safety = safety if override.safety_stock is None else override.safety_stock
            share = share if override.stock_share is None else override.stock_share
    after_safety = max(available - safety, 0)
    # Decimal(str(...)): 100 * 0.29 must offer 29, not 28.999... rounded down to 28.
    return math.floor(after_safety * Decimal(str(share)))


def _cap(sku: str, free_total: int, rules: ChannelRules) -> int | None:
    sku_rules = rules.skus.get(sku)
    max_units = sku_rules.max_units if sku_rules and sku_rules.max_units is not None else rules.max_units
    max_share = sku_rules.max_share if sku_rules and sku_rules.max_share is not None else rules.max_share
    caps = [
        c
        for c in (max_units, None if max_share is None else math.floor(free_total * Decimal(str(max_share))))
        if c is not None
    ]
    return min(caps) if caps else None


def _min_presentable(sku: str, rules: ChannelRules) -> int:
    sku_rules = rules.skus.get(sku)
    return sku_rules.min_presentable if sku_rules and sku_rules.min_presentable is not None else rules.min_presentable


def sku_availability(sku: str, stock: Mapping[str, StockRow], rules: ChannelRules) -> SkuAvailability:
    """One SKU over the channel's active locations (`stock`: location_id -> its record)."""
    selling = sorted(loc for loc in stock if loc not in rules.excluded_locations)
    offers = {loc: offered(stock[loc].available, rules, sku, loc) for loc in selling}
    cap = _cap(sku, sum(max(stock[loc].available, 0) for loc in selling), rules)
    excess = 0 if cap is None else max(sum(offers.values()) - cap, 0)
    for loc in sorted(selling, key=lambda loc: (offers[loc], loc)):  # smallest offers go first
        taken = min(excess, offers[loc])
        offers[loc] -= taken
        excess -= taken
    if sum(offers.values()) < _min_presentable(sku, rules):
        offers = dict.fromkeys(offers, 0)
    total = sum(offers.values())
    arrivals = [arrival for loc in selling if (arrival := stock[loc].expected_at) is not None]
    return SkuAvailability(
        sku=sku,
        available=total,
        locations=[
            LocationAvailability(location_id=loc, available=offers[loc], expected_at=stock[loc].expected_at)
            for loc in selling
        ],
        expected_at=min(arrivals) if arrivals and total == 0 else None,
    )


def availability(
    skus: Iterable[str], stock: Mapping[tuple[str, str], StockRow], active_locations: Iterable[str], rules: ChannelRules
) -> list[SkuAvailability]:
    """`stock` maps (sku, location_id) to its record; locations not active offer nothing."""
    location_ids = set(active_locations)
    by_sku: dict[str, dict[str, StockRow]] = {}
    for (sku, loc), row in stock.items():
        if loc in location_ids:
            by_sku.setdefault(sku, {})[loc] = row
    return [sku_availability(sku, by_sku.get(sku, {}), rules) for sku in skus]


def changes_channel(rules: ChannelRules, sku: str, location_id: str, before: int, after: int) -> bool:
    """Whether free units at one location going from `before` to `after` can change the channel's offer
    of the SKU: the location's own offer moved, or a max_share cap that counts free units did."""
    if location_id in rules.excluded_locations:
        return False
    if offered(before, rules, sku, location_id) != offered(after, rules, sku, location_id):
        return True
    sku_rules = rules.skus.get(sku)
    share_capped = rules.max_share is not None or (sku_rules is not None and sku_rules.max_share is not None)
    return share_capped and max(before, 0) != max(after, 0)
