"""The marketplace actions of the `marketplace` workflow, each done the way the order's channel's partner
takes it (docs/actions.md):

- `confirm_to_marketplace` (packed): Ozon ships the posting in one package (`/v4/posting/fbs/ship`, then
  `/v3/posting/fbs/get` for `ship_failed`) and its package label is fetched (a label task); Yandex Market
  gets PROCESSING/READY_TO_SHIP (orders of one campaign in one queue batch together, 30 a request);
  Wildberries takes the assembly task into the channel's open supply (one is created when none is open).
- `hand_over_to_marketplace` (shipped): Wildberries' supply goes to delivery; Ozon and Market collect by
  themselves, nothing is sent.
- `cancel_at_marketplace` (cancelled): the seller's cancellation reaches the marketplace (Ozon with a
  reason, Market CANCELLED/SHOP_FAILED, Wildberries' cancel).

A status the marketplace itself moved the order into (its push or poll) is not reported back to it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from actions.adapters import open_supplies
from actions.domain.outcomes import Done, Grouped, Outcome, Permanent, Skipped, Transient
from actions.use_cases.context import Context
from orders.domain.actions import done_results, records
from partners.clients.http import PartnerUnavailable, Tuning
from partners.clients.ozon import OzonClient
from partners.clients.wildberries import WildberriesClient
from partners.clients.yandex_market import STATUS_BATCH, UNREPORTED, YandexMarketClient
from reference import config_table
from reference.models import Channel

# The queue retries with backoff: one attempt keeps its partner calls short.
TUNING: Tuning = {"timeout": 10.0, "attempts": 3, "max_backoff": 2.0}
# Ozon posting statuses from which the seller's ship call has gone through.
OZON_SHIPPED = frozenset({"awaiting_deliver", "sent_by_seller", "driver_pickup", "delivering", "delivered"})
# Ozon forms a label 45-60 s after the ship call: a short look, then the queue's backoff (10 s, 20 s, 40 s).
LABEL_POLLS = 3
LABEL_INTERVAL = 0.5
PARTNER_SOURCE = "partner:"


def _credentials(channel: Channel) -> Callable[[], dict[str, str]]:
    return lambda: config_table.credentials(channel.channel_id)


def _number(ctx: Context) -> int | Permanent:
    external = ctx.order["external_id"]
    return int(external) if external.isdigit() else Permanent(f"external id {external!r} is not the partner's number")


def confirm(ctx: Context) -> Outcome | Grouped:
    return _by_kind(ctx, {"ozon": _ozon_ship, "yandex_market": _market_ready, "wildberries": _wb_into_supply})


def hand_over(ctx: Context) -> Outcome | Grouped:
    return _by_kind(ctx, {"wildberries": _wb_deliver})


def cancel(ctx: Context) -> Outcome | Grouped:
    return _by_kind(ctx, {"ozon": _ozon_cancel, "yandex_market": _market_cancel, "wildberries": _wb_cancel})


def _by_kind(ctx: Context, performers: dict[str, Callable[[Context, Channel], Outcome | Grouped]]) -> Outcome | Grouped:
    if ctx.entered_by.startswith(PARTNER_SOURCE):
        # The marketplace reported this move itself (its poll or push): there is nothing to tell it.
        return Skipped("the marketplace reported the move itself")
    if ctx.order["status"] != ctx.status and ctx.reported_since.startswith(PARTNER_SOURCE):
        return Skipped("the marketplace has since reported the order further on")
    channel = ctx.channel
    if channel is None:
        return Permanent(f"channel {ctx.order['channel']!r} does not exist")
    performer = performers.get(channel.kind)
    if performer is None:
        return Skipped(f"nothing to send to a {channel.kind} channel")
    if channel.api_url is None:
        return Permanent(f"channel {channel.channel_id!r} has no api_url for the hub's calls")
    return performer(ctx, channel)


# ------------------------------------------------------------------ Ozon


def _ozon(channel: Channel) -> OzonClient:
    return OzonClient(str(channel.api_url), _credentials(channel), **TUNING)


def _ozon_ship(ctx: Context, channel: Channel) -> Outcome:
    """Ship the posting, then fetch its package label (the courier's label of the marketplace). A label
    Ozon has not formed yet is asked for again on the next attempt, which finds the posting shipped."""
    number = ctx.order["external_id"]
    client = _ozon(channel)
    try:
        posting = client.posting(number)
        if posting.status in OZON_SHIPPED:  # an earlier attempt's ship went through before its outcome was written
            postings = _earlier(ctx).get("postings") or [number]
        else:
            package = [(p.sku, p.quantity) for p in posting.products if p.sku is not None]
            if not package or len(package) < len(posting.products):
                return Permanent(f"ozon posting {number} has products without Ozon's sku")
            postings = client.ship(number, [package]) or [number]
        try:
            label = client.label(postings, polls=LABEL_POLLS, interval=LABEL_INTERVAL)
        except PartnerUnavailable as later:
            return Transient(str(later), {"postings": postings})
        return Done({"postings": postings, "label_url": label})
    finally:
        client.close()


def _earlier(ctx: Context) -> dict[str, Any]:
    """What the action's earlier attempt kept (its result)."""
    return (records(ctx.order).get(ctx.key) or {}).get("result") or {}


def _ozon_cancel(ctx: Context, channel: Channel) -> Outcome:
    client = _ozon(channel)
    try:
        client.cancel(ctx.order["external_id"], _reason(ctx))
    finally:
        client.close()
    return Done({"cancelled": ctx.order["external_id"]})


def _reason(ctx: Context) -> str:
    entry: dict[str, Any] = next(
        (e for e in reversed(ctx.order.get("timeline", [])) if e["status"] == ctx.status and e.get("note")), {}
    )
    return str(entry.get("note") or "cancelled by the seller")[:500]


# ------------------------------------------------------------------ Yandex Market


MarketChange = tuple[int, str, str]  # Market's order id, status, substatus


def _market_status(ctx: Context, channel: Channel, status: str, substatus: str) -> Outcome | Grouped:
    """Sent with the other orders of the campaign the queue batch holds (Market's status-update, 30 a call)."""
    number = _number(ctx)
    if isinstance(number, Permanent):
        return number
    campaign = _campaign(ctx, channel)
    if campaign is None:
        return Permanent(f"channel {channel.channel_id!r} maps no warehouse to a Market campaign")
    return Grouped(
        group=(channel.channel_id, campaign),
        item=(number, status, substatus),
        size=STATUS_BATCH,
        send=functools.partial(_market_send, channel, campaign),
    )


def _market_send(channel: Channel, campaign: int, changes: list[MarketChange]) -> list[Outcome]:
    """One order alone: its own status call (Market answers the order as it now is); more: one status-update
    call, each order's result its own (one refused order does not fail the others)."""
    client = YandexMarketClient(str(channel.api_url), _credentials(channel), **TUNING)
    try:
        if len(changes) == 1:
            client.set_status(campaign, *changes[0])
            refused = {}
        else:
            refused = client.set_statuses(campaign, list(changes))
    finally:
        client.close()
    outcomes: list[Outcome] = []
    for number, status, substatus in changes:
        reason = refused.get(number)
        if reason is None:
            outcomes.append(Done({"campaign": campaign, "status": f"{status}/{substatus}"}))
        elif reason == UNREPORTED:  # setting a status again is harmless: asked again
            outcomes.append(Transient(f"Market order {number}: {reason}"))
        else:
            outcomes.append(Permanent(f"Market did not update order {number}: {reason}"))
    return outcomes


def _campaign(ctx: Context, channel: Channel) -> int | None:
    """The campaign of the warehouse the order ships from (Market: one campaign per warehouse)."""
    locations = {a["location_id"] for a in ctx.order.get("allocations", [])}
    campaigns = [w.partner_warehouse_id for w in channel.warehouses if locations & set(w.locations)]
    campaigns += [w.partner_warehouse_id for w in channel.warehouses]
    return next((int(c) for c in campaigns if c.isdigit()), None)


def _market_ready(ctx: Context, channel: Channel) -> Outcome | Grouped:
    return _market_status(ctx, channel, "PROCESSING", "READY_TO_SHIP")


def _market_cancel(ctx: Context, channel: Channel) -> Outcome | Grouped:
    return _market_status(ctx, channel, "CANCELLED", "SHOP_FAILED")


# ------------------------------------------------------------------ Wildberries


def _wb(channel: Channel) -> WildberriesClient:
    return WildberriesClient(str(channel.api_url), _credentials(channel), **TUNING)


def _wb_into_supply(ctx: Context, channel: Channel) -> Outcome:
    number = _number(ctx)
    if isinstance(number, Permanent):
        return number
    client = _wb(channel)
    try:
        supply = open_supplies.current(channel.channel_id)
        if supply is None:
            supply = open_supplies.keep(channel.channel_id, client.create_supply(f"oms-hub {ctx.now[:10]}"), ctx.now)
        client.add_to_supply(supply, [number])
    finally:
        client.close()
    return Done({"supply_id": supply})


def _wb_deliver(ctx: Context, channel: Channel) -> Outcome:
    supplies = done_results(ctx.order, "confirm_to_marketplace", "supply_id")
    if not supplies:
        return Skipped("no supply holds the order")
    supply = supplies[-1]
    if open_supplies.current(channel.channel_id) != supply:
        return Done({"supply_id": supply, "delivered": "with an earlier hand-over"})
    client = _wb(channel)
    try:
        client.deliver(supply)
    finally:
        client.close()
    open_supplies.close(channel.channel_id, supply)
    return Done({"supply_id": supply, "delivered": "now"})


def _wb_cancel(ctx: Context, channel: Channel) -> Outcome:
    number = _number(ctx)
    if isinstance(number, Permanent):
        return number
    client = _wb(channel)
    try:
        client.cancel(number)
    finally:
        client.close()
    return Done({"cancelled": number})
