"""The points arithmetic of one order (docs/loyalty.md). Pure: the order's loyalty record in, whole points out.

A point is worth one unit of money. The points redeemed on an order are held at intake, written off when it
is paid or delivered, and given back PRO RATA to the value removed from it (cancel, partial return, short
pick), measured against the value the points were redeemed on (the record's basis, per SKU). The share is
computed on the value removed so far, all removals together, and rounded down: the parts given back add up
to exactly what the removed value is worth, never to more than was redeemed, and all of it once every unit
is gone. A unit cannot be removed twice: the removals of a SKU stop at its units in the basis. An accrual
is the channel's rate of the money paid for what was kept; units removed after it take back their share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from orders.domain.loyalty import Operation, operations


@dataclass(frozen=True)
class Planned:
    """What an operation is to do: `points` (0: nothing to do, `reason` says why); for a give-back, the units
    it removes from the basis (so a later one does not count them again); for a hold or an accrual, the
    money of the purchase the points are for (the provider is told it)."""

    points: int
    reason: str | None = None
    removed: Mapping[str, int] | None = None
    amount: Decimal | None = None


def _planned(record: Mapping[str, Any], operation: Operation, *, done: bool = False) -> int:
    return sum(
        int(op["points"])
        for op in operations(record)
        if op["operation"] == operation and (op["state"] == "done" or not done)
    )


def held(record: Mapping[str, Any]) -> int:
    """Points the provider confirmed holding at intake (whatever was written off or given back since)."""
    return _planned(record, "hold", done=True)


def removed_units(record: Mapping[str, Any]) -> dict[str, int]:
    """Units removed from the basis by every give-back so far (planned ones too: their points are spoken for)."""
    total: dict[str, int] = {}
    for op in operations(record):
        for sku, qty in (op.get("removed") or {}).items():
            total[sku] = total.get(sku, 0) + int(qty)
    return total


def _value(basis: Mapping[str, Mapping[str, Any]], units: Mapping[str, int]) -> Fraction:
    """The value of `units` at the basis' price per unit of each SKU, exactly (a third of 100.00 is not
    rounded before the share is: a share that is exactly whole must not come out one point short)."""
    return sum(
        (Fraction(Decimal(basis[sku]["value"])) * qty / int(basis[sku]["units"]) for sku, qty in units.items()),
        start=Fraction(0),
    )


def _all_units(record: Mapping[str, Any]) -> dict[str, int]:
    return {sku: int(line["units"]) for sku, line in record["basis"].items()}


def _cents(value: Fraction) -> Decimal:
    """Money for the provider, to the cent below (a basis' value is whole cents, a kept share may not be)."""
    return Decimal(math.floor(value * 100)) / 100


def _share(points: int, value: Fraction, whole: Fraction) -> int:
    """`points` * value / whole, rounded down: all of them once the value is the whole."""
    if whole <= 0:
        return 0
    return points if value >= whole else math.floor(points * value / whole)


def hold(record: Mapping[str, Any]) -> Planned:
    """The points the order redeems, once."""
    if int(record["redeem_points"]) == 0:
        return Planned(0, "no points to redeem")
    points = int(record["redeem_points"]) - _planned(record, "hold")
    if points <= 0:
        return Planned(0, "the points are held already")
    return Planned(points, amount=_cents(_value(record["basis"], _all_units(record))))


def write_off(record: Mapping[str, Any]) -> Planned:
    """All the points still held: held, less what was written off or given back from the hold."""
    if _planned(record, "write_off") > 0:
        return Planned(0, "the points are written off already")
    still_held = held(record) - _planned(record, "give_back")
    return Planned(still_held) if still_held > 0 else Planned(0, "no points are held")


def give_back(record: Mapping[str, Any], removing: Mapping[str, int]) -> Planned:
    """The points the value of `removing` (units per SKU) is worth of the redeemed points, given what earlier
    give-backs removed and returned. Units beyond the basis (or of a SKU not in it) count for nothing."""
    basis: Mapping[str, Mapping[str, Any]] = record["basis"]
    before = removed_units(record)
    removed = {
        sku: taken
        for sku, qty in removing.items()
        if sku in basis and (taken := min(qty, int(basis[sku]["units"]) - before.get(sku, 0))) > 0
    }
    if not removed:
        return Planned(0, "these units were given back for already")
    redeemed = held(record)
    if redeemed == 0:  # the units still count: an accrual is taken back for them
        return Planned(0, "no points are redeemed", removed)
    after = {sku: before.get(sku, 0) + removed.get(sku, 0) for sku in {*before, *removed}}
    whole = _value(basis, _all_units(record))
    points = _share(redeemed, _value(basis, after), whole) - _planned(record, "give_back")
    return Planned(points, None if points > 0 else "the removed value is worth less than a point", removed)


def _paid_for_kept(record: Mapping[str, Any]) -> Fraction:
    """The money paid for what the customer keeps: its value less the points that paid for it."""
    basis: Mapping[str, Mapping[str, Any]] = record["basis"]
    kept = {sku: int(line["units"]) - removed_units(record).get(sku, 0) for sku, line in basis.items()}
    return max(_value(basis, kept) - (held(record) - _planned(record, "give_back")), Fraction(0))


def accrual(record: Mapping[str, Any], rate: Decimal) -> Planned:
    """The rate of the money paid for what the customer kept, once; the provider is told that money."""
    if _planned(record, "accrue") > 0:
        return Planned(0, "the points are accrued already")
    paid = _paid_for_kept(record)
    points = math.floor(Fraction(rate) * paid)
    return Planned(points, amount=_cents(paid)) if points > 0 else Planned(0, "nothing to accrue")


def take_back(record: Mapping[str, Any]) -> Planned:
    """The accrued points the money no longer paid is worth (units removed after the accrual): the accrual
    shrinks in proportion to the money paid for what is kept, against the money it was accrued on. The
    accrual left is rounded down, so what is taken back never exceeds what was accrued."""
    accrued = [
        op for op in operations(record) if op["operation"] == "accrue" and op["state"] == "done" and op["points"]
    ]
    points = sum(int(op["points"]) for op in accrued)
    accrued_on = sum((Fraction(Decimal(op["amount"])) for op in accrued), start=Fraction(0))
    if points == 0 or accrued_on <= 0:
        return Planned(0, "no points were accrued")
    left = min(points, math.floor(points * _paid_for_kept(record) / accrued_on))
    taken = points - left - _planned(record, "take_back")
    return Planned(taken) if taken > 0 else Planned(0, "the accrual stands")
