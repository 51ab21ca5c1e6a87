"""Partner events -> the hub's own use cases, exactly once, whether a push, the queue or a poll brings them.

Every event is claimed on its partner identity first (a duplicate stops there); a failure forgets the claim
so the partner's retry (or the next poll) is processed.
"""

from __future__ import annotations

from collections.abc import Iterable

from common.api import http_status
from common.clock import utc_now
from common.errors import HubError
from common.observability import count, logger
from partners.adapters import partner_events
from partners.clients.base import Canonical, Connector, NewOrder, Ping, ShipByChange, StatusChange
from partners.domain.outcome import APPLIED, DUPLICATE, IGNORED, PARKED, REFUSED, Outcome
from partners.use_cases import convergence, new_orders
from reference.models import Channel

METRICS = {
    APPLIED: "PartnerEventApplied",
    DUPLICATE: "PartnerEventDuplicate",
    PARKED: "PartnerEventParked",
    IGNORED: "PartnerEventIgnored",
    REFUSED: "PartnerEventRefused",
}


def apply(channel: Channel, connector: Connector, events: Iterable[Canonical], *, polled: bool = False) -> Outcome:
    """A push's events raise what they cannot take (the partner is answered 4xx and sends it again); a poll
    refuses such an event alone, so one posting the hub can never take does not stop the rest of the poll."""
    total = Outcome()
    for event in events:
        if isinstance(event, Ping):
            continue
        try:
            outcome = _once(channel, connector, event)
        except HubError as error:
            if not polled or http_status(error) >= 500:
                raise
            logger.warning(
                "polled partner event refused",
                extra={"channel": channel.channel_id, "event_id": event.event_id, "error": error.code},
            )
            outcome = REFUSED
        count(METRICS[outcome])
        total += outcome
    return total


def _once(channel: Channel, connector: Connector, event: NewOrder | StatusChange | ShipByChange) -> Outcome:
    """Claim the event's identity, then apply it; a failure forgets the claim so the retry is processed."""
    if not partner_events.claim(channel.channel_id, event.event_id, utc_now()):
        return DUPLICATE
    try:
        if isinstance(event, NewOrder):
            return new_orders.create(channel, connector, event)
        return convergence.converge(channel, event)
    except Exception:
        partner_events.release(channel.channel_id, event.event_id)
        raise
