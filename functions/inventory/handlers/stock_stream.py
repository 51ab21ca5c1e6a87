"""The stock table's stream (template: StockChangesFunction, a DynamoDB event source).

Every write of a stock row arrives here with the row before and after, whichever function made it
(intake, substitution, release, import, return, short pick): the one place that decides which channels'
offers moved. Announcing here keeps it off the request path and loses nothing: a batch that fails is
raised, so Lambda retries it from the stream (halving it to isolate a bad record) before its range goes
to the failure queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.clock import utc_now
from common.observability import logger, metrics, tracer
from inventory.domain.row_changes import row_moves
from inventory.use_cases.announcements import announce_moves


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    records = list(DynamoDBStreamEvent(event).records)
    moves = row_moves(
        (record.dynamodb.old_image or None, record.dynamodb.new_image or None)
        for record in records
        if record.dynamodb is not None
    )
    announce_moves(moves, utc_now())
    return {"records": len(records), "moves": len(moves)}
