"""Partner pushes: authenticated, parsed in the partner's own shape, applied (or queued and applied by the
queue consumer), and answered the partner's way."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from common.api import error_body, http_status
from common.clock import utc_now
from common.errors import HubError, Unprocessable
from common.observability import count, logger
from partners.adapters import partner_queue
from partners.clients.base import BadPayload, Canonical, Connector, NewOrder, Ping, Reply, ShipByChange, parse_json
from partners.clients.registry import connector_for
from partners.domain.inbound import SHIP_BY_RANGE, authentic, ship_by_in_range, source_allowed
from partners.domain.outcome import Outcome
from partners.use_cases import exactly_once, new_orders
from reference import config_table
from reference.models import Channel


def receive(
    channel_id: str, route: str, raw: bytes, *, token: str | None, signature: str | None, source_ip: str
) -> Reply:
    """One partner push: authenticate, parse the partner's own shape, apply (or queue), answer its way."""
    channel = config_table.channel(channel_id)
    connector = connector_for(channel.kind) if channel else None
    if channel is None or connector is None or route not in connector.routes:
        # The same answer as a wrong secret: a caller cannot probe which channels exist.
        return _unauthorized(connector)
    if not (
        source_allowed(source_ip, channel.allowed_ips)
        and authentic(config_table.webhook_secret(channel_id), token=token, signature=signature, body=raw)
    ):
        logger.warning("webhook refused", extra={"channel": channel_id, "source_ip": source_ip})
        return _unauthorized(connector)
    try:
        return _take(channel, connector, route, raw)
    except BadPayload as bad:
        return _error(connector, bad.status, bad.code, str(bad), bad.details)
    except partner_queue.TooLarge as too_large:
        return _error(connector, 413, "payload_too_large", str(too_large))
    except HubError as error:
        return _error(connector, http_status(error), error.code, error.message, error_body(error).get("details", []))


def _take(channel: Channel, connector: Connector, route: str, raw: bytes) -> Reply:
    now = utc_now()
    events = connector.parse(parse_json(raw), route)
    if events and all(isinstance(e, Ping) for e in events):
        return connector.ping(now)
    # Refused while the partner listens: a queued event the hub cannot take would only reach the DLQ.
    _check_takeable(channel, connector, events)
    if connector.queued:
        partner_queue.enqueue(channel.channel_id, raw, now)
        count(f"WebhookQueued_{connector.kind}")
    else:
        exactly_once.apply(channel, connector, events)
    return connector.processed(now)


def _check_takeable(channel: Channel, connector: Connector, events: Iterable[Canonical]) -> None:
    """422 for what the hub can never apply: a new order it cannot take (one still to be read from the
    partner is checked once read) or a ship-by out of the hub's time range."""
    for event in events:
        if isinstance(event, NewOrder) and not event.lookup:
            new_orders.wanted(channel, connector, event)
        elif isinstance(event, ShipByChange) and not ship_by_in_range(event.ship_by):
            raise Unprocessable(
                f"{connector.kind} ship-by {event.ship_by.isoformat()} is out of range",
                details=[{"loc": ["ship_by"], "msg": SHIP_BY_RANGE}],
            )


def _unauthorized(connector: Connector | None) -> Reply:
    count("WebhookUnauthorized")
    return _error(connector, 401, "unauthorized", "unknown channel or wrong credentials")


def _error(
    connector: Connector | None, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> Reply:
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
    return exactly_once.apply(channel, connector, connector.parse(parse_json(message["body"].encode()), "notification"))
