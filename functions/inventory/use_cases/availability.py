"""What a channel may sell: its rules applied to the free units at the locations it sells from."""

from __future__ import annotations

from common.errors import Problem, Unprocessable
from inventory.adapters import stock_table
from inventory.domain.availability import SkuAvailability, availability
from reference import config_table


def channel_availability(channel_id: str, skus: list[str]) -> list[SkuAvailability]:
    channel = config_table.channel(channel_id)
    if channel is None:
        raise Unprocessable(f"unknown channel {channel_id!r}", [Problem(("channel",), "unknown channel", part="query")])
    active = [
        loc.location_id
        for loc in config_table.locations().values()
        if loc.active and loc.location_id not in channel.rules.excluded_locations
    ]
    return availability(skus, stock_table.stock_rows(skus, active), active, channel.rules)
