"""`notify_customer`: the customer hears of the status by SMS and email (notifications.use_cases.notify;
docs/notifications.md), each medium with consent and a contact only. A retry after a transient failure
sends only the media that did not go, so nothing sent is sent twice (neither SES nor SMS.ru takes an
idempotency key: the action's record is what remembers)."""

from __future__ import annotations

from typing import Any

from actions.domain.outcomes import Done, Outcome, Permanent, Skipped, Transient
from actions.use_cases.context import Context
from notifications.domain.messages import MEDIA
from notifications.use_cases import notify
from orders.domain.actions import records
from orders.domain.pickup import READY
from orders.use_cases import store
from reference.models import Medium


def notify_customer(ctx: Context) -> Outcome:
    order = ctx.order
    code = store.pickup_code_of(order["order_id"], order["timeline"]) if ctx.status == READY else None
    if code:  # the customer shows it at the desk (orders.domain.pickup); only the message carries it
        order = {**order, "pickup_code": code}
    result = notify.customer(order, ctx.status, f"{order['order_id']}:{ctx.key}", media=_unfinished(ctx))
    record = result.as_record()
    if result.outcome == "sent":
        return Done(record)
    if result.outcome == "skipped":
        return Skipped(result.reason or "not notified")
    if result.outcome == "transient_failure":
        return Transient(result.reason or "a medium failed for now", record)
    return Permanent(result.reason or "a medium refused the message")


def _unfinished(ctx: Context) -> tuple[Medium, ...]:
    """The media an earlier attempt left at a transient failure; every medium on the first attempt."""
    earlier: dict[str, Any] = (records(ctx.order).get(ctx.key) or {}).get("result") or {}
    media = earlier.get("media")
    if not media:
        return MEDIA
    return tuple(m["medium"] for m in media if m.get("outcome") == "transient_failure") or MEDIA
