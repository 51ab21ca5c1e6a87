"""A marketplace channel's offer identities (ChannelOffersTable: partition `channel_id`, sort key `sku`).

Item: `offer_id` (the seller's article the partner knows the SKU by), `chrt_id` (Wildberries' size id,
needed by its stock API), `updated_at`. A SKU without an item is offered under its own name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from common import aws
from common.config import settings
from common.dynamo import batch_get


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
    found = {
        str(item["sku"]): OfferIdentity(
            str(item["sku"]),
            str(item.get("offer_id") or item["sku"]),
            int(item["chrt_id"]) if item.get("chrt_id") is not None else None,
        )
        for item in items
    }
    return {sku: found.get(sku, OfferIdentity(sku, sku)) for sku in wanted}
