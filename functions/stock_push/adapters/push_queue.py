"""StockPushQueue: pushes asked for on demand, and continuations of a push that ran out of time, found its
channel's lease held or must wait for a partner's interval (DelaySeconds, at most SQS's 15 minutes)."""

from __future__ import annotations

import json
import math
from typing import Any

from common import aws
from common.config import settings

MAX_DELAY_SECONDS = 900


def send(message: dict[str, Any], delay_seconds: float = 0) -> None:
    aws.sqs().send_message(
        QueueUrl=settings().stock_push_queue_url,
        MessageBody=json.dumps(message, separators=(",", ":")),
        DelaySeconds=min(max(math.ceil(delay_seconds), 0), MAX_DELAY_SECONDS),
    )
