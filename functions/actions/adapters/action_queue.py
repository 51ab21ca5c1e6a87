"""The actions queue (OrderActionsQueue): a message whose action must wait is made visible again later."""

from __future__ import annotations

from common import aws
from common.config import settings


def retry_in(receipt_handle: str, seconds: int) -> None:
    """The message comes back after `seconds` (the backoff), not after the queue's visibility timeout."""
    aws.sqs().change_message_visibility(
        QueueUrl=settings().order_actions_queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
    )
