"""Scheduled: reconcile polls (Ozon unfulfilled postings), pulls (Wildberries has no push) and the
retry sweep of parked partner events."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.observability import logger, metrics, tracer
from partners.use_cases import polls


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"channels": polls.poll_all()}
