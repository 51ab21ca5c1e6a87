"""Scheduled: release the holds that ran out (template: HoldSweeperFunction, a Schedule event)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.clock import utc_now
from common.observability import logger, metrics, tracer
from orders.use_cases.holds import expire_holds


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return expire_holds(utc_now())
