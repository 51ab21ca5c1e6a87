"""Which free units a batch of stock-row writes moved, from the rows before and after each write.

Pure: the stream handler hands in the images of the stock table's stream records, in stream order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Image = Mapping[str, Any]


@dataclass(frozen=True)
class RowMove:
    """Free units (`available`, see inventory.ledger) of one SKU at one location before and after a batch of writes."""

    location_id: str
    sku: str
    before: int
    after: int
    cause: str  # "import" (a batch wrote the row), "reservation" (reserved moved) or "stock"
    batch_id: str | None = None
    changed_at: str = ""  # the last write's own updated_at: the same when the stream delivers it again


def row_moves(changes: Iterable[tuple[Image | None, Image | None]]) -> list[RowMove]:
    """One move per row that the writes left with other free units than it had before the first of them.

    `changes`: (row before, row after) per write, oldest first; None where the row did not exist. Several
    writes of one row in a batch collapse into one move (first before, last after), so a reservation and
    its release inside one batch announce nothing."""
    first: dict[tuple[str, str], Image | None] = {}
    last: dict[tuple[str, str], Image] = {}
    for before, after in changes:
        row = after if after is not None else before
        if row is None:
            continue
        key = (str(row["location_id"]), str(row["sku"]))
        first.setdefault(key, before)
        last[key] = after if after is not None else {**row, "available": 0, "reserved": 0}
    moves = []
    for key, after in last.items():
        before = first[key]
        free_before, free_after = _free(before), _free(after)
        if free_before != free_after:
            moves.append(
                RowMove(
                    key[0],
                    key[1],
                    free_before,
                    free_after,
                    *_cause(before, after),
                    changed_at=str(after.get("updated_at", "")),
                )
            )
    return moves


def _free(row: Image | None) -> int:
    return int(row.get("available", 0)) if row is not None else 0


def _cause(before: Image | None, after: Image) -> tuple[str, str | None]:
    """What made the change: imports stamp `imported_at` (and `last_batch` when the batch has an id)."""
    old = before or {}
    if after.get("imported_at") is not None and after.get("imported_at") != old.get("imported_at"):
        batch = after.get("last_batch")
        return "import", str(batch) if batch is not None and batch != old.get("last_batch") else None
    if int(after.get("reserved", 0)) != int(old.get("reserved", 0)):
        return "reservation", None
    return "stock", None
