"""A partner's new order becomes a hub order: read from the partner first when its push lacks what the
order needs, refused (422) when the hub can never take it, then accepted by the orders intake."""

from __future__ import annotations

from pydantic import ValidationError

from common.clock import utc_now
from common.errors import Unprocessable
from common.observability import count, logger
from orders.domain.models import OrderIn
from orders.use_cases import intake
from partners.clients.base import Connector, NewOrder, PartnerLookupFailed
from partners.clients.http import PartnerError
from partners.domain.inbound import order_in
from partners.domain.outcome import APPLIED, DUPLICATE, Outcome
from partners.use_cases.convergence import replay_parked
from reference import config_table
from reference.models import Channel


def create(channel: Channel, connector: Connector, event: NewOrder) -> Outcome:
    """Accept the order (idempotent on channel + external id), then apply what was parked waiting for it."""
    if event.lookup:
        event = _completed(channel, connector, event)
    order, created = intake.accept_order(wanted(channel, connector, event), utc_now())
    replay_parked(order.order_id)
    return APPLIED if created else DUPLICATE


def wanted(channel: Channel, connector: Connector, event: NewOrder) -> OrderIn:
    """The hub order a partner's new order becomes; 422 when the hub cannot take it (an offer id that is not
    a valid hub SKU, a quantity or a total past what an order holds, a ship-by out of range)."""
    try:
        return order_in(channel.channel_id, connector.kind, event)
    except ValidationError as error:
        raise Unprocessable(
            f"{connector.kind} order {event.external_id} cannot be taken",
            details=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in error.errors()],
        ) from None


def _completed(channel: Channel, connector: Connector, event: NewOrder) -> NewOrder:
    """The order as the partner holds it, read with the channel's API credentials (as the polls do) before
    it is created: an order is never created with prices the partner did not send."""
    if connector.complete is None or channel.api_url is None or not channel.has_credentials:
        raise PartnerLookupFailed(
            f"{connector.kind} order {event.external_id} cannot be read: the channel has no api_url and credentials"
        )
    try:
        return connector.complete(str(channel.api_url).rstrip("/"), config_table.credentials(channel.channel_id), event)
    except PartnerError as error:
        count(f"PartnerLookupFailed_{connector.kind}")
        logger.warning("partner order lookup failed", extra={"channel": channel.channel_id, "error": str(error)})
        raise PartnerLookupFailed(
            f"{connector.kind} order {event.external_id} could not be read from the "
            f"partner; send it again later ({error})"
        ) from None
