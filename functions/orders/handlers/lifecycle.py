"""Tasks of the order lifecycle state machines: stock (retry_reservation, consume, release) and the
acquirer (request_link).

Input: {action, workflow, status (the one being entered), order_id, channel, event: {event, source, note},
task_token?}. Each step is idempotent, so
Step Functions may retry it; StockContention is the error name the state machine retries on.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.clock import utc_now
from common.observability import logger, metrics, tracer
from orders.domain.models import StatusStep
from orders.use_cases import lifecycle, payments


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action, order_id, order_event = event["action"], event["order_id"], event.get("event") or {}
    logger.append_keys(order_id=order_id, action=action)
    now = utc_now()
    if action == "retry_reservation":
        return lifecycle.retry_reservation(order_id, order_event, now)
    if action not in ("consume", "request_link", "release"):
        raise ValueError(f"unknown lifecycle action {action!r}")
    step = StatusStep(
        order_id, event["channel"], event["workflow"], event["status"], order_event, now, event.get("task_token")
    )
    if action == "consume":
        return lifecycle.consume(step)
    if action == "request_link":
        return payments.request_payment_link(step, event["task_token"])
    return lifecycle.release(step)
