"""The partner queue (SQS): pushes acknowledged at once and processed by the queue consumer."""

from __future__ import annotations

import json
from typing import TypedDict

from common import aws
from common.config import settings

# SQS refuses a bigger message (and the whole send with it); the envelope and JSON escaping count too.
MAX_MESSAGE_BYTES = 256 * 1024


class QueuedPush(TypedDict):
    channel_id: str
    body: str  # the partner's raw body, as received
    received_at: str


class TooLarge(ValueError):
    """The push does not fit in one queue message; nothing was sent."""


def enqueue(channel_id: str, raw: bytes, received_at: str) -> None:
    push: QueuedPush = {"channel_id": channel_id, "body": raw.decode("utf-8"), "received_at": received_at}
    message = json.dumps(push)
    if len(message.encode()) > MAX_MESSAGE_BYTES:
        raise TooLarge(f"the body does not fit in one queue message ({MAX_MESSAGE_BYTES} bytes with its envelope)")
    aws.sqs().send_message(QueueUrl=settings().partner_queue_url, MessageBody=message)


def message(body: str) -> QueuedPush:
    push: QueuedPush = json.loads(body)
    return push
