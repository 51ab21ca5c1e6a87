"""OrderActionsFunction: the actions queue's consumer (the EventBridge rule on OrderStatusEntered feeds it).

A message whose actions must be tried again is made visible again after its backoff and reported alone
(ReportBatchItemFailures); after the queue's maxReceiveCount it moves to the dead-letter queue. The
batch's Market status changes are sent together once every message was read (use_cases.run.Batch).
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse, PartialItemFailures
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from actions.use_cases import entered
from actions.use_cases.run import Batch
from common.observability import logger, metrics, tracer

# A batch whose every message waits (backoff, a status not written yet) is not a function error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _record(record: SQSRecord, batch: Batch) -> None:
    entered.announced(record.body, record.receipt_handle, batch, record.message_id)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # Each message's actions run as it is read; the grouped ones (Market's statuses) go out together after.
    batch = Batch()
    response = process_partial_response(
        event=event, record_handler=functools.partial(_record, batch=batch), processor=processor, context=context
    )
    failures = response["batchItemFailures"]
    failed = {f["itemIdentifier"] for f in failures}
    failures += [PartialItemFailures(itemIdentifier=m) for m in entered.sent(batch) if m not in failed]
    return {"batchItemFailures": failures}
