"""What several order use cases share: the retry on moving stock, where more units may come from, and the
delivery promise of reserved goods."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from common.clock import utc_moment
from common.errors import StockContention
from common.observability import count
from orders.adapters import order_stock
from orders.domain.models import Delivery, Order
from planning.promise import Promise, quote
from planning.sourcing import candidate_locations
from reference import config_table
from reference.models import Location

T = TypeVar("T")


def with_fresh_stock(attempt: Callable[[], T]) -> T:
    """Re-read and re-plan when stock moved under us; contention that outlasts a few tries is a 503."""
    try:
        for step in Retrying(
            retry=retry_if_exception_type(order_stock.StockMoved),
            stop=stop_after_attempt(8),
            wait=wait_random_exponential(multiplier=0.01, max=0.2),
        ):
            with step:
                return attempt()
    except RetryError:
        count("StockContention")
        raise StockContention("stock is changing too fast to reserve; retry the request") from None
    raise AssertionError("unreachable")


def promise_for(delivery: Delivery, sources: list[str], locations: dict[str, Location], now: str) -> Promise | None:
    """The delivery promise of goods reserved at `sources` (docs/sourcing.md); none if it cannot be made."""
    promised = quote(
        delivery.method,
        [locations[loc] for loc in sources if loc in locations],
        config_table.carriers(),
        utc_moment(now),
        delivery.location_id,
    )
    return promised if isinstance(promised, Promise) else None


def sourcing_for_more(order: Order, held: set[str] | None = None) -> tuple[list[str], bool]:
    """Where more units of an accepted order may come from: a channel that does not allow split
    shipments keeps the order at the location that already holds (`held`, by default all) of it."""
    channel = config_table.channel(order.channel)
    allow_split = bool(channel and channel.allow_split)
    ranked = candidate_locations(
        config_table.locations(), order.delivery.method, order.delivery.location_id, order.delivery.destination()
    )
    held = {a.location_id for a in order.allocations} if held is None else held
    if held and not allow_split:
        ranked = [loc for loc in ranked if loc in held]
    return ranked, allow_split
