"""Which location reserves what: pure, from the stock that was read.

Rules, in order:
1. Candidates are the active locations able to fulfil the delivery method; reserve-in-store uses
   only the chosen store. The customer's chosen location (if any) comes first, then warehouses,
   then stores, each by id.
2. If one candidate has every SKU in full, it takes the whole order (one parcel).
3. Otherwise each SKU goes to the first candidate that has it in full; a SKU no candidate has in
   full takes what the candidate with the most units has, and the rest is a shortage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from common.models import DeliveryMethod, Location, LocationKind
from orders.domain.models import Allocation, Shortage


@dataclass(frozen=True)
class ReservationPlan:
    allocations: list[Allocation]
    shortages: list[Shortage]


def candidate_locations(locations: Mapping[str, Location], method: DeliveryMethod,
                        chosen_location: str | None) -> list[str]:
    eligible = [loc for loc in locations.values() if loc.active and method in loc.capabilities]
    if method is DeliveryMethod.reserve_in_store:
        eligible = [loc for loc in eligible if loc.location_id == chosen_location]
    eligible.sort(key=lambda loc: (loc.location_id != chosen_location, loc.kind is not LocationKind.warehouse,
                                   loc.location_id))
    return [loc.location_id for loc in eligible]


def plan_reservations(wanted: Mapping[str, int], candidates: Sequence[str],
                      available: Mapping[tuple[str, str], int]) -> ReservationPlan:
    def free(sku: str, loc: str) -> int:
        return max(available.get((sku, loc), 0), 0)

    for loc in candidates:
        if all(free(sku, loc) >= qty for sku, qty in wanted.items()):
            return ReservationPlan([Allocation(sku=sku, location_id=loc, qty=qty) for sku, qty in wanted.items()], [])

    allocations: list[Allocation] = []
    shortages: list[Shortage] = []
    for sku, qty in wanted.items():
        full = next((loc for loc in candidates if free(sku, loc) >= qty), None)
        if full is not None:
            allocations.append(Allocation(sku=sku, location_id=full, qty=qty))
            continue
        best = max(candidates, key=lambda loc: free(sku, loc), default=None)
        got = free(sku, best) if best is not None else 0
        if got:
            allocations.append(Allocation(sku=sku, location_id=best, qty=got))
        shortages.append(Shortage(sku=sku, missing=qty - got))
    return ReservationPlan(allocations, shortages)
