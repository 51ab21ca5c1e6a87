"""An order's loyalty points as the order carries them (docs/loyalty.md): what the channel asks for, what the
order records, and what it shows. Pure.

The order item keeps `loyalty: {card, redeem_points, basis, operations, version}`: `basis` is the value of
each SKU's units at intake (short picks and substitutions change the order's lines later; what points are
given back for is measured against what the points were redeemed on), `operations` one record per
provider operation, by its key (`{operation, call, points, state: planned|done|refused, removed?}`), `version` the
optimistic lock of the planning writes. The figures an order shows are sums of its done operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

MAX_POINTS = 10_000_000
CARD_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]*$"

Operation = Literal["hold", "write_off", "give_back", "accrue", "take_back"]
SHOWN_FIGURES: Mapping[Operation, str] = {
    "hold": "held",
    "write_off": "written_off",
    "give_back": "returned",
    "accrue": "accrued",
    "take_back": "taken_back",
}


def masked_card(card: str) -> str:
    """The last four characters of a card long enough to keep them hidden otherwise, the rest as stars."""
    shown = 4 if len(card) >= 8 else 0
    return "*" * (len(card) - shown) + card[len(card) - shown :]


class LoyaltyIn(BaseModel):
    """The customer's loyalty card and the points to pay part of the order with (1 point = 1 unit of money)."""

    model_config = ConfigDict(extra="forbid")

    card: str = Field(min_length=4, max_length=32, pattern=CARD_PATTERN, description="The loyalty card's number.")
    redeem_points: StrictInt = Field(
        0, ge=0, le=MAX_POINTS, description="Points to pay with, at most the order's total; held at intake."
    )


def _masked(value: Any) -> Any:
    return masked_card(value) if isinstance(value, str) else value


class LoyaltyShown(BaseModel):
    """The order's points as `GET /v1/orders/{id}` shows them: the figures the provider confirmed."""

    card: Annotated[str, BeforeValidator(_masked)] = Field(description="Masked: the last 4 characters.")
    redeem_points: int
    held: int = Field(0, description="Points held at intake.")
    written_off: int = Field(0, description="Points written off the card (paid or delivered, per the channel).")
    accrued: int = Field(0, description="Points accrued on delivery.")
    returned: int = Field(0, description="Points given back: cancel, partial return, short pick (pro rata).")
    taken_back: int = Field(0, description="Accrued points taken back for what was returned after delivery.")


def shown_loyalty(record: Mapping[str, Any]) -> dict[str, Any]:
    """The stored record as the order shows it."""
    figures = dict.fromkeys(SHOWN_FIGURES.values(), 0)
    for operation in done_operations(record):
        figures[SHOWN_FIGURES[operation["operation"]]] += int(operation["points"])
    return {"card": record["card"], "redeem_points": int(record["redeem_points"]), **figures}


def operations(record: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    """The operations that count: planned (their points spoken for) or done; a refused one moved nothing."""
    stored: Mapping[str, Mapping[str, Any]] = record.get("operations") or {}
    return [operation for operation in stored.values() if operation["state"] != "refused"]


def done_operations(record: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    return (operation for operation in operations(record) if operation["state"] == "done")


def new_record(loyalty: LoyaltyIn, lines: Iterable[tuple[str, int, Decimal]]) -> dict[str, Any]:
    """The record intake stores: the card, the points, and the basis (units and value per SKU)."""
    basis: dict[str, dict[str, Any]] = {}
    for sku, qty, price in lines:
        held = basis.setdefault(sku, {"units": 0, "value": Decimal(0)})
        held["units"] += qty
        held["value"] += price * qty
    return {
        "card": loyalty.card,
        "redeem_points": loyalty.redeem_points,
        "basis": basis,
        "operations": {},
        "version": 0,
    }
