"""Partner pushes and polls -> the hub's own use cases, exactly once.

Every event is claimed on its partner identity first (a duplicate stops there); a status older than one
already applied is ignored; an event for an order the hub does not know yet, or that is busy applying
another event, is parked and applied when the order appears (or by the scheduled sweep): never dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from common.clock import utc_now, utc_text
from common.errors import HubError, InvalidTransition, Unprocessable
from common.models import Channel
from common.observability import count, logger
from orders import services as orders
from orders.domain.models import OrderEventIn, OrderIn, order_id_for
from orders.domain.workflow import EXPIRE, Workflow, workflow
from partners.adapters import partner_events, partner_queue
from partners.clients.base import (
    BadPayload,
    Canonical,
    Connector,
    NewOrder,
    PartnerLookupFailed,
    Ping,
    Reply,
    ShipByChange,
    StatusChange,
    parse_json,
)
from partners.clients.http import PartnerError
from partners.clients.registry import connector_for
from partners.domain.inbound import SHIP_BY_RANGE, authentic, order_in, ship_by_in_range, source_allowed
from reference import config_table


@dataclass(frozen=True)
class Outcome:
    applied: int = 0
    duplicates: int = 0
    parked: int = 0
    ignored: int = 0
    refused: int = 0  # polled events the hub can never take (e.g. an offer id that is no hub SKU)

    def __add__(self, other: Outcome) -> Outcome:
        return Outcome(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other), strict=True)))


APPLIED, DUPLICATE, PARKED, IGNORED = Outcome(applied=1), Outcome(duplicates=1), Outcome(parked=1), Outcome(ignored=1)
REFUSED = Outcome(refused=1)


# ------------------------------------------------------------------ webhooks


def receive(
    channel_id: str, route: str, raw: bytes, *, token: str | None, signature: str | None, source_ip: str
) -> Reply:
    """One partner push: authenticate, parse the partner's own shape, apply (or queue), answer its way."""
    now = utc_now()
    channel = config_table.channel(channel_id)
    connector = connector_for(channel.kind) if channel else None
    if channel is None or connector is None or route not in connector.routes:
        # The same answer as a wrong secret: a caller cannot probe which channels exist.
        count("WebhookUnauthorized")
        return _error(connector, 401, "unauthorized", "unknown channel or wrong credentials")
    if not (
        source_allowed(source_ip, channel.allowed_ips)
        and authentic(config_table.webhook_secret(channel_id), token=token, signature=signature, body=raw)
    ):
        count("WebhookUnauthorized")
        logger.warning("webhook refused", extra={"channel": channel_id, "source_ip": source_ip})
        return _error(connector, 401, "unauthorized", "unknown channel or wrong credentials")
    try:
        events = connector.parse(parse_json(raw), route)
    except BadPayload as bad:
        return _error(connector, bad.status, bad.code, str(bad), bad.details)
    if all(isinstance(e, Ping) for e in events) and events:
        return connector.ping(now)
    try:  # refused while the partner listens: a queued event the hub cannot take would only reach the DLQ
        _takeable(channel, connector, events)
    except HubError as error:
        return _error(connector, error.status, error.code, error.message, error.extra.get("details", []))
    if connector.queued:
        try:
            partner_queue.enqueue(channel_id, raw, now)
        except partner_queue.TooLarge as too_large:
            return _error(connector, 413, "payload_too_large", str(too_large))
        count(f"WebhookQueued_{connector.kind}")
        return connector.processed(now)
    try:
        apply(channel, connector, events)
    except HubError as error:
        return _error(connector, error.status, error.code, error.message, error.extra.get("details", []))
    return connector.processed(now)


def _error(connector: Connector | None, status: int, code: str, message: str, details: list | None = None) -> Reply:
    if connector is None:
        return Reply(status, {"error": code, "message": message})
    return connector.error(status, code, message, details or [])


def process_queued(body: str) -> Outcome:
    """One message of the partner queue; raises when it must be retried (the queue redelivers it)."""
    message = partner_queue.message(body)
    channel = config_table.channel(message["channel_id"])
    connector = connector_for(channel.kind) if channel else None
    if channel is None or connector is None:
        raise LookupError(f"channel {message['channel_id']!r} is gone; the message waits in the DLQ")
    return apply(channel, connector, connector.parse(parse_json(message["body"].encode()), "notification"))


# ------------------------------------------------------------------ applying canonical events


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
            if not polled or error.status >= 500:
                raise
            logger.warning(
                "polled partner event refused",
                extra={"channel": channel.channel_id, "event_id": event.event_id, "error": error.code},
            )
            outcome = REFUSED
        count(
            {
                APPLIED: "PartnerEventApplied",
                DUPLICATE: "PartnerEventDuplicate",
                PARKED: "PartnerEventParked",
                IGNORED: "PartnerEventIgnored",
                REFUSED: "PartnerEventRefused",
            }[outcome]
        )
        total += outcome
    return total


def _once(channel: Channel, connector: Connector, event: NewOrder | StatusChange | ShipByChange) -> Outcome:
    """Claim the event's identity, then apply it; a failure forgets the claim so the retry is processed."""
    now = utc_now()
    if not partner_events.claim(channel.channel_id, event.event_id, now):
        return DUPLICATE
    try:
        if isinstance(event, NewOrder):
            return _new_order(channel, connector, event)
        return _on_order(channel, event)
    except Exception:
        partner_events.release(channel.channel_id, event.event_id)
        raise


def _new_order(channel: Channel, connector: Connector, event: NewOrder) -> Outcome:
    if event.lookup:
        event = _completed(channel, connector, event)
    order, created = orders.accept_order(_wanted(channel, connector, event), utc_now())
    replay_parked(order.order_id)
    return APPLIED if created else DUPLICATE


def _takeable(channel: Channel, connector: Connector, events: Iterable[Canonical]) -> None:
    """422 for what the hub can never apply: a new order it cannot take (one still to be read from the
    partner is checked once read) or a ship-by out of the hub's time range."""
    for event in events:
        if isinstance(event, NewOrder) and not event.lookup:
            _wanted(channel, connector, event)
        elif isinstance(event, ShipByChange) and not ship_by_in_range(event.ship_by):
            raise Unprocessable(
                f"{connector.kind} ship-by {event.ship_by.isoformat()} is out of range",
                details=[{"loc": ["ship_by"], "msg": SHIP_BY_RANGE}],
            )


def _wanted(channel: Channel, connector: Connector, event: NewOrder) -> OrderIn:
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


def _order_id(channel: Channel, event: StatusChange | ShipByChange) -> str:
    order_id = getattr(event, "order_id", None)
    return order_id or order_id_for(channel.channel_id, event.external_id)


def _on_order(channel: Channel, event: StatusChange | ShipByChange) -> Outcome:
    return _apply(channel, _order_id(channel, event), event)


def _apply(channel: Channel, order_id: str, event: StatusChange | ShipByChange) -> Outcome:
    """Ignore a status older than one this channel already told, else apply (or park) the event.

    The newest status is recorded only once the event is done (applied, or found to need nothing): a failed
    or parked attempt records nothing, so its retry or replay is judged afresh and applied."""
    timed = isinstance(event, StatusChange) and event.at is not None
    if timed and partner_events.superseded(order_id, channel.channel_id, event.at):
        logger.info("older partner status ignored", extra={"order_id": order_id, "status": event.partner_status})
        return IGNORED
    try:
        outcome = _change(channel, order_id, event)
    except InvalidTransition as refused:
        # The order is already past it (a cancel after delivery): nothing to do, retrying would not change it.
        logger.info("partner status not applicable", extra={"order_id": order_id, "event": refused.extra})
        outcome = IGNORED
    except HubError as not_now:  # order not known yet, busy or unavailable: applied later, never dropped
        partner_events.park(channel.channel_id, order_id, event, reason=not_now.code, now=utc_now())
        return PARKED
    if timed:
        partner_events.advance_status(order_id, channel.channel_id, event.at)
    return outcome


# Hub steps that no partner status stands for: the sweeper's expiry, the acquirer's payment and its
# reminder, the retried reservation of missing stock (an order short of stock waits for an operator).
NOT_IMPLIED = frozenset({EXPIRE, "pay", "remind", "reserve"})
MAX_STEPS = 12  # more than any workflow's longest way, with room for a few concurrent moves


def _change(channel: Channel, order_id: str, event: StatusChange | ShipByChange) -> Outcome:
    """Bring the order to the status the partner's event implies, one workflow event at a time through the
    operators' use case (stock moves as usual): a partner may skip steps the hub tracks (delivered while
    the hub still has it packed), so the missing ones are applied first, by the shortest way the workflow
    allows. A status the order is already in or past changes nothing."""
    source = f"partner:{channel.channel_id}"
    if isinstance(event, ShipByChange):
        orders.move_ship_by(order_id, utc_text(event.ship_by), source, utc_now())
        return APPLIED
    if event.event is None:
        return IGNORED  # a partner status the workflow has no step for
    outcome, tried = IGNORED, None
    for _ in range(MAX_STEPS):
        order = orders.get_order(order_id)
        flow = workflow(order.workflow)
        if event.event not in flow.events():
            return outcome
        # An event the lifecycle is still applying counts as done: judge from where it leads.
        status = flow.transitions.get(order.status, {}).get(order.pending_event or "", order.status)
        steps = flow.path(status, flow.event_target(event.event), avoid=_not_implied(flow, event.event))
        if not steps or (status, steps[0]) == tried:
            return outcome  # there already, past it, or refused from this very status
        try:
            orders.post_event(
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
            total += _apply(channel, item.order_id, item.event)
        except Exception:
            partner_events.park(item.channel_id, item.order_id, item.event, reason="replay failed", now=utc_now())
            raise
    return total


# ------------------------------------------------------------------ scheduled polls


def poll_all() -> dict[str, dict[str, int]]:
    """Every channel whose partner is polled (reconcile, or no push at all), then every parked event."""
    results: dict[str, dict[str, int]] = {}
    for channel in config_table.channels():
        connector = connector_for(channel.kind)
        if connector is None:
            continue
        outcome = Outcome()
        if connector.poll is not None and channel.api_url is not None and channel.has_credentials:
            try:
                events = connector.poll(
                    str(channel.api_url).rstrip("/"),
                    config_table.credentials(channel.channel_id),
                    _open_external_ids(channel.channel_id),
                    datetime.now(UTC),
                )
            except PartnerError as error:  # one partner down must not stop the others; the next run retries
                logger.warning("partner poll failed", extra={"channel": channel.channel_id, "error": str(error)})
                count(f"PartnerPollFailed_{connector.kind}")
                events = []
            outcome += apply(channel, connector, events, polled=True)
        outcome += sweep_parked(channel.channel_id)
        results[channel.channel_id] = dataclasses.asdict(outcome)
    logger.info("partner poll done", extra={"channels": results})
    return results


def _open_external_ids(channel_id: str) -> list[str]:
    open_ids: list[str] = []
    cursor = None
    while True:
        page = orders.list_orders(None, channel_id, 100, cursor)
        open_ids.extend(
            o["external_id"] for o in page["items"] if o["status"] not in workflow(o["workflow"]).terminal_statuses
        )
        cursor = page["next_cursor"]
        if not cursor:
            return open_ids
