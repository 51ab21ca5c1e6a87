"""The order as channels send it and as the hub shows it."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, field_validator, model_validator

from common.models import DeliveryMethod, Identifier
from inventory.domain.stock_changes import Sku

# Money stays exact inside (Decimal) and is a JSON number outside, as the contract shows it.
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2),
                  PlainSerializer(float, return_type=float, when_used="json")]

MAX_LINES = 40  # one order + 2 items per reserved line + 1 task must fit TransactWriteItems' 100 items


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 ()-]{4,24}$")
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    qty: int = Field(ge=1, le=10_000)
    price: Money


class Delivery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: DeliveryMethod
    address: str | None = Field(None, min_length=1, max_length=500)
    location_id: Identifier | None = None

    @model_validator(mode="after")
    def _where(self) -> Delivery:
        if self.method in (DeliveryMethod.courier, DeliveryMethod.post) and not self.address:
            raise ValueError(f"delivery.address is required for {self.method.value}")
        if self.method in (DeliveryMethod.click_collect, DeliveryMethod.reserve_in_store) and not self.location_id:
            raise ValueError(f"delivery.location_id is required for {self.method.value}")
        return self


class PaymentMethod(StrEnum):
    prepaid = "prepaid"
    cod = "cod"
    on_pickup = "on_pickup"


class Payment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: PaymentMethod


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Identifier
    external_id: str = Field(min_length=1, max_length=128)
    customer: Customer
    lines: list[Line] = Field(min_length=1, max_length=MAX_LINES)
    delivery: Delivery
    payment: Payment
    ship_by: AwareDatetime | None = Field(
        None, description="Hand-over deadline set by the channel (a marketplace's ship-by): the order's SLA deadline.")

    def order_id(self) -> str:
        return order_id_for(self.channel, self.external_id)

    def quantities(self) -> dict[str, int]:
        """Units wanted per SKU (one SKU on two lines is reserved once)."""
        wanted: dict[str, int] = {}
        for line in self.lines:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.qty
        return wanted


def order_id_for(channel: str, external_id: str) -> str:
    """Derived from (channel, external_id): a retried post names the same order and the same execution,
    and a partner's later push about the same external order finds it without an index."""
    digest = hashlib.sha256(f"{channel}\x1f{external_id}".encode()).hexdigest()
    return f"ord_{digest[:24]}"


class Allocation(BaseModel):
    sku: str
    location_id: str
    qty: int


class Shortage(BaseModel):
    sku: str
    missing: int


class TimelineEntry(BaseModel):
    at: str
    status: str
    event: str
    source: str
    note: str | None = None

    @field_validator("note")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None  # the state machine writes "" when an event has no note


class Order(BaseModel):
    order_id: str
    channel: str
    external_id: str
    status: str
    customer: Customer
    lines: list[Line]
    delivery: Delivery
    payment: Payment
    total: Money
    allocations: list[Allocation]
    shortages: list[Shortage]
    workflow: str
    timeline: list[TimelineEntry]
    pending_event: str | None = Field(None, description="An accepted event the lifecycle is applying now.")
    attention: str | None = Field(None, description="Why an operator should look at this order.")
    last_error: str | None = Field(None, description="The error of the lifecycle step that failed, if one did.")
    ship_by: str | None = Field(None, description="The SLA deadline for handing the order over, UTC.")
    created_at: str
    updated_at: str


class OrderEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=32, pattern=r"^[a-z_]+$")
    note: str | None = Field(None, max_length=500)
    actor: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_.@:-]+$",
                              description="Operator id, recorded in the timeline.")


class Task(BaseModel):
    """An operator's to-do, e.g. an order short of stock: call the customer, substitute or cancel."""

    task_id: str
    kind: str
    state: str
    order_id: str
    channel: str
    shortages: list[Shortage]
    created_at: str
    updated_at: str | None = None
