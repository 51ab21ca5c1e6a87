"""The loyalty actions: the customer's points held as the order starts, written off when it is paid or
delivered, accrued on delivery and given back on cancel, expiry, short picks and returns after delivery
(loyalty.use_cases.points; docs/loyalty.md). Each operation is keyed by the action's key (a return's: its
return id), so a retry moves no point twice.

Short picks enter no status: each one's missing units are on its timeline entry, and every loyalty action
gives them back first (keyed by the entry), so a write-off or an accrual never counts units the customer
did not get.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from actions.domain.outcomes import Done, Outcome, Permanent, Skipped, Transient
from actions.use_cases.context import Context
from common.config import settings
from loyalty.domain.results import LoyaltyResult
from loyalty.use_cases import points
from orders.domain.actions import entry_of

SHORT_PICK = "short_pick"  # the timeline event of a short pick (orders.use_cases.returns)
PAY = "pay"  # the acquirer's event that pays a prepaid order
HANDED_OVER = frozenset({"delivered", "collected", "sold"})  # the customer has the goods: held points are spent


def hold(ctx: Context) -> Outcome:
    return _loyal(ctx, lambda: points.hold(ctx.order, ctx.key))


def write_off(ctx: Context) -> Outcome:
    """When the customer has the goods, or on the status a payment enters (`pay`: the channel may write
    points off once paid)."""
    on: Literal["paid", "delivered"] = "delivered" if ctx.status in HANDED_OVER else "paid"
    if on == "paid" and _entering_event(ctx) != PAY:
        return Skipped(f"{ctx.status} was not entered by a payment")
    return _loyal(ctx, lambda: _after_short_picks(ctx) or points.write_off(ctx.order, ctx.key, on=on))


def accrue(ctx: Context) -> Outcome:
    return _loyal(ctx, lambda: _after_short_picks(ctx) or points.accrue(ctx.order, ctx.key))


def give_back(ctx: Context) -> Outcome:
    """Every unit on a status that releases the order; a return's units for a return (pro rata: the
    write-off refunded and the accrual taken back for what came back)."""
    removed = _returned(ctx)
    outcome = _loyal(ctx, lambda: _after_short_picks(ctx) or points.give_back(ctx.order, ctx.key, removed))
    if isinstance(outcome, Done) and ctx.return_id is not None:
        return Done({**outcome.result, "return_id": ctx.return_id})
    return outcome


def _returned(ctx: Context) -> dict[str, int] | None:
    """The units per SKU of the return the action is for; None (every unit) for a status's give-back."""
    if ctx.return_id is None:
        return None
    [lines] = [r["lines"] for r in ctx.order.get("returns") or [] if r["return_id"] == ctx.return_id]
    return {line["sku"]: int(line["qty"]) for line in lines}  # one line per SKU (orders.use_cases.returns)


def _after_short_picks(ctx: Context) -> LoyaltyResult | None:
    """Give back each short pick's units (once per short pick); the first that did not end, if any."""
    for entry in ctx.order.get("timeline", []):
        if entry.get("event") != SHORT_PICK or not entry.get("removed"):
            continue
        removed = {sku: int(units) for sku, units in entry["removed"].items()}
        given = points.give_back(ctx.order, f"{SHORT_PICK}:{entry['at']}", removed)
        if given.outcome in ("transient_failure", "permanent_failure"):
            return given
    return None


def _entering_event(ctx: Context) -> str:
    entry = entry_of(ctx.order.get("timeline", []), ctx.status, ctx.entry) or {}
    return str(entry.get("event", ""))


def _loyal(ctx: Context, operation: Callable[[], LoyaltyResult]) -> Outcome:
    if not ctx.order.get("loyalty"):
        return Skipped("the order carries no loyalty card")
    if not settings().loyalty_url:
        return Skipped("loyalty is off in this deployment (no LOYALTY_URL)")
    result = operation()
    record: dict[str, Any] = result.as_record()
    if result.outcome == "done":
        return Done(record)
    if result.outcome == "skipped":
        return Skipped(result.reason or "no points to move")
    if result.outcome == "transient_failure":
        return Transient(result.reason or "the loyalty provider did not answer")
    return Permanent(result.reason or "the loyalty provider refused")
