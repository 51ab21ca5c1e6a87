"""The stock table's stream (template: StockChangesFunction, a DynamoDB event source).

Every write of a stock row arrives here with the row before and after, whichever function made it
(intake, substitution, release, import, return, short pick): the one place that keeps each channel's
availability figures and decides which channels' offers moved. Doing it here keeps it off the request
path and loses nothing: a batch that fails is raised, so Lambda retries it from the stream (halving it
to isolate a bad record) before its range goes to the failure queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.clock import utc_now
from common.observability import logger, metrics, tracer
from inventory.domain.row_changes import row_moves
from inventory.use_cases.announcements import announce_moves
from inventory.use_cases.availability_figures import apply_row_changes


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    records = list(DynamoDBStreamEvent(event).records)
    changes = [
        (record.dynamodb.old_image or None, record.dynamodb.new_image or None)
        for record in records
        if record.dynamodb is not None
    ]
    now = utc_now()
    # Figures first: a batch retried because its announcement failed finds them written and skips them.
    written = apply_row_changes(changes, now)
    moves = row_moves(changes)
    announce_moves(moves, now)
    return {"records": len(records), "moves": len(moves), "figures": written}
