"""StockPushFunction's three triggers (template.yaml):

- the DirtySkusTable stream (keys only): a changed push of each channel a batch marks (a deleted mark,
  which the push itself makes, starts nothing);
- the schedule: a full push of every marketplace channel, each queued as its own message;
- StockPushQueue: pushes asked for through the API and continuations; a failed message is reported alone
  and comes back (after 5 receives it goes to the dead-letter queue).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.clock import utc_now
from common.observability import logger, metrics, tracer
from stock_push.use_cases import pushes

_MARKED = ("INSERT", "MODIFY")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    clock = pushes.SystemClock()
    deadline = pushes.deadline_of(context.get_remaining_time_in_millis(), clock.now())
    records = event.get("Records")
    if records is None:  # the schedule
        requested = [pushes.request(c, "full", utc_now(), trigger="schedule") for c in pushes.pushable_channels()]
        return {"requested": [r["push_id"] for r in requested]}
    if records and records[0].get("eventSource") == "aws:sqs":
        return {
            "batchItemFailures": [
                {"itemIdentifier": m["messageId"]} for m in records if not _queued(m, clock, deadline)
            ]
        }
    marked = [r["dynamodb"]["Keys"]["channel_shard"]["S"] for r in records if r.get("eventName") in _MARKED]
    return {"pushes": pushes.push_marked(marked, clock, deadline)}


def _queued(message: dict[str, Any], clock: pushes.SystemClock, deadline: float) -> bool:
    """Run one queued push; False leaves the message to come back."""
    try:
        job = pushes.Job.from_message(json.loads(message["body"]))
        pushes.push(job, clock, deadline)
    except Exception:  # noqa: BLE001 - reported for this message alone; the others go on
        logger.exception("stock push failed", extra={"message_id": message.get("messageId")})
        return False
    return True
