"""An order's loyalty operations, one use case per operation, for the lifecycle's actions to call
(docs/loyalty.md). Each takes the order (as the orders table holds it, or at least its `order_id`) and the
action's key, and answers a LoyaltyResult; none raises for the provider's sake, so a loyalty outage never
blocks an order: a transient failure is the caller's to retry with the same key.

Each operation is planned on the order before the provider is asked (orders.adapters.order_loyalty) and
settled once it answered. A retry with the same key sends the planned operation again under the same
operation_id, which the provider does once; a repeat of a settled one asks nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, Literal

from common.observability import logger
from loyalty.adapters import loymax
from loyalty.domain import points
from loyalty.domain.results import LoyaltyRefused, LoyaltyResult, LoyaltyTransient, Outcome
from orders.adapters import order_loyalty, order_table
from orders.domain.loyalty import Operation, masked_card, operations
from reference import config_table
from reference.models import ChannelLoyalty

# What an operation waits for while the provider has not confirmed it (a refund needs the write-off done).
AFTER: Mapping[Operation, tuple[Operation, ...]] = {
    "write_off": ("hold",),
    "give_back": ("hold", "write_off"),
    "accrue": ("hold",),
    "take_back": ("hold", "accrue"),
}
PLAN_ATTEMPTS = 5  # concurrent operations of one order: each re-reads and plans on what the other left

Planner = Callable[[Mapping[str, Any]], points.Planned]


def hold(order: Mapping[str, Any], key: str, *, provider: loymax.Loymax | None = None) -> LoyaltyResult:
    """Hold the points the order redeems (on intake)."""
    return _Operation(order, key, "hold", provider).run(points.hold)


def write_off(
    order: Mapping[str, Any],
    key: str,
    *,
    on: Literal["paid", "delivered"],
    provider: loymax.Loymax | None = None,
) -> LoyaltyResult:
    """Write the held points off when the order is paid (channels that write off on payment) or delivered
    (all of them: what is still held when the customer has the goods is written off)."""
    if on == "paid" and _settings(order).write_off_on != "paid":
        return _ended(order, key, LoyaltyResult("write_off", "skipped", "the channel writes points off on delivery"))
    return _Operation(order, key, "write_off", provider).run(points.write_off)


def accrue(order: Mapping[str, Any], key: str, *, provider: loymax.Loymax | None = None) -> LoyaltyResult:
    """Accrue the channel's rate of the money paid for what the customer kept (on delivery)."""
    rate = Decimal(str(_settings(order).accrual_rate))  # as the operator wrote it: 0.07 is not 0.07000000000000001
    if rate <= 0:
        return _ended(order, key, LoyaltyResult("accrue", "skipped", "the channel accrues no points"))
    return _Operation(order, key, "accrue", provider).run(lambda record: points.accrual(record, rate))


def give_back(
    order: Mapping[str, Any],
    key: str,
    removed: Mapping[str, int] | None = None,
    *,
    provider: loymax.Loymax | None = None,
) -> LoyaltyResult:
    """Give back the redeemed points the removed units are worth (units per SKU: a partial return's or a
    short pick's lines; None: every unit, as on cancel), and take back what an accrual made on them is worth
    (`taken_back`). Units are named rather than their value so that units given back for once count for
    nothing the next time."""

    def planned(record: Mapping[str, Any]) -> points.Planned:
        units = removed if removed is not None else {sku: int(line["units"]) for sku, line in record["basis"].items()}
        return points.give_back(record, units)

    giving = _Operation(order, key, "give_back", provider)
    given = giving.run(planned)
    if given.outcome in ("transient_failure", "permanent_failure"):
        return given  # the accrual is looked at once the units are accounted for
    # An accrual planned after the give-back was accrued on what it left: only an earlier one is taken back.
    if not any(op["operation"] == "accrue" for op in operations(giving.order.get("loyalty") or {})):
        return given
    taken = _Operation(order, f"{key}#accrual", "take_back", provider).run(points.take_back)
    if taken.outcome == "skipped":
        return given
    return replace(
        given,
        outcome="done" if taken.outcome == "done" else taken.outcome,
        reason=None if taken.outcome == "done" else taken.reason,
        taken_back=taken.points,
        balance=taken.balance if taken.balance is not None else given.balance,
    )


def _settings(order: Mapping[str, Any]) -> ChannelLoyalty:
    channel = config_table.channel(str(order.get("channel", "")))
    return channel.loyalty if channel is not None else ChannelLoyalty()


class _Operation:
    def __init__(
        self, order: Mapping[str, Any], key: str, operation: Operation, provider: loymax.Loymax | None
    ) -> None:
        self.order_id = str(order["order_id"])
        self.key = key
        self.operation = operation
        self.provider = provider
        self.order = order

    def run(self, planner: Planner) -> LoyaltyResult:
        try:
            result = self._run(planner)
        except LoyaltyTransient as failure:
            result = LoyaltyResult(self.operation, "transient_failure", str(failure))
        return _ended(self.order, self.key, result)

    def _run(self, planner: Planner) -> LoyaltyResult:
        for _ in range(PLAN_ATTEMPTS):
            read = order_table.get_order(self.order_id)
            record = (read or {}).get("loyalty")
            if read is None or not record:
                return self._result("skipped", "the order carries no loyalty card")
            self.order = read
            ongoing = self._ongoing(record)
            if ongoing is not None:
                return ongoing
            planned = planner(record)
            if planned.points == 0 and not planned.removed:
                return self._result("skipped", planned.reason)
            operation = self._operation(record, planned)
            if order_loyalty.plan(self.order_id, self.key, operation, int(record["version"])):
                return self._asked(record, operation) if planned.points > 0 else self._result("skipped", planned.reason)
            # Another operation was planned meanwhile: plan again on what it left.
        raise LoyaltyTransient("the order's loyalty record kept changing while the operation was planned")

    def _ongoing(self, record: Mapping[str, Any]) -> LoyaltyResult | None:
        """The result of this key's operation when it was planned or settled before, or a transient failure
        while an earlier operation it depends on is unconfirmed (None: plan it now)."""
        seen = (record.get("operations") or {}).get(self.key)
        if seen is not None and seen["state"] == "done":
            if not seen["points"]:
                return self._result("skipped", seen.get("reason"))
            return self._result("done", points=int(seen["points"]), balance=seen.get("balance"))
        if seen is not None and seen["state"] == "planned":
            return self._asked(record, seen)
        unconfirmed = {op["operation"] for op in operations(record) if op["state"] == "planned"}
        for earlier in AFTER.get(self.operation, ()):
            if earlier in unconfirmed:
                return self._result("transient_failure", f"the {earlier} is not confirmed by the provider yet")
        return None

    def _operation(self, record: Mapping[str, Any], planned: points.Planned) -> dict[str, Any]:
        """The record of the planned operation; one that moves no point is settled as it is planned (a
        give-back's removed units still count)."""
        written_off = any(op["operation"] == "write_off" for op in operations(record))
        call: loymax.Call = {
            "hold": "hold",
            "write_off": "confirm",
            "give_back": "refund" if written_off else "cancel",
            "accrue": "accrue",
            "take_back": "cancel_accrual",
        }[self.operation]
        operation: dict[str, Any] = {
            "operation": self.operation,
            "call": call,
            "points": planned.points,
            "state": "planned" if planned.points > 0 else "done",
        }
        if planned.points == 0:
            operation["reason"] = planned.reason
        if planned.removed is not None:
            operation["removed"] = dict(planned.removed)
        if planned.amount is not None:
            operation["amount"] = planned.amount
        return operation

    def _asked(self, record: Mapping[str, Any], operation: Mapping[str, Any]) -> LoyaltyResult:
        """Ask the provider for the planned operation and settle it with the answer."""
        amount = operation.get("amount")
        try:
            provider = self.provider if self.provider is not None else loymax.provider()
            answer = provider.call(
                operation["call"],
                self.order_id,
                f"{self.order_id}:{self.operation}:{self.key}",
                str(record["card"]),
                int(operation["points"]),
                None if amount is None else Decimal(amount),
            )
        except LoyaltyRefused as refused:
            order_loyalty.settle(self.order_id, self.key, "refused", {"reason": str(refused)})
            return self._result("permanent_failure", str(refused))
        fields = {"points": answer.points, **({"balance": answer.balance} if answer.balance is not None else {})}
        order_loyalty.settle(self.order_id, self.key, "done", fields)
        return self._result("done", points=answer.points, balance=answer.balance)

    def _result(
        self, outcome: Outcome, reason: str | None = None, *, points: int = 0, balance: Any = None
    ) -> LoyaltyResult:
        return LoyaltyResult(self.operation, outcome, reason, points, None if balance is None else int(balance))


def _ended(order: Mapping[str, Any], key: str, result: LoyaltyResult) -> LoyaltyResult:
    card = (order.get("loyalty") or {}).get("card")
    logger.info(
        "loyalty operation",
        extra={
            "order_id": order.get("order_id"),
            "key": key,
            "card": masked_card(str(card)) if card else None,
            **result.as_record(),
        },
    )
    return result
