"""Stock imports: the lines of a snapshot or delta written through the ledger, each with its own outcome,
a batch applied at most once, the SKUs a full snapshot did not list zeroed."""

from __future__ import annotations

from typing import Any

from common.errors import NotFound
from common.observability import count
from inventory.adapters import stock_batches, stock_table
from inventory.domain.stock_updates import StockLineError, StockMode, StockUpdate, StockUpdateResult
from inventory.ledger import RowImport
from reference import config_table


def apply_stock_update(location_id: str, update: StockUpdate, now: str) -> StockUpdateResult:
    """Every line has its own outcome: a line that would break `on_hand >= reserved` is reported, the rest land.

    With a batch id, the same (batch id, part) again changes nothing and answers the first result."""
    if location_id not in config_table.locations():
        raise NotFound(f"location {location_id!r} is not registered", location_id=location_id)
    batch_id = update.batch_id
    if batch_id is not None:
        applied_before = stock_batches.begin(location_id, batch_id, update.part, now)
        if applied_before is not None:
            count("StockBatchDuplicate")
            return StockUpdateResult.model_validate({**applied_before, "duplicate": True})
    rows = [RowImport(line.sku, location_id, line.on_hand, line.expected_at, batch_id, now) for line in update.items]
    write_rows = stock_table.set_on_hand if update.mode is StockMode.snapshot else stock_table.add_on_hand
    errors = [
        _below_reserved(line.sku, update.mode, line.on_hand, write.before)
        for line, write in zip(update.items, write_rows(rows), strict=True)
        if not (write.applied or write.repeated)
    ]
    listed_errors = len(errors)
    zeroed = 0
    if update.zero_unlisted and batch_id is not None:
        skus = list(stock_table.unlisted(location_id, batch_id))
        zeroing = [RowImport(sku, location_id, 0, None, batch_id, now) for sku in skus]
        for sku, write in zip(skus, stock_table.set_on_hand(zeroing), strict=True):
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
