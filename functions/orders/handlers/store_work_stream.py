"""The orders table's stream (template: StoreWorkFunction, a DynamoDB event source): keeps each store's queue
entries (orders.domain.store_work) whichever function moved the order. A batch that fails is raised, so
Lambda retries it from the stream (halving it to isolate a bad record) before its range goes to the
failure queue; applying a batch again changes nothing more.

Invoked with `{"rebuild": true}` (once, after upgrading a deployment whose orders predate the stream) it
writes the entries of every order a store has work on now.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.observability import logger, metrics, tracer
from orders.use_cases.store import keep_store_work, rebuild_store_work


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    if event.get("rebuild") is True:
        return {"rebuilt": rebuild_store_work()}
    records = list(DynamoDBStreamEvent(event).records)
    changes = keep_store_work(
        (record.dynamodb.old_image or None, record.dynamodb.new_image or None)
        for record in records
        if record.dynamodb is not None
    )
    return {"records": len(records), "put": len(changes.put), "deleted": len(changes.delete)}
