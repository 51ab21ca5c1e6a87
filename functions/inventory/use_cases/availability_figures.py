"""Keeping each channel's availability figures (AvailabilityTable) in step with the stock and the rules.

- Stock writes: the stock stream's reader hands in every row change of a batch. Per SKU it reads the
  raw figures once (one consistent BatchGetItem per 100 SKUs), sets the changed locations' figures from
  the rows' new images, and writes the raw figures and every channel's offer (BatchWriteItem, 25 items a
  call). Nothing is added to what was there, so a batch delivered twice writes the same items; a SKU
  whose figures did not change is not written at all. The stream gives one SKU's writes to one batch at
  a time (the stock table's partition key is the SKU), so this reader is the one writer of raw figures.
- Rule and location changes (the config table's stream): each concerned channel's partition is read in
  SKU order beside the raw figures' partition (Query pages, no Scan) and an item is rewritten only when
  its basis or raw figures are not the current ones, with a condition that the stream has not written
  the SKU meanwhile (a newer write wins). A SKU whose offer changed is marked dirty for the stock push,
  since no stock row moved to mark it. A channel whose partner warehouses changed has every SKU marked:
  what it pushes to each warehouse is a sum over other locations now, whatever each offer is.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from common.observability import count
from inventory.adapters import availability_table, dirty_skus
from inventory.adapters.availability_table import STOCK_PARTITION, StoredFigures
from inventory.domain.channel_figures import (
    Image,
    Stock,
    basis,
    decode,
    encode,
    latest_rows,
    merged,
    offer,
    rules_digest,
)
from reference import config_table
from reference.models import Channel, ChannelRules

ConfigChange = tuple[Image | None, Image | None]  # a config record before and after


def apply_row_changes(changes: Iterable[tuple[Image | None, Image | None]], now: str) -> int:
    """Set the figures of every SKU a batch of stock-row writes touched; the number of items written."""
    rows = latest_rows(changes)
    if not rows:
        return 0
    held = availability_table.figures(STOCK_PARTITION, rows, consistent=True)
    # Fresh channels and locations (2 Queries a batch): with a cached list, a channel created meanwhile
    # would keep the figures its recompute seeded while this batch's newer ones went to the others only.
    # Read fresh, not forgotten: the other kinds the container caches stay warm.
    channels = [_Rules.of(channel) for channel in config_table.channels(fresh=True)]
    active = _active_locations(fresh=True)
    items: list[dict[str, Any]] = []
    for sku, changed in rows.items():
        before = held.get(sku)
        stock = merged(decode(before.stock) if before else {}, changed)
        text = encode(stock)
        if before is not None and text == before.stock:
            continue  # delivered before, or an older write than the figures held
        items.append({"channel_id": STOCK_PARTITION, "sku": sku, "stock": text, "updated_at": now})
        items.extend(_channel_item(channel, sku, stock, text, active, now) for channel in channels)
    availability_table.put(items)
    count("AvailabilityFiguresWritten", len(items))
    return len(items)


def recompute_after_config_changes(changes: Iterable[ConfigChange], now: str) -> int:
    """Bring the figures onto the channels and locations just written; the number of items rewritten.

    A channel's write concerns that channel; a location paused, re-opened or removed concerns every
    channel. A new location has no stock rows yet (stock is taken only for known locations), and other
    fields (names, hours, secrets) change no figure."""
    concerned: set[str] = set()
    regrouped: set[str] = set()  # channels whose partner warehouses changed
    every_channel = False
    for before, after in changes:
        record = after if after is not None else before
        if record is None:
            continue
        if record["kind"] == "channel":
            concerned.add(str(record["id"]))
            if _warehouses(before) != _warehouses(after):
                regrouped.add(str(record["id"]))
        elif record["kind"] == "location" and before is not None and _active(before) != _active(after):
            every_channel = True
    if not concerned and not every_channel:
        return 0
    # A warm container's cache may predate the write this batch reports: read both kinds again (not the
    # whole cache forgotten: what else the container caches stays warm).
    current = config_table.channels(fresh=True)
    config_table.locations(fresh=True)
    channel_ids = {c.channel_id for c in current} if every_channel else concerned
    return sum(
        recompute_channel(channel_id, now, mark_every_sku=channel_id in regrouped) for channel_id in sorted(channel_ids)
    )


def _active(record: Image | None) -> bool | None:
    if record is None:
        return None
    return bool((record.get("data") or {}).get("active", True))


def _warehouses(record: Image | None) -> Any:
    if record is None:
        return []
    return (record.get("data") or {}).get("warehouses") or []


def recompute_channel(channel_id: str, now: str, *, mark_every_sku: bool = False) -> int:
    """Rewrite the channel's items whose basis or raw figures are not the current ones; mark the SKUs whose
    offer moved dirty (`mark_every_sku`: every SKU the channel offers)."""
    found = config_table.channel(channel_id)
    if found is None:
        return 0
    channel, active = _Rules.of(found), _active_locations()
    rewritten, moved = 0, []
    for held, current in _joined(
        availability_table.partition(STOCK_PARTITION), availability_table.partition(channel_id)
    ):
        if mark_every_sku:
            moved.append((channel_id, held.sku))
        stock = decode(held.stock)
        if (
            current is not None
            and current.stock == held.stock
            and current.basis == basis(channel.digest, stock, active)
        ):
            continue
        item = _channel_item(channel, held.sku, stock, held.stock, active, now)
        if availability_table.replace_if_unchanged(
            channel_id, held.sku, None if current is None else current.stock, item
        ):
            rewritten += 1
            if current is None or current.offer != item["offer"]:
                moved.append((channel_id, held.sku))
    dirty_skus.mark(moved, now)
    count("AvailabilityFiguresRecomputed", rewritten)
    return rewritten


def _joined(
    held: Iterator[StoredFigures], current: Iterator[StoredFigures]
) -> Iterator[tuple[StoredFigures, StoredFigures | None]]:
    """Each raw-figures item beside the channel's item of the same SKU (both partitions in SKU order), so a
    partition of any size is walked page by page without holding it."""
    pending = next(current, None)
    for figures in held:
        while pending is not None and pending.sku < figures.sku:
            pending = next(current, None)
        yield figures, pending if pending is not None and pending.sku == figures.sku else None


@dataclass(frozen=True)
class _Rules:
    """A channel's rules and their digest, computed once per batch rather than once per SKU."""

    channel_id: str
    rules: ChannelRules
    digest: str

    @classmethod
    def of(cls, channel: Channel) -> _Rules:
        return cls(channel.channel_id, channel.rules, rules_digest(channel.rules))


def _channel_item(
    channel: _Rules, sku: str, stock: Stock, text: str, active: Collection[str], now: str
) -> dict[str, Any]:
    offered = offer(sku, stock, channel.rules, active)
    return {
        "channel_id": channel.channel_id,
        "sku": sku,
        "stock": text,
        "basis": basis(channel.digest, stock, active),
        "offer": offered.model_dump_json(exclude_none=True),
        "available": offered.available,
        "updated_at": now,
    }


def _active_locations(*, fresh: bool = False) -> set[str]:
    return {loc.location_id for loc in config_table.locations(fresh=fresh).values() if loc.active}
