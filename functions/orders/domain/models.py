"""The order as channels send it and as the hub shows it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    StrictBool,
    field_validator,
    model_serializer,
    model_validator,
)

from common.models import EMAIL, FREE_TEXT, ONE_LINE, Identifier, Moment, Number, Sku, a_number
from orders.domain.actions import ActionRecord, shown
from orders.domain.loyalty import LoyaltyIn, LoyaltyShown, shown_loyalty
from planning.cart import MAX_CART_LINES, CartLine, Qty, quantities
from planning.promise import Promise
from planning.sourcing import Allocation, CustomerPlace, Shortage
from reference.models import DeliveryMethod

# Money stays exact inside (Decimal) and is a JSON number outside, as the contract shows it (not true, not "1").
MAX_MONEY = Decimal("999999999999.99")  # 14 digits: also the bound of every sum of money the hub stores
CENT = Decimal("0.01")


def _cents(value: Any) -> Any:
    """A number, not true or "1"; trailing zeros dropped to cents (a partner's "1390.000000" is 1390.00)."""
    value = a_number(value)
    if isinstance(value, Decimal) and value.is_finite():
        try:
            cents = value.quantize(CENT)
        except InvalidOperation:  # more digits than the context holds: left for the bounds to refuse
            return value
        return cents if cents == value else value
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_cents),
    Field(ge=0, le=MAX_MONEY, max_digits=14, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]

# An order's total as read back: any stored amount (orders stored before the write side bounded totals
# must stay readable and cancellable); new ones are at most MAX_MONEY.
StoredMoney = Annotated[Decimal, Field(ge=0), PlainSerializer(float, return_type=float, when_used="json")]


def order_total(lines: Sequence[Line]) -> Decimal:
    return sum((line.price * line.qty for line in lines), start=Decimal(0))


def check_total(lines: Sequence[Line]) -> None:
    """Every line total and the order's total must fit Money, as the order is read back with it."""
    for line in lines:
        if line.price * line.qty > MAX_MONEY:
            raise ValueError(f"the total of line {line.sku} ({line.qty} x {line.price}) exceeds {MAX_MONEY}")
    if order_total(lines) > MAX_MONEY:
        raise ValueError(f"the order's total exceeds {MAX_MONEY}")


class Consent(BaseModel):
    """The customer's consent to order notifications, per medium."""

    model_config = ConfigDict(extra="forbid")

    sms: StrictBool | None = None
    email: StrictBool | None = None


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=ONE_LINE)
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 ()-]{4,24}$")
    email: str | None = Field(None, max_length=254, pattern=EMAIL)
    consent: Consent | None = Field(
        None,
        description="What the customer agreed to be notified by; a medium left out follows the channel's "
        "`notifications` defaults (docs/notifications.md).",
    )


class Line(CartLine):
    price: Money


class Delivery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: DeliveryMethod
    address: str | None = Field(None, min_length=1, max_length=500, pattern=FREE_TEXT)
    location_id: Identifier | None = None
    city: str | None = Field(
        None, min_length=1, max_length=100, pattern=ONE_LINE, description="The customer's city, for sourcing."
    )
    lat: Number | None = Field(None, ge=-90, le=90, description="The customer's coordinates, for sourcing.")
    lon: Number | None = Field(None, ge=-180, le=180)

    @field_validator("lat", "lon")
    @classmethod
    def _coordinate_precision(cls, value: float | None) -> float | None:
        return None if value is None else round(value, 6)  # DynamoDB numbers hold 38 digits

    def destination(self) -> CustomerPlace:
        """Where the customer is, as sourcing ranks locations by it."""
        return CustomerPlace(self.lat, self.lon, self.city)

    @model_validator(mode="after")
    def _where(self) -> Delivery:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("delivery.lat and delivery.lon go together")
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
    status: Literal["pending", "paid"] | None = Field(
        None,
        description="Prepaid only: `pending` makes the order wait for the acquirer's callback "
        "(awaiting_payment); absent or `paid`: the channel took the payment already.",
    )

    @model_validator(mode="after")
    def _pending_is_prepaid(self) -> Payment:
        if self.status == "pending" and self.method is not PaymentMethod.prepaid:
            raise ValueError("only a prepaid payment can be pending (cod and on_pickup are paid on hand-over)")
        return self


class PaymentState(Payment):
    """The payment as the order shows it: what the acquirer reported."""

    model_config = ConfigDict(extra="ignore")

    payment_id: str | None = None
    paid_at: str | None = None
    link_url: str | None = Field(None, description="The last payment link requested for the customer.")
    refund_id: str | None = Field(None, description="Set once a paid order that was cancelled is refunded.")


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Identifier
    external_id: str = Field(min_length=1, max_length=128, pattern=ONE_LINE)
    customer: Customer
    lines: list[Line] = Field(
        min_length=1,
        max_length=MAX_CART_LINES,
        description=f"Each line's total and the order's total are at most {MAX_MONEY}.",
    )
    delivery: Delivery
    payment: Payment
    ship_by: Moment | None = Field(
        None, description="Hand-over deadline set by the channel (a marketplace's ship-by): the order's SLA deadline."
    )
    hold_until: Moment | None = Field(
        None,
        description="Release the reserved units at this time unless the order has moved on (e.g. an unpaid "
        "prepaid order). Reserve-in-store orders get the location's hold_hours without it.",
    )
    loyalty: LoyaltyIn | None = Field(None, description="A loyalty card and the points to pay with (docs/loyalty.md).")

    @model_validator(mode="after")
    def _storable_total(self) -> OrderIn:
        check_total(self.lines)
        if self.loyalty is not None and self.loyalty.redeem_points > self.total():
            raise ValueError(f"loyalty.redeem_points ({self.loyalty.redeem_points}) exceeds the order's total")
        return self

    def order_id(self) -> str:
        return order_id_for(self.channel, self.external_id)

    def total(self) -> Decimal:
        return order_total(self.lines)

    def quantities(self) -> dict[str, int]:
        return quantities(self.lines)


def order_id_for(channel: str, external_id: str) -> str:
    """Derived from (channel, external_id): a retried post names the same order and the same execution,
    and a partner's later push about the same external order finds it without an index."""
    digest = hashlib.sha256(f"{channel}\x1f{external_id}".encode()).hexdigest()
    return f"ord_{digest[:24]}"


class Sourcing(BaseModel):
    """Where the order's stock was reserved, by which rule and why (docs/sourcing.md)."""

    locations: list[str]
    rule: str
    reason: str


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


class ReturnLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    qty: Qty


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    return_id: Identifier = Field(description="The caller's id of this return: the same id again changes nothing.")
    reason: str = Field(min_length=1, max_length=200, pattern=FREE_TEXT)
    location_id: Identifier = Field(description="Where the returned units go back on hand.")
    lines: list[ReturnLine] = Field(min_length=1, max_length=MAX_CART_LINES)


class Return(ReturnIn):
    at: str


class MissingLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    missing: Qty


class ShortPickIn(BaseModel):
    """Units the pickers at one location did not find."""

    model_config = ConfigDict(extra="forbid")

    location_id: Identifier
    lines: list[MissingLine] = Field(min_length=1, max_length=MAX_CART_LINES)
    note: str | None = Field(None, max_length=500, pattern=FREE_TEXT)


class Order(BaseModel):
    order_id: str
    channel: str
    external_id: str
    status: str
    customer: Customer
    lines: list[Line]
    delivery: Delivery
    payment: PaymentState
    total: StoredMoney
    allocations: list[Allocation]
    shortages: list[Shortage]
    workflow: str
    timeline: list[TimelineEntry]
    pending_event: str | None = Field(None, description="An accepted event the lifecycle is applying now.")
    attention: str | None = Field(None, description="Why an operator should look at this order.")
    last_error: str | None = Field(None, description="The error of the lifecycle step that failed, if one did.")
    ship_by: str | None = Field(None, description="The SLA deadline for handing the order over, UTC.")
    returns: list[Return] = Field(default_factory=list, description="Full and partial returns, oldest first.")
    hold_expires_at: str | None = Field(
        None, description="When the order's held units are released (status `expired`) unless it has moved on, UTC."
    )
    sourcing: Sourcing | None = None
    promise: Promise | None = Field(
        None, description="The delivery promise made at intake; none while stock is missing."
    )
    actions: list[ActionRecord] = Field(
        default_factory=list,
        description="The on-entry actions of the statuses the order entered, each once per entry "
        "(docs/actions.md), in the order they started.",
    )
    loyalty: LoyaltyShown | None = Field(None, description="The loyalty points of the order (docs/loyalty.md).")
    created_at: str
    updated_at: str

    @field_validator("actions", mode="before")
    @classmethod
    def _records_in_order(cls, value: Any) -> Any:
        return shown({"actions": value}) if isinstance(value, dict) else value

    @field_validator("loyalty", mode="before")
    @classmethod
    def _loyalty_figures(cls, value: Any) -> Any:
        return shown_loyalty(value) if isinstance(value, dict) and "operations" in value else value


class PaymentCallbackIn(BaseModel):
    """What the acquirer posts (signed) when a payment settles."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1, max_length=128, pattern=ONE_LINE)
    payment_id: str = Field(min_length=1, max_length=128, pattern=ONE_LINE)
    order_id: str = Field(min_length=1, max_length=64)
    status: Literal["succeeded", "failed"]
    amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2)  # the acquirer may send it as text


class OrderEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=32, pattern=r"^[a-z_]+$")
    note: str | None = Field(None, max_length=500, pattern=FREE_TEXT)
    actor: str | None = Field(
        None, max_length=64, pattern=r"^[A-Za-z0-9_.@:-]+$", description="Operator id, recorded in the timeline."
    )


class RefusedStock(BaseModel):
    """A line of stock a marketplace refused for good (kind `stock_push_refused`, docs/stock-push.md)."""

    sku: str
    offer_id: str
    warehouse_id: str
    reason: str


class Task(BaseModel):
    """An operator's to-do, e.g. an order short of stock (call the customer, substitute or cancel), a
    channel's stock lines its marketplace refuses (fix the offer mapping), an order action a partner
    refused (`action_failed`), a store's order to pick (`store_order`), an order over its status's SLA for a
    role (`sla`, one per order, status entry and role) or an order whose lifecycle execution died
    (`lifecycle_lost`)."""

    task_id: str
    kind: str
    state: str
    order_id: str | None = None  # stock_shortage
    channel: str
    shortages: list[Shortage] | None = None  # stock_shortage
    refused: list[RefusedStock] | None = None  # stock_push_refused: the latest push's refusals
    push_id: str | None = None  # stock_push_refused
    action: str | None = None  # action_failed, store_order: the order action that opened it
    reason: str | None = None  # action_failed: the partner's reason; store_order: what to do; lifecycle_lost
    status: str | None = None  # sla, lifecycle_lost: the status the order waits in
    role: str | None = None  # sla, lifecycle_lost: who should act
    location_id: str | None = None  # sla: the store, for a store role
    tier: str | None = None  # sla: the latest tier fired (warn, escalate_<n>, breach)
    due_at: str | None = None  # sla: when the status's KPI ends
    notified: bool | None = None  # sla: whether the role's contacts were told (False: retried at the next run)
    created_at: str
    updated_at: str | None = None

    @model_serializer(mode="wrap")
    def _own_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A task shows the fields of its kind: the other kinds' are left out, not shown as null.
        shown: dict[str, Any] = handler(self)
        return {k: v for k, v in shown.items() if v is not None or k not in _KIND_FIELDS}


_KIND_FIELDS = frozenset(
    {
        "order_id",
        "shortages",
        "refused",
        "push_id",
        "action",
        "reason",
        "status",
        "role",
        "location_id",
        "tier",
        "due_at",
        "notified",
    }
)


@dataclass(frozen=True)
class StatusStep:
    """A lifecycle step into `status` (a state machine task): the order, its channel and workflow, the
    event that led there, and the task token of a status that waits."""

    order_id: str
    channel: str
    workflow: str
    status: str
    event: dict[str, Any]
    now: str
    task_token: str | None = None
