"""Tasks of the order lifecycle state machine that touch stock: retry_reservation, ship, cancel, expire.

Input: {action, order_id, channel, event: {event, source, note}, task_token?}. Each step is idempotent, so
Step Functions may retry it; StockContention is the error name the state machine retries on.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.clock import utc_now
from common.observability import logger, metrics, tracer
from orders import services


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action, order_id, order_event = event["action"], event["order_id"], event.get("event") or {}
    logger.append_keys(order_id=order_id, action=action)
    now = utc_now()
    if action == "retry_reservation":
        return services.retry_reservation(order_id, order_event, now)
    if action == "ship":
        return services.ship(order_id, event["channel"], order_event, event["task_token"], now)
    if action == "cancel":
        return services.cancel(order_id, event["channel"], order_event, now)
    if action == "expire":
        return services.expire(order_id, event["channel"], order_event, now)
    raise ValueError(f"unknown lifecycle action {action!r}")
