"""A channel's availability of one SKU as the stock stream keeps it: the raw figures it starts from and
what the channel offers of them. Pure.

The raw figures are, per location that has a stock row of the SKU, its free units (`available`, see
inventory.ledger), `expected_at` and the row's `updated_at`. Every location is kept, paused and excluded
ones too, so a rule change or a location paused or re-opened recomputes the offer from the figures
alone, without reading a stock row. A stream batch sets a location's figures from the row's new image
(never adds), so a batch delivered again sets the same values; an older write delivered after a newer
one (a replayed range) is recognised by its `updated_at` and changes nothing.

The `basis` of an offer names what it was computed from besides the raw figures: the channel's rules
and which of the SKU's locations were active. An offer whose basis is not today's is recomputed from
its raw figures in process, so an answer is right before the background recompute has reached it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from inventory.domain.availability import SkuAvailability, StockRow, sku_availability
from reference.models import ChannelRules

Image = Mapping[str, Any]


@dataclass(frozen=True)
class LocationStock:
    """One stock row's figures: what the rules start from."""

    free: int
    expected_at: str | None  # ISO date
    at: str  # the row's updated_at: which of two writes of the row is newer


Stock = dict[str, LocationStock]  # location_id -> its row's figures


def encode(stock: Mapping[str, LocationStock]) -> str:
    """Canonical text (locations sorted): equal figures give equal text, which a conditional write compares."""
    return json.dumps(
        {loc: [row.free, row.expected_at, row.at] for loc, row in sorted(stock.items())}, separators=(",", ":")
    )


def decode(text: str) -> Stock:
    return {loc: LocationStock(int(free), expected_at, at) for loc, (free, expected_at, at) in json.loads(text).items()}


def latest_rows(changes: Iterable[tuple[Image | None, Image | None]]) -> dict[str, dict[str, LocationStock | None]]:
    """sku -> location -> the row's figures after the last of the writes (None: the row was deleted).

    `changes`: (row before, row after) per write, in stream order."""
    rows: dict[str, dict[str, LocationStock | None]] = {}
    for before, after in changes:
        row = after if after is not None else before
        if row is None:
            continue
        rows.setdefault(str(row["sku"]), {})[str(row["location_id"])] = None if after is None else _figures(after)
    return rows


def _figures(image: Image) -> LocationStock:
    expected = image.get("expected_at")
    return LocationStock(
        int(image.get("available", 0)), str(expected) if expected else None, str(image.get("updated_at", ""))
    )


def merged(stock: Mapping[str, LocationStock], changes: Mapping[str, LocationStock | None]) -> Stock:
    """`stock` with the rows' new figures set; a write older than the figures held is ignored."""
    result = dict(stock)
    for loc, row in changes.items():
        if row is None:
            result.pop(loc, None)
        elif loc not in result or row.at >= result[loc].at:
            result[loc] = row
    return result


def rules_digest(rules: ChannelRules) -> str:
    return hashlib.sha256(rules.model_dump_json().encode()).hexdigest()[:16]


def stocked_locations(text: str) -> list[str]:
    """The locations of encoded figures, without building them (all a basis needs)."""
    return list(json.loads(text))


def basis(digest: str, locations: Iterable[str], active: Collection[str]) -> str:
    """What an offer depends on besides its raw figures: the rules and which of the SKU's locations (those
    with a stock row) are active; a location the SKU has no row at changes nothing."""
    selling = ",".join(sorted(loc for loc in locations if loc in active))
    return hashlib.sha256(f"{digest}|{selling}".encode()).hexdigest()[:16]


def offer(
    sku: str, stock: Mapping[str, LocationStock], rules: ChannelRules, active: Collection[str]
) -> SkuAvailability:
    """The channel's rules over the SKU's active locations (inventory.domain.availability)."""
    rows = {
        loc: StockRow(row.free, date.fromisoformat(row.expected_at) if row.expected_at else None)
        for loc, row in stock.items()
        if loc in active
    }
    return sku_availability(sku, rows, rules)
