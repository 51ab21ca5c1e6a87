"""The reference data the inventory API serves: stock locations and sales channels (ConfigTable)."""

from __future__ import annotations

from reference import config_table
from reference.models import Channel, ChannelIn, Location, LocationIn


def put_location(location_id: str, location: LocationIn, now: str) -> Location:
    return config_table.put_location(location_id, location, now)


def list_locations() -> list[Location]:
    """By id."""
    return sorted(config_table.locations().values(), key=lambda loc: loc.location_id)


def put_channel(channel_id: str, channel: ChannelIn, now: str) -> Channel:
    return config_table.put_channel(channel_id, channel, now)


def list_channels() -> list[Channel]:
    return config_table.channels()
