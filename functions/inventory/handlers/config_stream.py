"""The config table's stream (template: AvailabilityRulesFunction, a DynamoDB event source).

A channel's rules or a location's `active` written through the API changes what channels offer without
any stock row moving: the channels' availability figures are recomputed here, after the write, off the
request path. A channel's partner warehouses changed regroup what its push sums: every SKU of the
channel is marked dirty. A batch that fails is raised, so Lambda retries it (each recompute is idempotent).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.clock import utc_now
from common.observability import logger, metrics, tracer
from inventory.use_cases.availability_figures import recompute_after_config_changes


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    records = list(DynamoDBStreamEvent(event).records)
    rewritten = recompute_after_config_changes(
        (
            (record.dynamodb.old_image or None, record.dynamodb.new_image or None)
            for record in records
            if record.dynamodb is not None
        ),
        utc_now(),
    )
    return {"records": len(records), "rewritten": rewritten}
