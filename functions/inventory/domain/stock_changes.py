"""Stock import requests: a snapshot sets on-hand, a delta adds to it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\s#]+$")]


class StockMode(StrEnum):
    snapshot = "snapshot"
    delta = "delta"


class StockLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    on_hand: int = Field(ge=-1_000_000_000, le=1_000_000_000,
                         description="Snapshot: units on hand (>= 0). Delta: units to add (may be negative).")


class StockUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[StockLine] = Field(min_length=1, max_length=1000)
    mode: StockMode = StockMode.snapshot

    @model_validator(mode="after")
    def _consistent(self) -> StockUpdate:
        skus = [line.sku for line in self.items]
        if len(set(skus)) != len(skus):
            raise ValueError("each sku may appear once per request")
        if self.mode is StockMode.snapshot and any(line.on_hand < 0 for line in self.items):
            raise ValueError("a snapshot's on_hand must be >= 0")
        return self


class StockLineError(BaseModel):
    sku: str
    error: str
    message: str


class StockUpdateResult(BaseModel):
    updated: int
    errors: list[StockLineError] = Field(default_factory=list)
