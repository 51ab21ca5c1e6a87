"""Units summed per key: one SKU on two lines, or one (SKU, location) in two allocations, is one total."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def sum_by(pairs: Iterable[tuple[K, int]]) -> dict[K, int]:
    """The units of each key, in the order the keys first appear."""
    totals: dict[K, int] = {}
    for key, units in pairs:
        totals[key] = totals.get(key, 0) + units
    return totals
