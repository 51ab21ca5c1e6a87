"""The channel and the locations a request names, checked against the reference data."""

from __future__ import annotations

from common.errors import Problem, Unprocessable
from reference import config_table
from reference.models import Channel, Location


def known_references(
    channel_id: str, location_id: str | None, location_field: tuple[str, ...]
) -> tuple[Channel, dict[str, Location]]:
    """The channel and the locations a request sources from; 422 when it names ones that do not exist."""
    channel = config_table.channel(channel_id)
    if channel is None:
        raise Unprocessable(f"unknown channel {channel_id!r}", [Problem(("channel",), "unknown channel")])
    locations = config_table.locations()
    if location_id is not None and location_id not in locations:
        raise Unprocessable(f"unknown location {location_id!r}", [Problem(location_field, "unknown location")])
    return channel, locations
