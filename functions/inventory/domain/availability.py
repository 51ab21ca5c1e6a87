"""Availability rules: what a channel may sell from the physical stock.

Per location: available = on_hand - reserved; the channel's safety stock is kept back; of the rest,
the channel's share is offered, rounded down; never negative. A SKU's availability is the sum over
the active locations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal

from pydantic import BaseModel

from common.models import ChannelRules


class LocationAvailability(BaseModel):
    location_id: str
    available: int


class SkuAvailability(BaseModel):
    sku: str
    available: int
    locations: list[LocationAvailability]


def offered(available: int, rules: ChannelRules) -> int:
    after_safety = max(available - rules.safety_stock, 0)
    # Decimal(str(...)): 100 * 0.29 must offer 29, not 28.999... rounded down to 28.
    return math.floor(after_safety * Decimal(str(rules.stock_share)))


def availability(skus: Iterable[str], stock: Mapping[tuple[str, str], int], active_locations: Iterable[str],
                 rules: ChannelRules) -> list[SkuAvailability]:
    """`stock` maps (sku, location_id) to physical available units; locations not active offer nothing."""
    location_ids = sorted(active_locations)
    answer = []
    for sku in skus:
        per_location = [LocationAvailability(location_id=loc, available=offered(stock[(sku, loc)], rules))
                        for loc in location_ids if (sku, loc) in stock]
        answer.append(SkuAvailability(sku=sku, available=sum(p.available for p in per_location),
                                      locations=per_location))
    return answer
