"""Domain events on the hub's EventBridge bus (OrderCreated, OrderStatusChanged, StockChanged, ...).

`put_events` can accept a call and still drop entries: the answer's FailedEntryCount is checked and
a partial failure raises, so the caller's retry (Lambda, SQS, Step Functions) publishes again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from common import aws
from common.config import settings

SOURCE = "oms-hub"
PUT_EVENTS_LIMIT = 10  # entries per PutEvents call


class EventsNotPublished(Exception):
    """Some entries were refused by EventBridge; they are listed so the caller can log and retry."""

    def __init__(self, failed: list[dict[str, Any]]) -> None:
        super().__init__(
            f"{len(failed)} event(s) not published: " + ", ".join(sorted({f.get("ErrorCode", "?") for f in failed}))
        )
        self.failed = failed


def publish(detail_type: str, details: Sequence[Mapping[str, Any]]) -> int:
    """Put one event per detail on the bus, 10 per call; returns how many were published."""
    entries = [
        {
            "Source": SOURCE,
            "DetailType": detail_type,
            "EventBusName": settings().event_bus_name,
            "Detail": json.dumps(dict(detail), default=str, sort_keys=True),
        }
        for detail in details
    ]
    failed: list[dict[str, Any]] = []
    for start in range(0, len(entries), PUT_EVENTS_LIMIT):
        answer = aws.events().put_events(Entries=entries[start : start + PUT_EVENTS_LIMIT])
        if answer.get("FailedEntryCount"):
            failed.extend(r for r in answer["Entries"] if r.get("ErrorCode"))
    if failed:
        raise EventsNotPublished(failed)
    return len(entries)
