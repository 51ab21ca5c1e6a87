"""Payments through the acquirer: a new payment link when one ran out, the acquirer's callback, refunds.
The acquirer client (httpx and its rate limiter) is imported where it is used: it is not on the orders
API's cold start."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from common.errors import OrderNotFound
from common.observability import count, logger
from orders.adapters import order_table
from orders.adapters.order_table import StatusMove
from orders.adapters.workflow_catalog import workflow
from orders.domain.models import Order, OrderEventIn, PaymentCallbackIn, StatusStep
from orders.domain.records import timeline_entry
from orders.use_cases import events


def request_payment_link(step: StatusStep, task_token: str) -> dict[str, str]:
    """The payment did not come in time: ask the acquirer for a new link, record it with the status."""
    order_id, status, now = step.order_id, step.status, step.now
    order = order_table.get_order(order_id)
    if order is None:
        return {"status": "missing"}
    attempt = 1 + sum(1 for entry in order["timeline"] if entry["status"] == status)
    from partners.clients import acquirer

    link = acquirer.acquirer().payment_link(order_id, Decimal(str(order["total"])), attempt)
    expect = workflow(step.workflow).sources_into(status)
    move = StatusMove(
        order_id, step.channel, step.workflow, status, expect, timeline_entry(now, status, step.event), now
    )
    moved = order_table.record_payment_link(move, task_token, link.url, link.payment_id)
    if not moved:  # a retry of a step that already ran: just hand over the new token
        order_table.set_task_token(order_id, task_token, status)
    count("PaymentLinkRequested")
    logger.info("payment link requested", extra={"order_id": order_id, "attempt": attempt})
    return {"status": status}


def payment_settled(provider: str, callback: PaymentCallbackIn, now: str) -> dict[str, Any]:
    """The acquirer's (verified) callback. A success marks the order paid once and sends `pay` where the
    workflow waits for it; one that arrives after the order was cancelled is refunded. Repeats change nothing."""
    order = order_table.get_order(callback.order_id)
    if order is None:
        raise OrderNotFound(callback.order_id)
    answer = {"order_id": callback.order_id, "event_id": callback.event_id, "applied": False}
    if callback.status == "failed":
        count("PaymentFailed")  # the order keeps waiting: its deadline sends a new link, then cancels
        return answer
    if not order_table.record_payment(callback.order_id, callback.payment_id, now):
        count("PaymentCallbackDuplicate")
        return answer
    count("PaymentSucceeded")
    flow = workflow(order["workflow"])
    if "pay" in flow.transitions.get(order["status"], {}):
        events.post_event(
            callback.order_id,
            OrderEventIn(event="pay", note=f"paid {callback.amount} ({callback.payment_id})"),
            f"acquirer:{provider}",
        )
    elif order["status"] in flow.terminal_statuses and flow.statuses[order["status"]].stock == "release":
        released = order_table.get_order(callback.order_id)
        if released is not None:
            refund_if_paid(Order.model_validate(released), now)
    return {**answer, "applied": True}


def refund_if_paid(order: Order, now: str) -> None:
    """Refund an order that was paid and not refunded yet (it was released after the payment)."""
    payment = order.payment
    if payment.status != "paid" or payment.refund_id or payment.payment_id is None:
        return
    from partners.clients import acquirer

    refund_id = acquirer.acquirer().refund(order.order_id, payment.payment_id, order.total)
    order_table.record_refund(order.order_id, refund_id, now)
    count("PaymentRefunded")
