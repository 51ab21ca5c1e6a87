"""How a loyalty operation ended, as the order action that asked for it records it. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from orders.domain.loyalty import Operation

Outcome = Literal["done", "skipped", "transient_failure", "permanent_failure"]


@dataclass(frozen=True)
class LoyaltyResult:
    """One operation's end. `done`: the provider confirmed `points` (a repeat of a done operation answers the
    same); `skipped` (final: `reason` says why nothing was asked, e.g. no loyalty card); `transient_failure`:
    the same call later (the provider was out of reach, or an earlier operation is still unconfirmed);
    the same key again redoes only what did not end;
    `permanent_failure`: the provider refused with a reason an operator has to act on."""

    operation: Operation
    outcome: Outcome
    reason: str | None = None
    points: int = 0
    balance: int | None = None
    taken_back: int | None = None  # a give-back's accrued points taken back with it

    def as_record(self) -> dict[str, Any]:
        """The result as an order's action record stores it (no card number)."""
        return {k: v for k, v in vars(self).items() if v is not None}


class LoyaltyTransient(Exception):
    """The provider did not answer now (5xx, 429, timeouts after retries, credentials unreadable)."""


class LoyaltyRefused(Exception):
    """The provider refused the operation for good; the message is its reason code (never the card)."""
