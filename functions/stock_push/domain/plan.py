"""What a stock push sends a partner, and when. Pure.

- The value of a (partner warehouse, SKU) pair is the channel's offer summed over the hub locations that
  feed the warehouse (each location's offered units, never negative; a location offering nothing or a SKU
  not offered at all gives 0).
- A SKU whose offer id changed also sends 0 to the offer id it was last pushed under, until that zero is
  final (accepted or refused for good), so the partner never keeps units under an article the hub dropped.
- A changed push never re-sends what the partner took (accepted, or refused for good, with the same offer,
  Wildberries size id and value: a size id mapped since is sent); a full push re-sends everything except
  what this same push already had accepted (a resumed push does not send a batch twice).
- A pair sent less than the partner's pair interval ago (Ozon: 30 s per offer and warehouse) is deferred,
  not dropped: its dirty mark stays and the push comes back when the interval has passed.
- Requests are paced by a log of when each was sent: at most `per_minute` in any 60 s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

WINDOW_SECONDS = 60.0  # the partners' request budgets are per minute
MAX_REJECTIONS = 20  # kept on a push record: enough to show what is wrong without growing it


@dataclass(frozen=True)
class Warehouse:
    warehouse_id: str
    locations: tuple[str, ...]


@dataclass(frozen=True)
class PairState:
    """What the push state holds of one (partner warehouse, SKU): the last value sent and what became of it."""

    warehouse_id: str
    sku: str
    offer_id: str
    amount: int
    stamp: str  # when the figure sent was read: a state is only ever replaced by a newer one
    state: str  # an Outcome value (accepted / retry / refused)
    sent_at: float | None = None  # epoch seconds
    accepted_at: str | None = None
    verified: bool = False
    reason: str | None = None
    retired_offer_id: str | None = None  # an offer id that still has to get its 0
    chrt_id: int | None = None  # Wildberries' size id the offer was sent with


@dataclass(frozen=True)
class Pair:
    """One line to send: `offer_id` at `warehouse_id` gets `amount`."""

    sku: str
    warehouse_id: str
    offer_id: str
    amount: int
    chrt_id: int | None = None
    retiring: bool = False  # the 0 for an offer id the SKU no longer has

    @property
    def key(self) -> tuple[str, str]:
        """How the partner's answer names the line."""
        return (self.offer_id, self.warehouse_id)


class Decision(StrEnum):
    send = "send"
    defer = "defer"
    skip = "skip"


def warehouse_amount(offered: Mapping[str, int], warehouse: Warehouse) -> int:
    """The warehouse's value: the locations' offered units summed (a location not offered counts 0)."""
    return sum(max(offered.get(location, 0), 0) for location in warehouse.locations)


def offered_per_location(offer: Mapping[str, Any]) -> dict[str, int]:
    """location -> units, from an availability answer item ({sku, available, locations[{location_id, available}]})."""
    return {str(loc["location_id"]): int(loc["available"]) for loc in offer.get("locations") or []}


def pairs_of(
    sku: str,
    offered: Mapping[str, int],
    warehouses: Sequence[Warehouse],
    offer_id: str,
    chrt_id: int | None,
    states: Mapping[str, PairState],
) -> list[Pair]:
    """The SKU's lines, one per warehouse (`states`: warehouse -> its state), plus a 0 for an offer id the
    SKU was last pushed under and no longer has."""
    pairs = []
    for warehouse in warehouses:
        pairs.append(Pair(sku, warehouse.warehouse_id, offer_id, warehouse_amount(offered, warehouse), chrt_id))
        state = states.get(warehouse.warehouse_id)
        if state is None:
            continue
        retired = state.retired_offer_id or (state.offer_id if state.offer_id != offer_id else None)
        if retired is not None and retired != offer_id:
            pairs.append(Pair(sku, warehouse.warehouse_id, retired, 0, state.chrt_id, retiring=True))
    return pairs


@dataclass(frozen=True)
class Sending:
    """One request's facts that go on every state it settles."""

    stamp: str  # when its figures were read
    sent_at: float  # epoch seconds
    now: str
    verified: bool  # read back (Wildberries)


def settled(
    state: PairState | None,
    group: Sequence[Pair],
    outcomes: Mapping[tuple[str, str], tuple[str, str | None]],
    sending: Sending,
) -> PairState:
    """A (warehouse, SKU)'s state once its group was sent: its line's outcome, and the dropped offer id
    still to zero unless its 0 was final (`outcomes`: (offer_id, warehouse) -> (outcome, reason))."""
    line = next(pair for pair in group if not pair.retiring)
    outcome, reason = outcomes[line.key]
    still_retiring = [
        pair.offer_id for pair in group if pair.retiring and outcomes[pair.key][0] not in ("accepted", "refused")
    ]
    same_offer = state is not None and state.offer_id == line.offer_id and state.chrt_id == line.chrt_id
    return PairState(
        warehouse_id=line.warehouse_id,
        sku=line.sku,
        offer_id=line.offer_id,
        amount=line.amount,
        stamp=sending.stamp,
        state=outcome,
        sent_at=sending.sent_at,
        accepted_at=sending.now
        if outcome == "accepted"
        else (state.accepted_at if state is not None and same_offer else None),
        verified=(sending.verified and outcome == "accepted") or (same_offer and state is not None and state.verified),
        reason=reason,
        retired_offer_id=still_retiring[0] if still_retiring else None,
        chrt_id=line.chrt_id,
    )


def decide(
    pair: Pair, state: PairState | None, *, full: bool, push_started: str, now: float, pair_interval: float
) -> tuple[Decision, float]:
    """Whether to send the pair now, later (with the epoch second it may go) or not at all."""
    same_line = state is not None and (state.offer_id, state.chrt_id, state.amount) == (
        pair.offer_id,
        pair.chrt_id,
        pair.amount,
    )
    if state is not None and not pair.retiring and same_line:
        final = state.state in {"accepted", "refused"}
        taken_by_this_push = state.state == "accepted" and (state.accepted_at or "") >= push_started
        if (final and not full and state.retired_offer_id is None) or taken_by_this_push:
            return Decision.skip, now
    if state is not None and state.sent_at is not None and now < state.sent_at + pair_interval:
        return Decision.defer, state.sent_at + pair_interval
    return Decision.send, now


def batches(groups: Iterable[Sequence[Pair]], batch_size: int, one_warehouse_per_request: bool) -> list[list[Pair]]:
    """Requests of at most `batch_size` lines, each of one warehouse when the partner wants it so, in the
    order the groups came (per warehouse, in order of first appearance). A group (one SKU at one warehouse:
    its line and the 0 of an offer id it dropped) is never split, so its outcome is known at once."""
    requests: dict[str, list[list[Pair]]] = {}
    for group in groups:
        if not group:
            continue
        filling = requests.setdefault(group[0].warehouse_id if one_warehouse_per_request else "", [[]])
        if len(filling[-1]) + len(group) > batch_size:
            filling.append([])
        filling[-1].extend(group)
    return [batch for per_warehouse in requests.values() for batch in per_warehouse if batch]


def round_size(chunk: int, batch_size: int, one_warehouse_per_request: bool) -> int:
    """SKUs to read and send per round: at least `chunk`, and for a partner taking one warehouse per request a
    whole number of its batches (each SKU is one line per warehouse), so a round's requests go full (Market:
    2,000 SKUs a request where the engine reads 1,000 a round would send twice its minimum)."""
    if not one_warehouse_per_request:
        return chunk  # lines of every warehouse mix: SKUs x warehouses fill the batches as they come
    return math.ceil(chunk / batch_size) * batch_size


def recent(log: Iterable[float], now: float) -> list[float]:
    """The request times still inside the budget window."""
    return sorted(t for t in log if t > now - WINDOW_SECONDS)


def budget_wait(log: Iterable[float], now: float, per_minute: int) -> float:
    """Seconds until one more request fits in `per_minute` requests per 60 s (0: now)."""
    window = recent(log, now)
    if len(window) < per_minute:
        return 0.0
    return max(window[len(window) - per_minute] + WINDOW_SECONDS - now, 0.0)


@dataclass
class Counters:
    """A push's figures, as its record shows them (added up over its invocations)."""

    items: int = 0  # lines sent
    requests: int = 0  # partner requests
    accepted: int = 0
    rejected: int = 0  # refused for good
    retried: int = 0  # refused for a reason that can pass: sent again later
    rejections: list[dict[str, str]] = field(default_factory=list)

    def add_outcome(self, pair: Pair, outcome: str, reason: str | None) -> None:
        if outcome == "accepted":
            self.accepted += 1
        elif outcome == "refused":
            self.rejected += 1
            if len(self.rejections) < MAX_REJECTIONS:
                self.rejections.append(
                    {
                        "sku": pair.sku,
                        "offer_id": pair.offer_id,
                        "warehouse_id": pair.warehouse_id,
                        "reason": reason or "",
                    }
                )
        else:
            self.retried += 1

    def taken(self) -> Counters:
        """These figures, and this object emptied for the next batch."""
        figures = Counters(self.items, self.requests, self.accepted, self.rejected, self.retried, self.rejections)
        self.items = self.requests = self.accepted = self.rejected = self.retried = 0
        self.rejections = []
        return figures
