"""What a channel may sell: its rules applied to the free units at the locations it sells from.

Answered from the figures the stock stream keeps (inventory.use_cases.availability_figures): one
BatchGetItem for up to 100 SKUs, where reading the stock rows took one Query per SKU. A figure computed
under other rules or other active locations (its basis) is recomputed here from the raw figures it
carries, so a rule change or a paused location shows at once, before the background recompute reaches
the item. The figures follow stock writes by the stream's lag (on AWS well under a second).
"""

from __future__ import annotations

import json
from typing import Any

from common.errors import Problem, Unprocessable
from inventory.adapters import availability_table
from inventory.domain.channel_figures import basis, decode, offer, rules_digest, stocked_locations
from reference import config_table


def channel_availability(channel_id: str, skus: list[str]) -> list[dict[str, Any]]:
    """Each SKU's answer item as the contract shows it (`SkuAvailability` in its JSON form): a stored
    offer is already that, so it is passed on as stored rather than validated and dumped again."""
    channel = config_table.channel(channel_id)
    if channel is None:
        raise Unprocessable(f"unknown channel {channel_id!r}", [Problem(("channel",), "unknown channel", part="query")])
    active = {loc.location_id for loc in config_table.locations().values() if loc.active}
    digest = rules_digest(channel.rules)
    stored = availability_table.figures(channel_id, skus)
    answers = []
    for sku in skus:
        figures = stored.get(sku)
        if figures is None:  # never stocked
            answers.append({"sku": sku, "available": 0, "locations": []})
        elif figures.offer is not None and figures.basis == basis(digest, stocked_locations(figures.stock), active):
            answers.append(json.loads(figures.offer))
        else:
            recomputed = offer(sku, decode(figures.stock), channel.rules, active)
            answers.append(recomputed.model_dump(mode="json", exclude_none=True))
    return answers
