"""Scheduled partner polls: reconcile (a push may be late or lost), pulls of partners that never push, then
the retry sweep of each channel's parked events."""

from __future__ import annotations

import dataclasses

from common.clock import current
from common.observability import count, logger
from orders.adapters.workflow_catalog import workflow
from orders.use_cases import queries
from partners.clients.base import Connector
from partners.clients.http import PartnerError
from partners.clients.registry import connector_for
from partners.domain.outcome import Outcome
from partners.use_cases import convergence, exactly_once
from reference import config_table
from reference.models import Channel

PAGE = 100  # open orders read per page of the channel's orders


def poll_all() -> dict[str, dict[str, int]]:
    """Every channel whose partner is polled (reconcile, or no push at all), then every parked event."""
    results: dict[str, dict[str, int]] = {}
    for channel in config_table.channels():
        connector = connector_for(channel.kind)
        if connector is None:
            continue
        outcome = _poll(channel, connector) + convergence.sweep_parked(channel.channel_id)
        results[channel.channel_id] = dataclasses.asdict(outcome)
    logger.info("partner poll done", extra={"channels": results})
    return results


def _poll(channel: Channel, connector: Connector) -> Outcome:
    """Nothing to do for a partner the hub does not poll or a channel without API access."""
    if connector.poll is None or channel.api_url is None or not channel.has_credentials:
        return Outcome()
    try:
        events = connector.poll(
            str(channel.api_url).rstrip("/"),
            config_table.credentials(channel.channel_id),
            _open_external_ids(channel.channel_id),
            current(),
        )
    except PartnerError as error:  # one partner down must not stop the others; the next run retries
        logger.warning("partner poll failed", extra={"channel": channel.channel_id, "error": str(error)})
        count(f"PartnerPollFailed_{connector.kind}")
        events = []
    return exactly_once.apply(channel, connector, events, polled=True)


def _open_external_ids(channel_id: str) -> list[str]:
    open_ids: list[str] = []
    cursor = None
    while True:
        page = queries.list_orders(None, channel_id, PAGE, cursor)
        open_ids.extend(
            o["external_id"] for o in page["items"] if o["status"] not in workflow(o["workflow"]).terminal_statuses
        )
        cursor = page["next_cursor"]
        if not cursor:
            return open_ids
