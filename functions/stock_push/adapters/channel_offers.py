"""A marketplace channel's offer identities (ChannelOffersTable: partition `channel_id`, sort key `sku`).

Item: `offer_id` (the seller's article the partner knows the SKU by; absent: the SKU's own name),
`chrt_id` (Wildberries' size id, needed by its stock API), `revision` (each write is conditioned on the
one it read), `updated_at`. A SKU without an item is offered under its own name.

Claims keep an offer id, and a chrtId, to one SKU per channel without a Scan: partition
`<channel_id>#offer` holds one item per offer id a mapped SKU is pushed under (sort key = the offer id),
`<channel_id>#chrt` one per chrtId, each with `held_by` (the SKU). Channel ids hold no "#", so these
partitions are no channel's, and the channel's own partition lists only its mappings. A mapping, the claims
it takes and gives up, and the SKU's dirty mark are one TransactWriteItems, each claim conditioned on its
holder as read: a concurrent writer's claim cancels the transaction instead of being overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from common import aws
from common.config import settings
from common.dynamo import CONDITION_FAILED, TransactItem, batch_get, to_item, transact
from inventory.adapters import dirty_skus
from orders.adapters.listing import Page, TablePartition, in_key_order
from stock_push.domain.offers import Claim, ClaimMove, Group, Identity, MappingMove, Stored


@dataclass(frozen=True)
class OfferIdentity:
    sku: str
    offer_id: str
    chrt_id: int | None = None


def identities(channel_id: str, skus: Iterable[str]) -> dict[str, OfferIdentity]:
    """sku -> how the channel's partner knows it, for every SKU asked (BatchGetItem, 100 keys per call)."""
    wanted = list(dict.fromkeys(skus))
    items = batch_get(
        aws.dynamodb(), settings().channel_offers_table, [{"channel_id": channel_id, "sku": sku} for sku in wanted]
    )
    found = {str(item["sku"]): _identity(item) for item in items}
    return {sku: found.get(sku, OfferIdentity(sku, sku)) for sku in wanted}


def _identity(item: dict[str, Any]) -> OfferIdentity:
    sku = str(item["sku"])
    return OfferIdentity(sku, str(item.get("offer_id") or sku), _chrt(item))


def _chrt(item: dict[str, Any]) -> int | None:
    return int(item["chrt_id"]) if item.get("chrt_id") is not None else None


def stored(channel_id: str, skus: Iterable[str]) -> dict[str, Stored]:
    """sku -> its mapping as stored (consistent: a write is planned on it), for the SKUs that have one."""
    items = batch_get(
        aws.dynamodb(),
        settings().channel_offers_table,
        [{"channel_id": channel_id, "sku": sku} for sku in dict.fromkeys(skus)],
        consistent=True,
    )
    return {
        str(item["sku"]): Stored(Identity(item.get("offer_id"), _chrt(item)), int(item["revision"])) for item in items
    }


def holders(channel_id: str, claims: Iterable[Claim]) -> dict[Claim, str]:
    """claim -> the SKU holding it, for the claims held (consistent)."""
    items = batch_get(
        aws.dynamodb(),
        settings().channel_offers_table,
        [{"channel_id": _claims_partition(channel_id, kind), "sku": value} for kind, value in set(claims)],
        consistent=True,
    )
    return {(_kind(str(item["channel_id"])), str(item["sku"])): str(item["held_by"]) for item in items}


def _claims_partition(channel_id: str, kind: str) -> str:
    return f"{channel_id}#{kind}"


def _kind(partition: str) -> Any:
    return partition.rsplit("#", 1)[1]


def write(channel_id: str, groups: Sequence[Group], now: str) -> bool:
    """The groups' mappings, claims and dirty marks in one TransactWriteItems; False when a condition
    failed (another writer moved a mapping or a claim since it was read): nothing was written."""
    items: list[TransactItem] = []
    for group in groups:
        items.extend(_mapping_write(channel_id, move, now) for move in group.mappings)
        items.extend(dirty_skus.mark_in_transaction(channel_id, move.sku, now) for move in group.mappings)
        items.extend(_claim_write(channel_id, move) for move in group.claims)
    reasons = transact(aws.dynamodb(), items)
    if reasons is not None and not any(reason.code == CONDITION_FAILED for reason in reasons):
        raise RuntimeError(f"the offer identities' transaction was cancelled: {[r.code for r in reasons]}")
    return reasons is None


def _mapping_write(channel_id: str, move: MappingMove, now: str) -> TransactItem:
    table = settings().channel_offers_table
    key = to_item({"channel_id": channel_id, "sku": move.sku})
    condition: dict[str, Any] = (
        {"ConditionExpression": "attribute_not_exists(sku)"}
        if move.revision is None
        else {"ConditionExpression": "revision = :r", "ExpressionAttributeValues": {":r": {"N": str(move.revision)}}}
    )
    if not move.identity.mapped:
        return {"Delete": {"TableName": table, "Key": key, **condition}}
    fields = {
        "offer_id": move.identity.offer_id,
        "chrt_id": move.identity.chrt_id,
        "revision": (move.revision or 0) + 1,
        "updated_at": now,
    }
    return {"Put": {"TableName": table, "Item": {**key, **to_item(fields)}, **condition}}


def _claim_write(channel_id: str, move: ClaimMove) -> TransactItem:
    table = settings().channel_offers_table
    key = to_item({"channel_id": _claims_partition(channel_id, move.claim[0]), "sku": move.claim[1]})
    condition: dict[str, Any] = (
        {"ConditionExpression": "attribute_not_exists(sku)"}
        if move.held_by is None
        else {"ConditionExpression": "held_by = :h", "ExpressionAttributeValues": {":h": {"S": move.held_by}}}
    )
    if move.holder is None:
        return {"Delete": {"TableName": table, "Key": key, **condition}}
    return {"Put": {"TableName": table, "Item": {**key, "held_by": {"S": move.holder}}, **condition}}


def page(channel_id: str, limit: int, cursor: str | None) -> Page:
    """The channel's mappings in SKU order, one page (Query of its partition, signed cursor)."""
    return in_key_order(TablePartition(settings().channel_offers_table, "channel_id", channel_id, "sku"), limit, cursor)
