"""What a storefront asks before checkout, and what it is told."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.models import ONE_LINE, Identifier, Moment, Number
from planning.cart import MAX_CART_LINES, CartLine
from planning.promise import Promise
from reference.models import DeliveryMethod


class Destination(BaseModel):
    model_config = ConfigDict(extra="forbid")

    city: str | None = Field(None, min_length=1, max_length=100, pattern=ONE_LINE)
    lat: Number | None = Field(None, ge=-90, le=90)
    lon: Number | None = Field(None, ge=-180, le=180)
    location_id: Identifier | None = Field(None, description="The store for click & collect / reserve in store.")

    @model_validator(mode="after")
    def _pair(self) -> Destination:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("destination.lat and destination.lon go together")
        return self


class PromiseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Identifier
    lines: list[CartLine] = Field(min_length=1, max_length=MAX_CART_LINES)
    destination: Destination = Field(default_factory=Destination)
    methods: list[DeliveryMethod] | None = Field(None, min_length=1, description="Default: every method.")
    placed_at: Moment | None = Field(
        None, description="When the order would be placed (2000-2100, with a UTC offset); default now."
    )


class Unavailable(BaseModel):
    method: DeliveryMethod
    reason: str


class PromiseAnswer(BaseModel):
    channel: str
    placed_at: str
    options: list[Promise] = Field(description="One per method that can be promised, earliest first.")
    unavailable: list[Unavailable]
