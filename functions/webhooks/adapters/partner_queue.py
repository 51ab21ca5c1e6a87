"""The partner queue (SQS): pushes acknowledged at once and processed by the queue consumer."""

from __future__ import annotations

import json
from typing import Any

from common import aws
from common.config import settings


def enqueue(channel_id: str, raw: bytes, received_at: str) -> None:
    aws.sqs().send_message(QueueUrl=settings().partner_queue_url, MessageBody=json.dumps(
        {"channel_id": channel_id, "body": raw.decode("utf-8"), "received_at": received_at}))


def message(body: str) -> dict[str, Any]:
    return json.loads(body)
