"""Stock import requests: a snapshot sets on-hand, a delta adds to it; a batch id makes either safe to repeat."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from common.models import MAX_UNITS, Day, Identifier, Sku

MAX_STOCK_LINES = 1000  # per request; a bigger file is sent as several batches (the CLI does this)
__all__ = ["MAX_STOCK_LINES", "Sku", "StockLine", "StockLineError", "StockMode", "StockUpdate", "StockUpdateResult"]


class StockMode(StrEnum):
    snapshot = "snapshot"
    delta = "delta"


class StockLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    on_hand: StrictInt = Field(
        ge=-MAX_UNITS,
        le=MAX_UNITS,
        description="Snapshot: units on hand (>= 0). Delta: units to add (may be negative).",
    )
    expected_at: Day | None = Field(
        None,
        description="Expected arrival of more units (shown while none are "
        "offered): a date, or a date-time with a UTC offset (its UTC "
        "day), 2000-2100. A snapshot line without it clears it.",
    )

    @classmethod
    def from_text(cls, row: Mapping[str, str | None]) -> StockLine:
        """A line of a CSV file, where every value is text: a whole number there is a number."""
        on_hand = row.get("on_hand")
        if isinstance(on_hand, str) and re.fullmatch(r"\s*[+-]?[0-9]{1,10}\s*", on_hand):
            return cls.model_validate({**row, "on_hand": int(on_hand)})
        return cls.model_validate(row)


class StockUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[StockLine] = Field(min_length=1, max_length=MAX_STOCK_LINES)
    mode: StockMode = StockMode.snapshot
    batch_id: Identifier | None = Field(
        None, description="The ERP's id of this batch: the same batch id again for this location changes nothing."
    )
    part: StrictInt = Field(
        0,
        ge=0,
        le=1_000_000,
        description="A batch too big for one request is sent in parts 0, 1, 2... under the same batch id.",
    )
    zero_unlisted: bool = Field(
        False,
        description="Snapshot only, on the batch's last part: set every SKU of "
        "the location that no part of this batch listed to zero.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> StockUpdate:
        skus = [line.sku for line in self.items]
        if len(set(skus)) != len(skus):
            raise ValueError("each sku may appear once per request")
        if self.mode is StockMode.snapshot and any(line.on_hand < 0 for line in self.items):
            raise ValueError("a snapshot's on_hand must be >= 0")
        if self.zero_unlisted and self.mode is not StockMode.snapshot:
            raise ValueError("zero_unlisted only goes with mode snapshot")
        if self.zero_unlisted and self.batch_id is None:
            raise ValueError("zero_unlisted needs a batch_id (it marks the SKUs the batch listed)")
        return self


class StockLineError(BaseModel):
    sku: str
    error: str
    message: str


class StockUpdateResult(BaseModel):
    updated: int
    errors: list[StockLineError] = Field(default_factory=list)
    batch_id: str | None = None
    duplicate: bool = Field(False, description="The batch was applied before: nothing changed this time.")
    zeroed: int = Field(0, description="SKUs not listed that zero_unlisted set to zero.")
