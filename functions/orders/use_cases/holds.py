"""The hold sweeper's use case: each order whose hold ran out gets the event `expire`, through the same
path as an operator's events, so its lifecycle releases the units and ends it as `expired`."""

from __future__ import annotations

from common.errors import InvalidTransition, NotFound, OrderBusy
from common.observability import count, logger
from inventory.adapters import held_reservations
from orders.domain.models import OrderEventIn
from orders.use_cases import events

EXPIRE = OrderEventIn(event="expire", note="hold expired")


def expire_holds(now: str) -> dict[str, int]:
    outcome = {"expired": 0, "moved_on": 0, "busy": 0}
    for order_id in held_reservations.expired_orders(now):
        try:
            events.post_event(order_id, EXPIRE, source=events.SWEEPER)
            outcome["expired"] += 1
        except (InvalidTransition, NotFound):
            held_reservations.keep(order_id)  # confirmed or shipped meanwhile: the hold stands
            outcome["moved_on"] += 1
        except OrderBusy:
            outcome["busy"] += 1  # mid-step: the next run sees it again
    count("HoldsExpired", outcome["expired"])
    logger.info("hold sweep", extra=outcome)
    return outcome
