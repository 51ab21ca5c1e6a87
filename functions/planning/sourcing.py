"""Which location reserves what: pure, from the stock that was read. docs/sourcing.md explains the rules.

1. Candidates are the active (not paused) locations able to fulfil the delivery method; reserve-in-store
   uses only the chosen store. They are ranked: the customer's chosen location first, then by distance
   to the customer's coordinates (haversine; locations without coordinates after those with), then
   locations in the customer's city, then warehouses before stores, then by id.
2. The best-ranked candidate that has every line in full takes the whole order (one parcel).
3. Otherwise, if the channel allows split shipments, each SKU goes to a location already used that has
   it in full, else to the best-ranked one that has; a SKU no candidate has in full takes what the
   candidate with the most units has, and the rest is a shortage.
4. Otherwise the order stays whole at the candidate that can give the most units (best rank on a tie);
   the rest is a shortage, for an operator to settle (substitute, wait for stock, or cancel).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel

from reference.models import DeliveryMethod, Location, LocationKind

EARTH_RADIUS_KM = 6371.0088


class Rule(Enum):
    """Which sourcing rule placed the units (its value is what the order records)."""

    single_location = "single_location"
    split = "split"
    single_location_short = "single_location_short"
    no_stock = "no_stock"


@dataclass(frozen=True)
class CustomerPlace:
    """Where the customer is, as far as the order tells."""

    lat: float | None = None
    lon: float | None = None
    city: str | None = None


class Allocation(BaseModel):
    """Units of one SKU reserved (or to reserve) at one location."""

    sku: str
    location_id: str
    qty: int


class Shortage(BaseModel):
    """Units of one SKU no candidate location has."""

    sku: str
    missing: int


@dataclass(frozen=True)
class Candidate:
    location_id: str
    distance_km: float | None
    same_city: bool
    chosen: bool


@dataclass(frozen=True)
class ReservationPlan:
    allocations: list[Allocation]
    shortages: list[Shortage]
    rule: Rule

    def locations(self) -> list[str]:
        return list(dict.fromkeys(a.location_id for a in self.allocations))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _same_city(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.strip().casefold() == b.strip().casefold())


def rank_candidates(
    locations: Mapping[str, Location],
    method: DeliveryMethod,
    chosen_location: str | None,
    destination: CustomerPlace = CustomerPlace(),
) -> list[Candidate]:
    eligible = [loc for loc in locations.values() if loc.active and method in loc.capabilities]
    if method is DeliveryMethod.reserve_in_store:
        eligible = [loc for loc in eligible if loc.location_id == chosen_location]
    known = destination.lat is not None and destination.lon is not None
    ranked = []
    for loc in eligible:
        distance = (
            haversine_km(destination.lat, destination.lon, loc.lat, loc.lon)  # type: ignore[arg-type]
            if known and loc.lat is not None and loc.lon is not None
            else None
        )
        ranked.append(
            (
                Candidate(
                    loc.location_id,
                    distance,
                    _same_city(destination.city, loc.city),
                    loc.location_id == chosen_location,
                ),
                loc.kind,
            )
        )
    ranked.sort(
        key=lambda pair: (
            not pair[0].chosen,
            pair[0].distance_km is None,
            pair[0].distance_km or 0.0,
            not pair[0].same_city,
            pair[1] is not LocationKind.warehouse,
            pair[0].location_id,
        )
    )
    return [candidate for candidate, _ in ranked]


def candidate_locations(
    locations: Mapping[str, Location],
    method: DeliveryMethod,
    chosen_location: str | None,
    destination: CustomerPlace = CustomerPlace(),
) -> list[str]:
    return [c.location_id for c in rank_candidates(locations, method, chosen_location, destination)]


def plan_reservations(
    wanted: Mapping[str, int], candidates: Sequence[str], available: Mapping[tuple[str, str], int], *, allow_split: bool
) -> ReservationPlan:
    def free(sku: str, loc: str) -> int:
        return max(available.get((sku, loc), 0), 0)

    for loc in candidates:
        if all(free(sku, loc) >= qty for sku, qty in wanted.items()):
            return ReservationPlan(
                [Allocation(sku=sku, location_id=loc, qty=qty) for sku, qty in wanted.items()], [], Rule.single_location
            )
    if not allow_split:
        best = max(
            candidates, key=lambda loc: sum(min(free(sku, loc), qty) for sku, qty in wanted.items()), default=None
        )
        return _take_what_is_there(wanted, best, free)

    allocations: list[Allocation] = []
    shortages: list[Shortage] = []
    for sku, qty in wanted.items():
        used = list(dict.fromkeys(a.location_id for a in allocations))
        full = next((loc for loc in [*used, *candidates] if free(sku, loc) >= qty), None)
        if full is not None:
            allocations.append(Allocation(sku=sku, location_id=full, qty=qty))
            continue
        best = max(candidates, key=lambda loc: free(sku, loc), default=None)
        got = free(sku, best) if best is not None else 0
        if got:
            allocations.append(Allocation(sku=sku, location_id=best, qty=got))
        shortages.append(Shortage(sku=sku, missing=qty - got))
    return ReservationPlan(allocations, shortages, Rule.split if allocations else Rule.no_stock)


def _take_what_is_there(
    wanted: Mapping[str, int], location: str | None, free: Callable[[str, str], int]
) -> ReservationPlan:
    allocations: list[Allocation] = []
    shortages: list[Shortage] = []
    for sku, qty in wanted.items():
        got = min(free(sku, location), qty) if location is not None else 0
        if got:
            allocations.append(Allocation(sku=sku, location_id=location, qty=got))
        if got < qty:
            shortages.append(Shortage(sku=sku, missing=qty - got))
    return ReservationPlan(allocations, shortages, Rule.single_location_short if allocations else Rule.no_stock)


def explain(plan: ReservationPlan, candidates: Sequence[Candidate], channel: str) -> str:
    """Why these locations, in words an operator reads on the order's timeline."""
    by_id = {c.location_id: c for c in candidates}
    if not candidates:
        return "no active location can fulfil this delivery method"
    if plan.rule is Rule.no_stock:
        return f"none of {len(candidates)} able locations has any of the items"
    if plan.rule is Rule.single_location:
        where = plan.allocations[0].location_id if plan.allocations else candidates[0].location_id
        return f"{where} has every line; {_why_first(by_id[where])}"
    if plan.rule is Rule.split:
        parts = ", ".join(f"{a.sku} from {a.location_id}" for a in plan.allocations)
        return f"no single location has every line and channel {channel} allows split shipments: {parts}"
    where = plan.allocations[0].location_id
    units = sum(a.qty for a in plan.allocations)
    return (
        f"no single location has every line and channel {channel} does not allow split shipments: "
        f"{where} can give the most ({units} units)"
    )


def _why_first(candidate: Candidate) -> str:
    if candidate.chosen:
        return "the customer's chosen location"
    if candidate.distance_km is not None:
        return f"the nearest such location ({candidate.distance_km:.1f} km)"
    if candidate.same_city:
        return "such a location in the customer's city"
    return "first such location by kind (warehouses first) and id, no customer coordinates to compare"
