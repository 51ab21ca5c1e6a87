"""Exactly-once bookkeeping of partner events in DynamoDB (PARTNER_EVENTS_TABLE).

- `EVENT#<channel>#<event id>`: a push seen once (conditional put); kept 30 days (TTL).
- `STATUS#<order id>` / `<channel>`: the time of the newest partner status applied (conditional update,
  written only once the status is applied), so an older status that arrives later changes nothing.
- `PARKED#<order id>` / `<at>#<event id>`: events that could not be applied yet (order unknown or busy),
  listed per channel by the sparse ByParkedChannel index for the retry sweep.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from common import aws
from common.clock import epoch_seconds
from common.config import settings
from common.dynamo import from_item, query_all, update_if
from partners.clients.base import ShipByChange, StatusChange

SEEN_DAYS = 30
_PARKABLE = {cls.__name__: cls for cls in (StatusChange, ShipByChange)}


@dataclasses.dataclass(frozen=True)
class Parked:
    channel_id: str
    order_id: str
    sort_key: str
    event: StatusChange | ShipByChange


def _table() -> str:
    return settings().partner_events_table


def claim(channel_id: str, event_id: str, now: str) -> bool:
    """True the first time this (channel, event identity) is seen; False for a duplicate."""
    try:
        aws.dynamodb().put_item(
            TableName=_table(),
            ConditionExpression="attribute_not_exists(pk)",
            Item={
                "pk": {"S": f"EVENT#{channel_id}#{event_id}"},
                "sk": {"S": "seen"},
                "at": {"S": now},
                "expires_at": {"N": str(epoch_seconds(now) + SEEN_DAYS * 86400)},
            },
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return True


def release(channel_id: str, event_id: str) -> None:
    """Forget a claim whose processing failed, so the partner's retry is processed."""
    aws.dynamodb().delete_item(
        TableName=_table(), Key={"pk": {"S": f"EVENT#{channel_id}#{event_id}"}, "sk": {"S": "seen"}}
    )


def superseded(order_id: str, channel_id: str, at: datetime) -> bool:
    """True if this channel already told a status of the order as new as `at` or newer: applied (recorded
    by `advance_status`) or parked, waiting to be applied (it converges the order further than `at` would)."""
    mark = _sortable(at)
    applied = (
        aws.dynamodb()
        .get_item(
            TableName=_table(), ConsistentRead=True, Key={"pk": {"S": f"STATUS#{order_id}"}, "sk": {"S": channel_id}}
        )
        .get("Item")
    )
    if applied and applied["at"]["S"] >= mark:
        return True
    return any(p.channel_id == channel_id and p.sort_key.split("#", 1)[0] >= mark for p in parked_for_order(order_id))


def advance_status(order_id: str, channel_id: str, at: datetime) -> bool:
    """Record `at` as the time of the order's newest status applied from this channel, once it is applied;
    False (and nothing written) if a newer one was recorded meanwhile."""
    return (
        update_if(
            aws.dynamodb(),
            TableName=_table(),
            Key={"pk": {"S": f"STATUS#{order_id}"}, "sk": {"S": channel_id}},
            UpdateExpression="SET #at = :at",
            ConditionExpression="attribute_not_exists(#at) OR #at < :at",
            ExpressionAttributeNames={"#at": "at"},
            ExpressionAttributeValues={":at": {"S": _sortable(at)}},
        )
        is None
    )


def _sortable(at: datetime) -> str:
    """Epoch seconds, zero-padded: compared as text in sort keys and conditions."""
    return format(at.timestamp(), "020.6f")


def park(channel_id: str, order_id: str, event: StatusChange | ShipByChange, *, reason: str, now: str) -> None:
    at = _sortable(event.at) if event.at else "0" * 20
    body = {"kind": type(event).__name__, **dataclasses.asdict(event)}
    aws.dynamodb().put_item(
        TableName=_table(),
        Item={
            "pk": {"S": f"PARKED#{order_id}"},
            "sk": {"S": f"{at}#{event.event_id}"},
            "parked_channel": {"S": channel_id},
            "event": {"S": json.dumps(body, default=str)},
            "reason": {"S": reason},
            "parked_at": {"S": now},
        },
    )


def _parked(item: dict[str, Any]) -> Parked:
    record = from_item(item)
    body = json.loads(record["event"])
    cls = _PARKABLE[body.pop("kind")]
    for name in ("at", "ship_by"):
        if body.get(name):
            body[name] = datetime.fromisoformat(body[name])
    return Parked(record["parked_channel"], record["pk"].removeprefix("PARKED#"), record["sk"], cls(**body))


def parked_for_order(order_id: str) -> list[Parked]:
    """Oldest first."""
    return [
        _parked(i)
        for i in _query(
            {
                "KeyConditionExpression": "pk = :pk",
                "ConsistentRead": True,
                "ExpressionAttributeValues": {":pk": {"S": f"PARKED#{order_id}"}},
            }
        )
    ]


def parked_for_channel(channel_id: str) -> list[Parked]:
    items = _query(
        {
            "IndexName": "ByParkedChannel",
            "KeyConditionExpression": "parked_channel = :c",
            "ExpressionAttributeValues": {":c": {"S": channel_id}},
        }
    )
    return sorted((_parked(i) for i in items), key=lambda p: (p.order_id, p.sort_key))


def _query(request: dict[str, Any]) -> list[dict[str, Any]]:
    return list(query_all(aws.dynamodb(), {"TableName": _table(), **request}))


def unpark(parked: Parked) -> None:
    aws.dynamodb().delete_item(
        TableName=_table(), Key={"pk": {"S": f"PARKED#{parked.order_id}"}, "sk": {"S": parked.sort_key}}
    )
