"""Delivery promise use case: the same sourcing as intake, then the promise per delivery method."""

from __future__ import annotations

from datetime import datetime

from common.clock import utc_text
from delivery.models import PromiseAnswer, PromiseRequest, Unavailable
from inventory.adapters import stock_table
from planning.cart import quantities
from planning.promise import PICKUP_AT_LOCATION, Promise, quote
from planning.sourcing import CustomerPlace, plan_reservations, rank_candidates
from reference import config_table
from reference.lookup import known_references
from reference.models import Carrier, CarrierIn, DeliveryMethod


def promise(request: PromiseRequest, now: datetime) -> PromiseAnswer:
    """One stock read for every method: the candidates of all methods are read together."""
    store = request.destination.location_id
    channel, locations = known_references(request.channel, store, ("destination", "location_id"))
    where = CustomerPlace(request.destination.lat, request.destination.lon, request.destination.city)
    methods = list(dict.fromkeys(request.methods or DeliveryMethod))
    ranked = {method: [c.location_id for c in rank_candidates(locations, method, store, where)] for method in methods}
    wanted = quantities(request.lines)
    available = stock_table.physical_available(wanted, {loc for ids in ranked.values() for loc in ids})
    placed_at = request.placed_at or now
    carriers = config_table.carriers()

    options: list[Promise] = []
    unavailable: list[Unavailable] = []
    for method in methods:
        if method in PICKUP_AT_LOCATION and store is None:
            unavailable.append(Unavailable(method=method, reason="destination.location_id (a store) is needed"))
            continue
        if not ranked[method]:
            unavailable.append(Unavailable(method=method, reason="no active location can fulfil it"))
            continue
        plan = plan_reservations(wanted, ranked[method], available, allow_split=channel.allow_split)
        result = quote(
            method,
            [locations[loc] for loc in plan.locations()] if not plan.shortages else [],
            carriers,
            placed_at,
            store,
        )
        if isinstance(result, Promise):
            options.append(result)
        else:
            unavailable.append(Unavailable(method=method, reason=result))
    options.sort(key=lambda p: (p.earliest, p.latest, p.ready_at))
    return PromiseAnswer(
        channel=channel.channel_id, placed_at=utc_text(placed_at), options=options, unavailable=unavailable
    )


def put_carrier(carrier_id: str, carrier: CarrierIn, now: str) -> Carrier:
    return config_table.put_carrier(carrier_id, carrier, now)


def list_carriers() -> list[Carrier]:
    return config_table.carriers()
