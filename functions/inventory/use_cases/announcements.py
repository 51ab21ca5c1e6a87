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
    """Announce the free units a batch of stock writes moved, per location and cause.

    Marks the SKUs whose offer the moves can change dirty per channel and says so on the bus, one
    StockChanged per location and cause; the whole batch's marks go out together (25 per BatchWriteItem)
    and its events too (10 per PutEvents), however many locations it touched. Marking twice is marking
    once, so a batch the stream delivers again is harmless; its StockChanged carries the same `at` (the
    newest row write), which is what consumers dedupe on."""
    groups: dict[tuple[str, str, str | None], list[RowMove]] = {}
    for move in moves:
        groups.setdefault((move.location_id, move.cause, move.batch_id), []).append(move)
    if not groups:
        return
    locations, channels = config_table.locations(), config_table.channels()
    marks: list[tuple[str, str]] = []
    events: list[dict[str, object]] = []
    for (location_id, cause, batch_id), group in groups.items():
        location = locations.get(location_id)
        if location is None or not location.active:
            continue  # a paused location offers nothing, before and after
        moved = [
            (channel.channel_id, move.sku)
            for channel in channels
            for move in group
            if changes_channel(channel.rules, move.sku, location_id, move.before, move.after)
        ]
        if not moved:
            continue
        marks.extend(moved)
        skus = sorted({sku for _, sku in moved})
        events.extend(
            {
                "location_id": location_id,
                "skus": skus[start : start + SKUS_PER_EVENT],
                "channels": sorted({channel for channel, _ in moved}),
                "cause": cause,
                "batch_id": batch_id,
                "at": max(m.changed_at for m in group) or now,
            }
            for start in range(0, len(skus), SKUS_PER_EVENT)
        )
        count("StockChanged", len(skus))
    if marks:
        dirty_skus.mark(marks, now)
        publish("StockChanged", events)
