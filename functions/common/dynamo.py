"""DynamoDB helpers: plain-Python <-> attribute values, the one Query paging loop, batched reads and
writes, conditional writes and transactions whose refusal is an answer, not an error."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from tenacity import retry, retry_if_result, stop_after_attempt, wait_exponential_jitter

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
TRANSACTION_LIMIT = 100  # items in one TransactWriteItems
CONDITION_FAILED = "ConditionalCheckFailed"  # a cancellation reason's code

TransactItem = dict[str, Any]  # one item of TransactWriteItems: {"Put" | "Update" | ...: request}


def to_item(data: Mapping[str, Any]) -> dict[str, Any]:
    """Python values (floats become Decimal) to a DynamoDB item; None values are left out."""
    return {k: _serializer.serialize(_decimals(v)) for k, v in data.items() if v is not None}


def to_value(value: Any) -> dict[str, Any]:
    serialized: dict[str, Any] = _serializer.serialize(_decimals(value))
    return serialized


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_decimals(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """Decimals that are whole numbers become int; the rest stay Decimal (money stays exact)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_plain(v) for v in value]
    return value


def query_all(client: Any, request: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item (attribute values) a Query matches, page after page; pages are read as they are consumed."""
    page_request = dict(request)
    while True:
        page = client.query(**page_request)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        page_request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def count_all(client: Any, request: Mapping[str, Any]) -> int:
    """How many items a Query matches (Select COUNT: nothing returned), page after page."""
    page_request = {**request, "Select": "COUNT"}
    total = 0
    while True:
        page = client.query(**page_request)
        total += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return total
        page_request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def batch_get(
    client: Any,
    table: str,
    keys: Iterable[Mapping[str, Any]],
    *,
    consistent: bool = False,
    projection: str | None = None,
    names: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every existing item of `keys` (plain dicts), in chunks of 100, retrying unprocessed keys."""
    key_list = [to_item(k) for k in keys]
    found: list[dict[str, Any]] = []
    for start in range(0, len(key_list), BATCH_GET_LIMIT):
        request: dict[str, Any] = {"Keys": key_list[start : start + BATCH_GET_LIMIT], "ConsistentRead": consistent}
        if projection:
            request["ProjectionExpression"] = projection
        if names:
            request["ExpressionAttributeNames"] = names
        _batch_get_once(client, {table: request}, found)
    return found


@retry(
    retry=retry_if_result(bool),
    stop=stop_after_attempt(8),
    wait=wait_exponential_jitter(multiplier=0.05, max=2, jitter=0.05),
    retry_error_callback=lambda state: _raise_unprocessed(),
)
def _batch_get_once(client: Any, request: dict[str, Any], found: list[dict[str, Any]]) -> dict[str, Any]:
    """One BatchGetItem; `request` is left holding the unprocessed keys, which tenacity retries."""
    answer = client.batch_get_item(RequestItems=request)
    for items in answer.get("Responses", {}).values():
        found.extend(from_item(i) for i in items)
    unprocessed = answer.get("UnprocessedKeys") or {}
    request.clear()
    request.update(unprocessed)
    return unprocessed


def batch_put(client: Any, table: str, items: Iterable[Mapping[str, Any]]) -> None:
    """Put every item (plain dicts), 25 per BatchWriteItem, retrying unprocessed ones.

    Unconditional: only for records no concurrent writer keeps an invariant on (marks, ledgers)."""
    batch_write(client, table, items, ())


def batch_write(
    client: Any, table: str, items: Iterable[Mapping[str, Any]], delete_keys: Iterable[Mapping[str, Any]]
) -> None:
    """Put `items` and delete the items of `delete_keys` (plain dicts), 25 requests per BatchWriteItem,
    retrying unprocessed ones; unconditional, as batch_put. A key may not be both put and deleted."""
    requests = [{"PutRequest": {"Item": to_item(item)}} for item in items]
    requests += [{"DeleteRequest": {"Key": to_item(key)}} for key in delete_keys]
    for start in range(0, len(requests), BATCH_WRITE_LIMIT):
        _batch_write_once(client, {table: requests[start : start + BATCH_WRITE_LIMIT]})


@retry(
    retry=retry_if_result(bool),
    stop=stop_after_attempt(8),
    wait=wait_exponential_jitter(multiplier=0.05, max=2, jitter=0.05),
    retry_error_callback=lambda state: _raise_unprocessed(),
)
def _batch_write_once(client: Any, pending: dict[str, Any]) -> dict[str, Any]:
    """One BatchWriteItem; `pending` is left holding the unprocessed requests, which tenacity retries."""
    unprocessed = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    pending.clear()
    pending.update(unprocessed)
    return unprocessed


def _raise_unprocessed() -> dict[str, Any]:
    raise RuntimeError("DynamoDB kept returning unprocessed items; giving up after 8 attempts")


@dataclass(frozen=True)
class CancellationReason:
    code: str
    item: dict[str, Any] | None


def cancellation_reasons(error: Any) -> list[CancellationReason]:
    """The per-item outcome of a cancelled TransactWriteItems, in request order."""
    reasons = error.response.get("CancellationReasons") or []
    return [CancellationReason(r.get("Code", "None"), from_item(r["Item"]) if r.get("Item") else None) for r in reasons]


def transact(client: Any, items: Sequence[TransactItem]) -> list[CancellationReason] | None:
    """TransactWriteItems; None when it committed, else why each item was cancelled (request order)."""
    try:
        client.transact_write_items(TransactItems=list(items))
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        return cancellation_reasons(error)
    return None


def update_if(client: Any, **request: Any) -> dict[str, Any] | None:
    """UpdateItem whose failed condition is an answer, not an error.

    None when the update was applied; otherwise the item as it was (empty if it did not exist).
    """
    try:
        client.update_item(ReturnValuesOnConditionCheckFailure="ALL_OLD", **request)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return from_item(error.response.get("Item") or {})
    return None


def transact_each(client: Any, items: Sequence[TransactItem]) -> set[int]:
    """Independent conditional writes, up to 100 per TransactWriteItems: an item whose condition fails is
    left out and the others are written again, so one refusal costs one more call, not one call per item.
    The indexes (in `items`) of the refused ones."""
    refused: set[int] = set()
    for start in range(0, len(items), TRANSACTION_LIMIT):
        pending = list(range(start, min(start + TRANSACTION_LIMIT, len(items))))
        for _ in range(8):  # each round drops at least one refused item, or retries a conflict
            if not pending:
                break
            reasons = transact(client, [items[i] for i in pending])
            if reasons is None:
                pending = []
                break
            failed = {pending[n] for n, reason in enumerate(reasons) if reason.code == CONDITION_FAILED}
            refused |= failed
            pending = [i for i in pending if i not in failed]
        if pending:
            raise RuntimeError("DynamoDB kept cancelling the transaction; giving up after 8 attempts")
    return refused
