"""One message of the actions queue: the announcement read, its actions run, the message's next visit set."""

from __future__ import annotations

from pydantic import ValidationError

from actions.adapters import action_queue
from actions.domain.announcement import Announcement
from actions.use_cases.run import Batch, RetryLater, handle
from common.clock import current
from common.observability import logger


def announced(body: str, receipt_handle: str, batch: Batch | None = None, message_id: str = "") -> None:
    """Raises RetryLater (the message stays, visible again after the wait) when an action must be retried.
    With a `batch`, its grouped requests wait for `sent`."""
    try:
        announcement = Announcement.model_validate_json(body)
    except ValidationError as error:
        # Not an announcement the rule should have sent: retrying would not make it one.
        logger.error(
            "not an OrderStatusEntered message", extra={"problems": [str(e["loc"]) for e in error.errors()[:3]]}
        )
        return
    try:
        handle(announcement, current(), batch, (message_id, receipt_handle))
    except RetryLater as later:
        action_queue.retry_in(receipt_handle, later.seconds)
        raise


def sent(batch: Batch) -> list[str]:
    """The batch's grouped requests sent and each action's outcome recorded; the ids of the messages that
    must come back (made visible again after their wait)."""
    back = []
    for (message_id, receipt_handle), seconds in batch.send().items():
        action_queue.retry_in(receipt_handle, seconds)
        back.append(message_id)
    return back
