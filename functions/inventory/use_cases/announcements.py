"""Announcing stock changes: which channels' offers the free units a batch of stock writes moved can
change, marked dirty per channel (for the stock push) and said on the bus as StockChanged."""

from __future__ import annotations

from collections.abc import Iterable

from common.events import publish
from common.observability import count
from inventory.adapters import dirty_skus
from inventory.domain.availability import changes_channel
from inventory.domain.row_changes import RowMove
from reference import config_table

SKUS_PER_EVENT = 500  # keeps one StockChanged well under EventBridge's 256 KB


def announce_moves(moves: Iterable[RowMove], now: str) -> None:
    """Announce the free units a batch of stock writes moved, per location and cause."""
    groups: dict[tuple[str, str, str | None], list[RowMove]] = {}
    for move in moves:
        groups.setdefault((move.location_id, move.cause, move.batch_id), []).append(move)
    for (location_id, cause, batch_id), group in groups.items():
        announce(
            location_id,
            [(m.sku, m.before, m.after) for m in group],
            now,
            cause=cause,
            batch_id=batch_id,
            changed_at=max(m.changed_at for m in group) or now,
        )


def announce(
    location_id: str,
    moved: Iterable[tuple[str, int, int]],
    now: str,
    *,
    cause: str,
    batch_id: str | None,
    changed_at: str,
) -> None:
    """Mark dirty, per channel, the SKUs whose offer the moves (sku, free before, free after) can change,
    and say so on the bus. Marking twice is marking once, so a batch the stream delivers again is harmless;
    its StockChanged carries the same `at` (the newest row write), which is what consumers dedupe on."""
    location = config_table.locations().get(location_id)
    if location is None or not location.active:
        return  # a paused location offers nothing, before and after
    channels = config_table.channels()
    marks = [
        (channel.channel_id, sku)
        for channel in channels
        for sku, before, after in moved
        if changes_channel(channel.rules, sku, location_id, before, after)
    ]
    if not marks:
        return
    dirty_skus.mark(marks, now)
    skus = sorted({sku for _, sku in marks})
    publish(
        "StockChanged",
        [
            {
                "location_id": location_id,
                "skus": skus[start : start + SKUS_PER_EVENT],
                "channels": sorted({channel for channel, _ in marks}),
                "cause": cause,
                "batch_id": batch_id,
                "at": changed_at,
            }
            for start in range(0, len(skus), SKUS_PER_EVENT)
        ],
    )
    count("StockChanged", len(skus))
