"""Inventory use cases: glue between the HTTP handlers, the pure rules and the stock tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from common import reference
from common.errors import Unprocessable
from common.events import publish
from common.observability import count
from inventory.adapters import dirty_skus, stock_batches, stock_table
from inventory.domain.availability import SkuAvailability, availability, changes_channel
from inventory.domain.stock_changes import StockLineError, StockMode, StockUpdate, StockUpdateResult

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
    moved: list[tuple[str, int, int]] = []  # (sku, free before, free after)
    resumed: list[str] = []  # rows an interrupted first attempt of this part wrote: announced again
    for line in update.items:
        if update.mode is StockMode.snapshot:
            write = stock_table.set_on_hand(line.sku, location_id, line.on_hand, line.expected_at, batch_id, now)
        else:
            write = stock_table.add_on_hand(line.sku, location_id, line.on_hand, line.expected_at, batch_id, now)
        if write.applied:
            moved.append((line.sku, *_free_change(write.before, update.mode, line.on_hand)))
        elif write.repeated:
            resumed.append(line.sku)
        else:
            errors.append(_below_reserved(line.sku, update.mode, line.on_hand, write.before))
    listed_errors = len(errors)
    zeroed = 0
    if update.zero_unlisted and batch_id is not None:
        for sku in stock_table.unlisted(location_id, batch_id):
            write = stock_table.set_on_hand(sku, location_id, 0, None, batch_id, now)
            if write.applied:
                zeroed += 1
                moved.append((sku, *_free_change(write.before, StockMode.snapshot, 0)))
            elif not write.repeated:
                errors.append(_below_reserved(sku, StockMode.snapshot, 0, write.before))
    announce(location_id, moved, now, cause="import", batch_id=batch_id, resumed=resumed)
    result = StockUpdateResult(updated=len(update.items) - listed_errors, errors=errors, batch_id=batch_id,
                               zeroed=zeroed)
    if batch_id is not None:
        stock_batches.finish(location_id, batch_id, update.part, result.model_dump(mode="json"), now)
    count("StockLinesUpdated", result.updated)
    if errors:
        count("StockLinesRejected", len(errors))
    return result


def _free_change(before: dict[str, Any], mode: StockMode, on_hand: int) -> tuple[int, int]:
    """Free units (on_hand - reserved) before and after a write that was applied to `before`."""
    free_before = int(before.get("available", 0))
    if mode is StockMode.snapshot:
        return free_before, on_hand - int(before.get("reserved", 0))
    return free_before, free_before + on_hand


def _below_reserved(sku: str, mode: StockMode, on_hand: int, row: dict[str, Any]) -> StockLineError:
    if mode is StockMode.snapshot:
        message = f"on_hand {on_hand} is below the {int(row.get('reserved', 0))} units reserved"
    else:
        message = f"removing {-on_hand} units but only {int(row.get('available', 0))} are not reserved"
    return StockLineError(sku=sku, error="below_reserved", message=message)


def announce(location_id: str, moved: Iterable[tuple[str, int, int]], now: str, *, cause: str,
             batch_id: str | None = None, resumed: Iterable[str] = ()) -> None:
    """Mark dirty, per channel, the SKUs whose offer the moves can change, and say so on the bus.

    `resumed`: SKUs whose change is no longer known (written by an attempt that failed before
    announcing): marked for every channel that sells from the location, since marking is idempotent."""
    location = reference.locations().get(location_id)
    if location is None or not location.active:
        return  # a paused location offers nothing, before and after
    channels = reference.channels()
    marks = [(channel.channel_id, sku) for channel in channels for sku, before, after in moved
             if changes_channel(channel.rules, sku, location_id, before, after)]
    marks += [(channel.channel_id, sku) for channel in channels for sku in resumed
              if location_id not in channel.rules.excluded_locations]
    if not marks:
        return
    dirty_skus.mark(marks, now)
    skus = sorted({sku for _, sku in marks})
    publish("StockChanged", [{"location_id": location_id, "skus": skus[start:start + SKUS_PER_EVENT],
                              "channels": sorted({channel for channel, _ in marks}), "cause": cause, "batch_id": batch_id, "at": now}
                             for start in range(0, len(skus), SKUS_PER_EVENT)])
    count("StockChanged", len(skus))


def reservations_moved(moves: Sequence[tuple[str, str, int]], now: str, cause: str,
                       free_before: Mapping[tuple[str, str], int] | None = None) -> None:
    """Free units moved by reservations: (sku, location_id, change of free units; -qty reserves, +qty releases).

    `free_before`: the free units the caller read before the change (intake has them); without it the
    rows are read back and the change gives the value before."""
    changes = {(sku, loc): change for sku, loc, change in moves if change}
    if not changes:
        return
    if free_before is None:
        rows = stock_table.physical_available({sku for sku, _ in changes}, {loc for _, loc in changes})
        free_before = {key: units - changes[key] for key, units in rows.items() if key in changes}
    by_location: dict[str, list[tuple[str, int, int]]] = {}
    for (sku, loc), change in changes.items():
        if (sku, loc) in free_before:
            before = free_before[(sku, loc)]
            by_location.setdefault(loc, []).append((sku, before, before + change))
    for loc, moved in by_location.items():
        announce(loc, moved, now, cause=cause)


def channel_availability(channel_id: str, skus: list[str]) -> list[SkuAvailability]:
    channel = reference.channel(channel_id)
    if channel is None:
        raise Unprocessable(f"unknown channel {channel_id!r}",
                            details=[{"loc": ["query", "channel"], "msg": "unknown channel"}])
    active = [loc.location_id for loc in reference.locations().values()
              if loc.active and loc.location_id not in channel.rules.excluded_locations]
    return availability(skus, stock_table.stock_rows(skus, active), active, channel.rules)
