"""What applying partner events came to: how many were applied, duplicates, parked, ignored or refused. Pure."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    applied: int = 0
    duplicates: int = 0
    parked: int = 0
    ignored: int = 0
    refused: int = 0  # polled events the hub can never take (e.g. an offer id that is no hub SKU)

    def __add__(self, other: Outcome) -> Outcome:
        return Outcome(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other), strict=True)))


APPLIED, DUPLICATE, PARKED, IGNORED = Outcome(applied=1), Outcome(duplicates=1), Outcome(parked=1), Outcome(ignored=1)
REFUSED = Outcome(refused=1)
