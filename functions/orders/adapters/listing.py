"""Pages of a list, with signed cursors.

Every list of orders or tasks Queries one partition of a KEYS_ONLY or projected index sorted by
`created_key`, newest first; other lists (a channel's offer identities) page through one partition of a
table in sort-key order. The cursor handed out is the page's last key, signed with the hub's cursor key,
so a caller can neither forge nor alter one to read from any other key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from common import aws, secrets
from common.config import settings
from common.dynamo import from_item
from common.errors import Problem, Unprocessable


@dataclass(frozen=True)
class IndexPartition:
    """One partition of a list index: `attribute` = `partition` in `index` of `table` (key `table_key`)."""

    table: str
    table_key: str
    index: str
    attribute: str
    partition: str

    @property
    def scope(self) -> _Scope:
        return _Scope(
            self.index, self.attribute, self.partition, frozenset({self.table_key, self.attribute, "created_key"})
        )


@dataclass(frozen=True)
class TablePartition:
    """One partition of a table: `partition_key` = `partition` in `table`, read in `sort_key` order."""

    table: str
    partition_key: str
    partition: str
    sort_key: str

    @property
    def scope(self) -> _Scope:
        return _Scope(self.table, self.partition_key, self.partition, frozenset({self.partition_key, self.sort_key}))


@dataclass(frozen=True)
class _Scope:
    """What a cursor is valid for: the index or table it pages, the partition, the names its keys hold."""

    name: str
    attribute: str
    partition: str
    keys: frozenset[str]


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def newest_first(where: IndexPartition, limit: int, cursor: str | None) -> Page:
    """One page of the partition sorted by created_key, newest first, with an opaque cursor."""
    return _by_created(where, limit, cursor, newest=True)


def oldest_first(where: IndexPartition, limit: int, cursor: str | None) -> Page:
    """One page of the partition sorted by created_key, oldest first (a queue), with an opaque cursor."""
    return _by_created(where, limit, cursor, newest=False)


def _by_created(where: IndexPartition, limit: int, cursor: str | None, *, newest: bool) -> Page:
    request: dict[str, Any] = {
        "TableName": where.table,
        "IndexName": where.index,
        "Limit": limit,
        "ScanIndexForward": not newest,
        "KeyConditionExpression": "#p = :p",
        "ExpressionAttributeNames": {"#p": where.attribute},
        "ExpressionAttributeValues": {":p": {"S": where.partition}},
    }
    return _page(request, where.scope, cursor)


def in_key_order(where: TablePartition, limit: int, cursor: str | None) -> Page:
    """One page of the table's partition in sort-key order, with an opaque cursor."""
    request: dict[str, Any] = {
        "TableName": where.table,
        "Limit": limit,
        "KeyConditionExpression": "#p = :p",
        "ExpressionAttributeNames": {"#p": where.partition_key},
        "ExpressionAttributeValues": {":p": {"S": where.partition}},
    }
    return _page(request, where.scope, cursor)


def _page(request: dict[str, Any], scope: _Scope, cursor: str | None) -> Page:
    if cursor:
        request["ExclusiveStartKey"] = _start_key(cursor, scope)
    answer = aws.dynamodb().query(**request)
    last = answer.get("LastEvaluatedKey")
    return Page([from_item(item) for item in answer["Items"]], _cursor(scope, last) if last else None)


def _unpadded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _signature(payload: str) -> str:
    """HMAC-SHA256 of the cursor's payload under the hub's cursor key (SSM, never in code or logs)."""
    name = settings().cursor_key_parameter
    if not name:
        raise LookupError("CURSOR_KEY_PARAMETER is not configured")
    key = secrets.generated_secret(name).encode()
    return _unpadded(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def _cursor(where: _Scope, last_key: dict[str, Any]) -> str:
    """`<payload>.<signature>`: callers cannot forge or alter a cursor to read from any table key."""
    data = {"i": where.name, "p": where.partition, "k": last_key}
    payload = _unpadded(json.dumps(data, separators=(",", ":")).encode())
    return f"{payload}.{_signature(payload)}"


def _start_key(cursor: str, where: _Scope) -> dict[str, Any]:
    """The cursor must be one the hub signed, for this very query: same index or table, same partition, a key of
    the right shape (DynamoDB answers a foreign start key with a ValidationException, a 5xx)."""
    key = _signed_key(cursor, where)
    if key is None:
        raise Unprocessable(
            "cursor is not valid for this query; start again without it",
            [Problem(("cursor",), "invalid cursor", part="query")],
        )
    return key


def _signed_key(cursor: str, where: _Scope) -> dict[str, Any] | None:
    payload, _, signature = cursor.rpartition(".")
    try:
        # Constant time: a caller cannot learn the signature byte by byte from answer times.
        if not payload or not hmac.compare_digest(signature.encode(), _signature(payload).encode()):
            return None
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        key = data["k"]
        valid = data["i"] == where.name and data["p"] == where.partition and _key_of(where, key)
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    return dict(key) if valid else None


def _key_of(where: _Scope, key: Any) -> bool:
    """A start key of this partition: the key names the scope's keys hold, each a non-empty string."""
    return (
        isinstance(key, dict)
        and set(key) == where.keys
        and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) and v["S"] for v in key.values())
        and key[where.attribute]["S"] == where.partition
    )


@dataclass(frozen=True)
class MergedPartitions:
    """Partitions of a table read as one list in sort-key order, below `before` (a due list over several
    statuses: every sort key starts with a time)."""

    table: str
    partition_key: str
    partitions: tuple[str, ...]
    sort_key: str
    before: str


def merged_in_key_order(where: MergedPartitions, limit: int, cursor: str | None) -> Page:
    """One page of the partitions merged in sort-key order: each partition's next `limit` items are read (one
    Query each) and the first `limit` of them all are the page; the cursor is the last sort key served."""
    after = _signed_position(cursor, where) if cursor else None
    merged: dict[str, dict[str, Any]] = {}
    more = False
    for partition in where.partitions:
        values = {":p": {"S": partition}, ":before": {"S": where.before}}
        condition = "#p = :p AND #s < :before"
        if after is not None:
            # BETWEEN includes its ends: the key served last comes back and is skipped; `before` is a bare time
            # and no key equals it (every key goes on after the time).
            condition = "#p = :p AND #s BETWEEN :after AND :before"
            values[":after"] = {"S": after}
        answer = aws.dynamodb().query(
            TableName=where.table,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#p": where.partition_key, "#s": where.sort_key},
            ExpressionAttributeValues=values,
            Limit=limit + 1,
        )
        more = more or "LastEvaluatedKey" in answer
        for item in answer["Items"]:
            key = item[where.sort_key]["S"]
            if key != after:
                merged.setdefault(key, item)
    keys = sorted(merged)
    served = keys[:limit]
    more = more or len(keys) > limit
    next_cursor = _position_cursor(where, served[-1]) if more and served else None
    return Page([from_item(merged[key]) for key in served], next_cursor)


def _merged_scope(where: MergedPartitions) -> dict[str, Any]:
    return {"i": where.table, "p": list(where.partitions), "b": where.before}


def _position_cursor(where: MergedPartitions, last_sort_key: str) -> str:
    payload = _unpadded(json.dumps({**_merged_scope(where), "s": last_sort_key}, separators=(",", ":")).encode())
    return f"{payload}.{_signature(payload)}"


def _signed_position(cursor: str, where: MergedPartitions) -> str:
    """The last sort key a cursor the hub signed for this very list (same partitions, same bound) served."""
    payload, _, signature = cursor.rpartition(".")
    position: Any = None
    try:
        if payload and hmac.compare_digest(signature.encode(), _signature(payload).encode()):
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            if {k: data.get(k) for k in ("i", "p", "b")} == _merged_scope(where):
                position = data.get("s")
    except (ValueError, TypeError, AttributeError, binascii.Error):
        position = None
    if not (isinstance(position, str) and position and position < where.before):
        raise Unprocessable(
            "cursor is not valid for this query; start again without it",
            [Problem(("cursor",), "invalid cursor", part="query")],
        )
    return position
