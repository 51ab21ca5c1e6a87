"""Inventory use cases: glue between the HTTP handlers, the pure rules and the stock tables."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from common.errors import Unprocessable
from common.events import publish
from common.observability import count
from inventory.adapters import dirty_skus, stock_batches, stock_table
from inventory.domain.availability import SkuAvailability, availability, changes_channel
from inventory.domain.row_changes import RowMove
from inventory.domain.stock_updates import StockLineError, StockMode, StockUpdate, StockUpdateResult
from inventory.ledger import RowImport
from reference import config_table

SKUS_PER_EVENT = 500  # keeps one StockChanged well under EventBridge's 256 KB


def apply_stock_update(location_id: str, update: StockUpdate, now: str) -> StockUpdateResult:
    """Apply every line on its own: a line that would break `on_hand >= reserved` is reported, the rest land.

    With a batch id, the same (batch id, part) again changes nothing and answers the first result."""
    batch_id = update.batch_id
    if batch_id is not None:
        applied_before = stock_batches.begin(location_id, batch_id, update.part, now)
        if applied_before is not None:
            count("StockBatchDuplicate")
            return StockUpdateResult.model_validate({**applied_before, "duplicate": True})
    errors: list[StockLineError] = []
    write_row = stock_table.set_on_hand if update.mode is StockMode.snapshot else stock_table.add_on_hand
    for line in update.items:
        write = write_row(RowImport(line.sku, location_id, line.on_hand, line.expected_at, batch_id, now))
        if not (write.applied or write.repeated):
            errors.append(_below_reserved(line.sku, update.mode, line.on_hand, write.before))
    listed_errors = len(errors)
    zeroed = 0
    if update.zero_unlisted and batch_id is not None:
        for sku in stock_table.unlisted(location_id, batch_id):
            write = stock_table.set_on_hand(RowImport(sku, location_id, 0, None, batch_id, now))
            if write.applied:
                zeroed += 1
            elif not write.repeated:
                errors.append(_below_reserved(sku, StockMode.snapshot, 0, write.before))
    # Channels learn of the rows written through the stock table's stream (handlers/stock_stream.py).
    result = StockUpdateResult(
        updated=len(update.items) - listed_errors, errors=errors, batch_id=batch_id, zeroed=zeroed
    )
    if batch_id is not None:
        stock_batches.finish(location_id, batch_id, update.part, result.model_dump(mode="json"), now)
    count("StockLinesUpdated", result.updated)
    if errors:
        count("StockLinesRejected", len(errors))
    return result


def _below_reserved(sku: str, mode: StockMode, on_hand: int, row: dict[str, Any]) -> StockLineError:
    if mode is StockMode.snapshot:
        message = f"on_hand {on_hand} is below the {int(row.get('reserved', 0))} units reserved"
    else:
        message = f"removing {-on_hand} units but only {int(row.get('available', 0))} are not reserved"
    return StockLineError(sku=sku, error="below_reserved", message=message)


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


def channel_availability(channel_id: str, skus: list[str]) -> list[SkuAvailability]:
    channel = config_table.channel(channel_id)
    if channel is None:
        raise Unprocessable(
            f"unknown channel {channel_id!r}", details=[{"loc": ["query", "channel"], "msg": "unknown channel"}]
        )
    active = [
        loc.location_id
        for loc in config_table.locations().values()
        if loc.active and loc.location_id not in channel.rules.excluded_locations
    ]
    return availability(skus, stock_table.stock_rows(skus, active), active, channel.rules)
