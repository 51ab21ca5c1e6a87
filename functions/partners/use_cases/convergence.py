"""Convergence: a partner's status or ship-by change brought onto the hub order, and parked events replayed.

A status older than one the channel already told is ignored; an event for an order the hub does not know
yet, or that is busy applying another event, is parked and applied when the order appears (or by the
scheduled sweep): never dropped.
"""

from __future__ import annotations

from common.clock import utc_now, utc_text
from common.errors import HubError, InvalidTransition
from common.observability import logger
from orders.adapters.workflow_catalog import workflow
from orders.domain.models import OrderEventIn, order_id_for
from orders.domain.workflow import EXPIRE, Workflow
from orders.use_cases import events as order_events
from orders.use_cases import queries
from partners.adapters import partner_events
from partners.clients.base import BadPayload, ShipByChange, StatusChange
from partners.domain.outcome import APPLIED, IGNORED, PARKED, Outcome
from reference import config_table
from reference.models import Channel

# Hub steps that no partner status stands for: the sweeper's expiry, the acquirer's payment and its
# reminder, the retried reservation of missing stock (an order short of stock waits for an operator).
NOT_IMPLIED = frozenset({EXPIRE, "pay", "remind", "reserve"})
MAX_STEPS = 12  # more than any workflow's longest way, with room for a few concurrent moves


def converge(channel: Channel, event: StatusChange | ShipByChange) -> Outcome:
    """Apply (or park) one partner change to the order it names."""
    return _apply_or_park(channel, _order_id(channel, event), event)


def _order_id(channel: Channel, event: StatusChange | ShipByChange) -> str:
    """Couriers carry the hub's own order id; marketplaces name their order number, an order of the channel."""
    if isinstance(event, StatusChange) and event.order_id:
        return event.order_id
    if event.external_id is None:
        raise BadPayload(f"partner event {event.event_id} names no order")
    return order_id_for(channel.channel_id, event.external_id)


def _apply_or_park(channel: Channel, order_id: str, event: StatusChange | ShipByChange) -> Outcome:
    """Ignore a status older than one this channel already told, else apply (or park) the event.

    The newest status is recorded only once the event is done (applied, or found to need nothing): a failed
    or parked attempt records nothing, so its retry or replay is judged afresh and applied."""
    told_at = event.at if isinstance(event, StatusChange) else None  # a ship-by change is not ordered by time
    if (
        isinstance(event, StatusChange)
        and told_at is not None
        and partner_events.superseded(order_id, channel.channel_id, told_at)
    ):
        logger.info("older partner status ignored", extra={"order_id": order_id, "status": event.partner_status})
        return IGNORED
    try:
        outcome = _bring_order_to(channel, order_id, event)
    except InvalidTransition as refused:
        # The order is already past it (a cancel after delivery): nothing to do, retrying would not change it.
        logger.info("partner status not applicable", extra={"order_id": order_id, "event": refused.extra})
        outcome = IGNORED
    except HubError as not_now:  # order not known yet, busy or unavailable: applied later, never dropped
        partner_events.park(channel.channel_id, order_id, event, reason=not_now.code, now=utc_now())
        return PARKED
    if told_at is not None:
        partner_events.advance_status(order_id, channel.channel_id, told_at)
    return outcome


def _bring_order_to(channel: Channel, order_id: str, event: StatusChange | ShipByChange) -> Outcome:
    """Bring the order to the status the partner's event implies, one workflow event at a time through the
    operators' use case (stock moves as usual): a partner may skip steps the hub tracks (delivered while
    the hub still has it packed), so the missing ones are applied first, by the shortest way the workflow
    allows. A status the order is already in or past changes nothing."""
    source = f"partner:{channel.channel_id}"
    if isinstance(event, ShipByChange):
        order_events.move_ship_by(order_id, utc_text(event.ship_by), source, utc_now())
        return APPLIED
    if event.event is None:
        return IGNORED  # a partner status the workflow has no step for
    outcome, tried = IGNORED, None
    for _ in range(MAX_STEPS):
        order = queries.get_order(order_id)
        flow = workflow(order.workflow)
        if event.event not in flow.events():
            return outcome
        # An event the lifecycle is still applying counts as done: judge from where it leads.
        status = flow.transitions.get(order.status, {}).get(order.pending_event or "", order.status)
        steps = flow.path(status, flow.event_target(event.event), avoid=_not_implied(flow, event.event))
        if not steps or (status, steps[0]) == tried:
            return outcome  # there already, past it, or refused from this very status
        try:
            order_events.post_event(
                order_id, OrderEventIn(event=steps[0], note=f"{channel.kind}: {event.partner_status}"), source
            )
        except InvalidTransition:
            tried = (status, steps[0])  # moved under us (another event), or the status refuses it: look again
            continue
        if len(steps) == 1:
            return APPLIED  # that was the last step: no read to find there is nothing left
        outcome, tried = APPLIED, None
    return outcome


def _not_implied(flow: Workflow, event: str) -> frozenset[str]:
    """A cancellation implies no steps before it: an order is never moved on just to be cancelled."""
    if flow.statuses[flow.event_target(event)].stock == "release":
        return frozenset(flow.events()) - {event}
    return NOT_IMPLIED


def replay_parked(order_id: str) -> Outcome:
    """Apply the events parked for an order, oldest first; one that still cannot apply stays parked."""
    return _replay(partner_events.parked_for_order(order_id))


def sweep_parked(channel_id: str) -> Outcome:
    """The scheduled retry of every event parked for a channel."""
    return _replay(partner_events.parked_for_channel(channel_id))


def _replay(parked: list[partner_events.Parked]) -> Outcome:
    total = Outcome()
    for item in parked:
        channel = config_table.channel(item.channel_id)
        if channel is None:
            continue
        partner_events.unpark(item)
        try:
            # Judged again as it stands now: a newer status may have been applied since it was parked.
            total += _apply_or_park(channel, item.order_id, item.event)
        except Exception:
            partner_events.park(item.channel_id, item.order_id, item.event, reason="replay failed", now=utc_now())
            raise
    return total
