"""The stock push's state per channel (StockPushTable: partition `channel_id`, sort key `key`).

- `lease`: who pushes the channel now (`holder`, `expires` in epoch seconds) and `log`, when each of the
  last minute's partner requests went out: the request budget outlives an invocation. Taken with a
  conditional write (free, expired or already ours), renewed before every partner request on condition it
  is still ours, released by its holder with the log as it is then (the last requests count too). A
  changed push finding it held sets `again` instead of waiting: the holder makes one more pass when it is
  done, however many triggers asked.
- `pair#<partner warehouse>#<sku>`: what the pair was last sent (`offer_id`, `amount`, the `stamp` of
  the figure, `sent_at`), `state` (accepted / retry / refused, with the partner's `reason`),
  `accepted_at`, `verified` (Wildberries: read back equal once), `retired_offer_id` (an offer id the
  SKU dropped whose 0 is not final yet), `chrt_id` (Wildberries' size id it went with). Keyed by SKU, so
  the offer id last sent is read with the pair. Written on condition the stored stamp is not newer: an
  older figure never replaces a newer one.
- `push#<push_id>` (push ids begin with their start time, so the keys sort by it): one push's mode,
  trigger, state (queued / running / done / failed), cursor (a full push: the last SKU done), counters,
  capped rejections, times; expires after 30 days (TTL `expires_at`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from common import aws
from common.clock import epoch_seconds
from common.config import settings
from common.dynamo import TransactItem, batch_get, from_item, to_item, to_value, transact_each, update_if
from stock_push.domain.plan import MAX_REJECTIONS, Counters, PairState

LEASE = "lease"
RECORD_DAYS = 30


def _table() -> str:
    return settings().stock_push_table


def _key(channel_id: str, key: str) -> dict[str, Any]:
    return {"channel_id": {"S": channel_id}, "key": {"S": key}}


# ------------------------------------------------------------------ lease and request log


def take_lease(channel_id: str, holder: str, now: float, seconds: float) -> list[float] | None:
    """The channel's request log if the lease is now `holder`'s; None while another holds it."""
    request = {
        "TableName": _table(),
        "Key": _key(channel_id, LEASE),
        "UpdateExpression": "SET holder = :me, expires = :until",
        "ConditionExpression": "attribute_not_exists(holder) OR holder = :me OR expires < :now",
        "ExpressionAttributeValues": {":me": {"S": holder}, ":until": to_value(now + seconds), ":now": to_value(now)},
        "ReturnValues": "ALL_NEW",
    }
    try:
        answer = aws.dynamodb().update_item(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return None
    return [float(t) for t in from_item(answer["Attributes"]).get("log", [])]


def _lease_updated(channel_id: str, update: str, condition: str, values: dict[str, Any]) -> bool:
    """Whether the conditional update of the channel's lease item was applied (`#log` names the log)."""
    names = {"#log": "log"} if "#log" in update else {}
    refused = update_if(
        aws.dynamodb(),
        TableName=_table(),
        Key=_key(channel_id, LEASE),
        UpdateExpression=update,
        ConditionExpression=condition,
        ExpressionAttributeValues=values,
        **({"ExpressionAttributeNames": names} if names else {}),
    )
    return refused is None


def renew_lease(channel_id: str, holder: str, now: float, seconds: float, log: Sequence[float]) -> bool:
    """Keep the lease and store the request log; False if another pusher took it (this one must stop)."""
    values = {":me": {"S": holder}, ":until": to_value(now + seconds), ":log": to_value(list(log))}
    return _lease_updated(channel_id, "SET expires = :until, #log = :log", "holder = :me", values)


def ask_again(channel_id: str, now: float) -> bool:
    """Ask the lease's holder for one more changed pass once it is done (marks arrived after it read them);
    False if nobody holds the lease any more (then take it)."""
    values = {":yes": {"BOOL": True}, ":now": to_value(now)}
    return _lease_updated(channel_id, "SET again = :yes", "attribute_exists(holder) AND expires >= :now", values)


def release_lease(channel_id: str, holder: str, log: Sequence[float]) -> bool:
    """Give the lease up, leaving the request log as it is now; whether another trigger asked for one more
    pass meanwhile."""
    try:
        answer = aws.dynamodb().update_item(
            TableName=_table(),
            Key=_key(channel_id, LEASE),
            UpdateExpression="SET #log = :log REMOVE holder, expires, again",
            ConditionExpression="holder = :me",
            ExpressionAttributeNames={"#log": "log"},
            ExpressionAttributeValues={":me": {"S": holder}, ":log": to_value(list(log))},
            ReturnValues="ALL_OLD",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return bool(from_item(answer.get("Attributes", {})).get("again"))


# ------------------------------------------------------------------ pairs


def pair_key(warehouse_id: str, sku: str) -> str:
    return f"pair#{warehouse_id}#{sku}"


def pair_states(channel_id: str, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], PairState]:
    """(warehouse, sku) -> its state, for the pairs that have one (consistent BatchGetItem, 100 per call)."""
    keys = [{"channel_id": channel_id, "key": pair_key(w, s)} for w, s in dict.fromkeys(pairs)]
    states = {}
    for item in batch_get(aws.dynamodb(), _table(), keys, consistent=True):
        state = PairState(
            warehouse_id=str(item["warehouse_id"]),
            sku=str(item["sku"]),
            offer_id=str(item["offer_id"]),
            amount=int(item["amount"]),
            stamp=str(item["stamp"]),
            state=str(item["state"]),
            sent_at=float(item["sent_at"]) if item.get("sent_at") is not None else None,
            accepted_at=item.get("accepted_at"),
            verified=bool(item.get("verified", False)),
            reason=item.get("reason"),
            retired_offer_id=item.get("retired_offer_id"),
            chrt_id=int(item["chrt_id"]) if item.get("chrt_id") is not None else None,
        )
        states[(state.warehouse_id, state.sku)] = state
    return states


def record_pairs(channel_id: str, states: Sequence[PairState]) -> set[int]:
    """Write each state unless a newer figure's is stored (conditional Puts, 100 per transaction); the
    indexes of the states not written because a newer one was there."""
    items: list[TransactItem] = [
        {
            "Put": {
                "TableName": _table(),
                "Item": to_item(
                    {
                        "channel_id": channel_id,
                        "key": pair_key(s.warehouse_id, s.sku),
                        "warehouse_id": s.warehouse_id,
                        "sku": s.sku,
                        "offer_id": s.offer_id,
                        "amount": s.amount,
                        "stamp": s.stamp,
                        "state": s.state,
                        "sent_at": s.sent_at,
                        "accepted_at": s.accepted_at,
                        "verified": s.verified,
                        "reason": s.reason,
                        "retired_offer_id": s.retired_offer_id,
                        "chrt_id": s.chrt_id,
                    }
                ),
                "ConditionExpression": "attribute_not_exists(stamp) OR stamp <= :stamp",
                "ExpressionAttributeValues": {":stamp": {"S": s.stamp}},
            }
        }
        for s in states
    ]
    return transact_each(aws.dynamodb(), items)


# ------------------------------------------------------------------ push records


def push_key(push_id: str) -> str:
    return f"push#{push_id}"


def create_push(channel_id: str, push_id: str, mode: str, trigger: str, state: str, now: str) -> dict[str, Any]:
    """A new push record (a push id is written once: the same id again changes nothing)."""
    record = {
        "channel_id": channel_id,
        "key": push_key(push_id),
        "push_id": push_id,
        "mode": mode,
        "trigger": trigger,
        "state": state,
        "items": 0,
        "requests": 0,
        "accepted": 0,
        "rejected": 0,
        "retried": 0,
        "pending": 0,
        "deferred": 0,
        "rejections": [],
        "created_at": now,
        "updated_at": now,
        "expires_at": epoch_seconds(now) + RECORD_DAYS * 86400,
    }
    update_if(
        aws.dynamodb(),
        TableName=_table(),
        Key=_key(channel_id, push_key(push_id)),
        UpdateExpression="SET " + ", ".join(f"#a{n} = :a{n}" for n in range(len(record) - 2)),
        ConditionExpression="attribute_not_exists(push_id)",
        ExpressionAttributeNames={f"#a{n}": name for n, name in enumerate(list(record)[2:])},
        ExpressionAttributeValues={f":a{n}": to_value(v) for n, v in enumerate(list(record.values())[2:])},
    )
    return record


def push_record(channel_id: str, push_id: str) -> dict[str, Any] | None:
    answer = aws.dynamodb().get_item(TableName=_table(), Key=_key(channel_id, push_key(push_id)), ConsistentRead=True)
    return from_item(answer["Item"]) if "Item" in answer else None


def update_push(channel_id: str, push_id: str, added: Counters, now: str, **fields: Any) -> None:
    """Add a batch's figures to the record and set `fields` (state, cursor, pending, ...); rejections are
    appended up to the cap (they are a sample; `rejected` counts them all)."""
    names = {f"#s{n}": name for n, name in enumerate(fields)}
    values: dict[str, Any] = {f":s{n}": to_value(v) for n, v in enumerate(fields.values())}
    sets = [f"#s{n} = :s{n}" for n in range(len(fields))] + ["updated_at = :now"]
    values[":now"] = {"S": now}
    if added.rejections:
        sets.append("rejections = list_append(if_not_exists(rejections, :none), :rejections)")
        values[":none"] = {"L": []}
        values[":rejections"] = to_value(added.rejections[:MAX_REJECTIONS])
    adds = {name: getattr(added, name) for name in ("items", "requests", "accepted", "rejected", "retried")}
    values.update({f":add_{name}": to_value(v) for name, v in adds.items()})
    aws.dynamodb().update_item(
        TableName=_table(),
        Key=_key(channel_id, push_key(push_id)),
        UpdateExpression="SET " + ", ".join(sets) + " ADD " + ", ".join(f"#{n} :add_{n}" for n in adds),
        ExpressionAttributeNames={**names, **{f"#{n}": n for n in adds}},
        ExpressionAttributeValues=values,
    )


def recent_pushes(channel_id: str, limit: int) -> list[dict[str, Any]]:
    """The channel's latest push records, newest first (one Query)."""
    answer = aws.dynamodb().query(
        TableName=_table(),
        KeyConditionExpression="channel_id = :c AND begins_with(#k, :p)",
        ExpressionAttributeNames={"#k": "key"},
        ExpressionAttributeValues={":c": {"S": channel_id}, ":p": {"S": "push#"}},
        ScanIndexForward=False,
        Limit=limit,
    )
    return [_shown(from_item(item)) for item in answer["Items"]]


def _shown(record: Mapping[str, Any]) -> dict[str, Any]:
    rejections = list(record.get("rejections") or [])
    return {k: v for k, v in record.items() if k not in ("channel_id", "key", "expires_at", "rejections")} | {
        "rejections": rejections[-MAX_REJECTIONS:]
    }
