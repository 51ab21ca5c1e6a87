"""Consumer of the partner queue: each message is one acknowledged push, processed here.

A message that fails is reported alone (ReportBatchItemFailures): the rest of the batch is not
redelivered, and after the queue's maxReceiveCount the failing one moves to the DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.observability import logger, metrics, tracer
from partners.use_cases import pushes

processor = BatchProcessor(event_type=EventType.SQS)


def _record(record: SQSRecord) -> None:
    pushes.process_queued(record.body)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_record, processor=processor, context=context)
