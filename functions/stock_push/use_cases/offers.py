"""A marketplace channel's offer identities: the bulk mapping (PUT) and its listing (GET).

A PUT reads what it changes (the mappings, the offer ids' claims, and whether a SKU whose name another
SKU asks for is offered under it), plans the writes (stock_push.domain.offers), and writes each group of
SKUs handing claims to each other in one transaction with the SKUs' dirty marks, so the push sends the
new identity (and zeroes the old one, which it knows from what it sent). A transaction refused because
another writer got there between the read and the write is planned again from a fresh read (what was
written meanwhile is then unchanged); after three rounds the caller is told to send the request again.
"""

from __future__ import annotations

from common.dynamo import TRANSACTION_LIMIT
from common.errors import Conflict, NotFound
from common.observability import count
from inventory.adapters import availability_table
from reference import config_table
from stock_push.adapters import channel_offers
from stock_push.domain.offers import (
    Identity,
    OfferOut,
    OffersIn,
    OffersPage,
    OffersWritten,
    Stored,
    batches,
    changed,
    claims_to_read,
    names_taken,
    plan,
    wanted,
)

ROUNDS = 3


def put_offers(channel_id: str, request: OffersIn, now: str) -> OffersWritten:
    channel = config_table.channel(channel_id)
    if channel is None:
        raise NotFound(f"channel {channel_id!r} does not exist", channel_id=channel_id)
    identities = wanted(request.items, channel.kind)
    position = {item.sku: n for n, item in enumerate(request.items)}
    names = names_taken(identities)
    written = 0
    for _ in range(ROUNDS):
        stored = channel_offers.stored(channel_id, [*identities, *names])
        changes = changed(identities, stored)
        if not changes:
            break
        holders = channel_offers.holders(channel_id, claims_to_read(changes, stored))
        groups = plan(position, changes, stored, holders, _offered_by_name(channel_id, names, identities, stored))
        lost = False
        for batch in batches(groups, TRANSACTION_LIMIT):
            if channel_offers.write(channel_id, batch, now):
                written += sum(len(group.mappings) for group in batch)
            else:
                lost = True
        if not lost:
            break
    else:
        raise Conflict("the channel's offer identities kept changing while this request was written; send it again")
    count("ChannelOffersWritten", written)
    return OffersWritten(written=written, unchanged=len(request.items) - written)


def _offered_by_name(
    channel_id: str, names: set[str], identities: dict[str, Identity], stored: dict[str, Stored]
) -> set[str]:
    """Of the SKUs named by another's offer id, those the channel offers (it has their figures) that stay
    unmapped after the request: they are pushed under that name."""
    unmapped = {name for name in names if not (identities[name].mapped if name in identities else name in stored)}
    return set(availability_table.figures(channel_id, unmapped)) if unmapped else set()


def list_offers(channel_id: str, limit: int, cursor: str | None) -> OffersPage:
    if config_table.channel(channel_id) is None:
        raise NotFound(f"channel {channel_id!r} does not exist", channel_id=channel_id)
    page = channel_offers.page(channel_id, limit, cursor)
    return OffersPage(
        items=[
            OfferOut(
                sku=item["sku"],
                offer_id=item.get("offer_id") or item["sku"],
                chrtId=item.get("chrt_id"),
                updated_at=item["updated_at"],
            )
            for item in page.items
        ],
        next_cursor=page.next_cursor,
    )
