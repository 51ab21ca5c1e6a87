"""Delivery promise: when an order placed now can reach the customer. Pure; docs/sourcing.md explains it.

1. Processing starts when the order is placed, or at the start of the next local day if it is placed at
   or after the location's cut-off.
2. It takes `processing_minutes` of working time: only inside the location's working hours, in its own
   time zone (days not listed are closed; no hours at all means around the clock). The moment it ends
   is `ready_at`; an order split over locations is ready when the last one is.
3. The carrier's transit days (calendar days, min..max) are added to the local date `ready_at` falls on
   at the ready location: that is the earliest..latest delivery date. A pickup at the sourcing store
   itself has no transit.

All arithmetic is on UTC instants, local wall times are only read and built through zoneinfo, so
daylight-saving changes and zones east or west of UTC need no special case.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from common.clock import utc_text
from reference.models import Carrier, DeliveryMethod, Location, Weekday

WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# processing_minutes <= 7 days and every listed day has an opening: a week of a 1-minute day per
# 7 days of work is bounded by 7 * 24 * 60 weeks; no real calendar comes near, so search two years.
SEARCH_DAYS = 2 * 366
# Picked up by the customer at the location that holds the goods: no carrier in between.
PICKUP_AT_LOCATION = (DeliveryMethod.click_collect, DeliveryMethod.reserve_in_store)


@dataclass(frozen=True)
class Transit:
    min_days: int
    max_days: int


NO_TRANSIT = Transit(0, 0)


@dataclass(frozen=True)
class Window:
    ready_at: datetime
    earliest: date
    latest: date


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time (a time skipped by a DST jump resolves past the jump)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def working_windows(location: Location, zone: ZoneInfo, first_day: date) -> Iterator[tuple[datetime, datetime]]:
    """The location's working intervals as UTC instants, day by day from `first_day` (local)."""
    for offset in range(SEARCH_DAYS):
        day = first_day + timedelta(days=offset)
        if not location.working_hours:
            yield _instant(day, time(0), zone), _instant(day + timedelta(days=1), time(0), zone)
            continue
        hours = location.working_hours.get(WEEKDAYS[day.weekday()])
        if hours is not None:
            yield _instant(day, hours.opens, zone), _instant(day, hours.closes, zone)


def zone_of(location: Location) -> ZoneInfo:
    return ZoneInfo(location.timezone or "UTC")


def processing_starts(location: Location, placed_at: datetime) -> datetime:
    """When the clock starts: at placement, or the next local midnight when placed at/after the cut-off."""
    zone = zone_of(location)
    local = placed_at.astimezone(zone)
    if location.cutoff is not None and local.time() >= location.cutoff:
        return _instant(local.date() + timedelta(days=1), time(0), zone)
    return placed_at.astimezone(UTC)


def ready_at(location: Location, placed_at: datetime) -> datetime:
    """When an order placed at `placed_at` is picked and packed at `location` (UTC)."""
    zone = zone_of(location)
    start = processing_starts(location, placed_at)
    remaining = timedelta(minutes=location.processing_minutes)
    for opens, closes in working_windows(location, zone, start.astimezone(zone).date()):
        begin = max(opens, start)
        if begin >= closes:
            continue
        if begin + remaining <= closes:
            return begin + remaining
        remaining -= closes - begin
    raise ValueError(f"location {location.location_id} has no working time within {SEARCH_DAYS} days")


def delivery_window(locations: Sequence[Location], placed_at: datetime, transit: Transit) -> Window:
    """Earliest..latest delivery date for goods from `locations` (all of them must be ready)."""
    ready = {location.location_id: ready_at(location, placed_at) for location in locations}
    last = max(locations, key=lambda location: ready[location.location_id])
    ready_day = ready[last.location_id].astimezone(zone_of(last)).date()
    return Window(
        ready[last.location_id],
        ready_day + timedelta(days=transit.min_days),
        ready_day + timedelta(days=transit.max_days),
    )


def needs_carrier(method: DeliveryMethod, sources: Sequence[str], pickup_location: str | None) -> bool:
    """A pickup from the very store that holds the goods needs no transit; everything else travels."""
    return not (method in PICKUP_AT_LOCATION and list(sources) == [pickup_location])


class Promise(BaseModel):
    """The delivery promise for one method, as storefronts are shown it and as the order keeps it."""

    method: DeliveryMethod
    location_ids: list[str] = Field(description="Where the goods would be reserved (sourcing rules).")
    carrier_id: str | None = Field(
        None, description="The fastest carrier for the method; none for a pickup at the store that holds the goods."
    )
    ready_at: str = Field(description="When processing ends at the last location, UTC.")
    earliest: date = Field(description="Earliest delivery (or pickup) date, in the ready location's time zone.")
    latest: date


def fastest_carrier(carriers: Sequence[Carrier], method: DeliveryMethod) -> Carrier | None:
    serving = [c for c in carriers if c.active and method in c.delivery_methods]
    return min(serving, key=lambda c: (c.transit_days.max, c.transit_days.min, c.carrier_id), default=None)


def quote(
    method: DeliveryMethod,
    sources: Sequence[Location],
    carriers: Sequence[Carrier],
    placed_at: datetime,
    pickup_location: str | None,
) -> Promise | str:
    """The promise for goods reserved at `sources`, or why there is none."""
    if not sources:
        return "no location can take the whole cart"
    carrier = None
    if needs_carrier(method, [s.location_id for s in sources], pickup_location):
        carrier = fastest_carrier(carriers, method)
        if carrier is None:
            return f"no active carrier is configured for {method.value}"
    transit = Transit(carrier.transit_days.min, carrier.transit_days.max) if carrier else NO_TRANSIT
    window = delivery_window(sources, placed_at, transit)
    return Promise(
        method=method,
        location_ids=[s.location_id for s in sources],
        carrier_id=carrier.carrier_id if carrier else None,
        ready_at=utc_text(window.ready_at),
        earliest=window.earliest,
        latest=window.latest,
    )
