"""Partner statuses converge: none is lost to a failed first attempt, and an order follows the partner's
newest status even when the partner skipped steps or its messages arrive out of order. Driven as the
partners call: Ozon pushes over HTTP with its token, Market notifications through the partner queue,
Wildberries statuses by the scheduled poll of a fake partner server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from oms_local.runtime import LocalHub
from orders.adapters.workflow_catalog import workflow
from orders.domain.models import order_id_for
from partners.clients import cdek, ozon, wildberries, yandex_market
from tests.fakes.partners import FakeWildberries
from tests.integration.partner_helpers import (
    STOCK_AFTER,
    FailFirst,
    busy,
    market_created,
    market_status,
    ozon_posting,
    ozon_state,
    queue_drained,
    stock_of,
    sweep,
)
from tests.support.api import Api
from tests.support.partner_specs import SPECS
from tests.support.partners import fast_retry_hub, queue_depth, wildberries_channel
from tests.support.sample_events import load_event
from tests.support.waiting import settled

POSTING = "24219509-0101-1"
OZON_ORDER = order_id_for("ozon", POSTING)
YM_ID = 771100221
YM_ORDER = order_id_for("yandex", str(YM_ID))


@pytest.fixture
def hub() -> Iterator[LocalHub]:
    # A failed queue message is visible again at once (not after the queue's visibility timeout).
    with fast_retry_hub() as running:
        yield running


@pytest.fixture
def fail_first(monkeypatch: pytest.MonkeyPatch) -> FailFirst:
    return FailFirst(monkeypatch)


# ------------------------------------------------------------------ a failed attempt records nothing


def test_a_market_cancellation_whose_first_attempt_crashes_is_applied_by_the_queue_retry(
    hub: LocalHub, market: Api, fail_first: FailFirst
) -> None:
    market_created(hub, YM_ID)
    settled(market, YM_ORDER, "reserved")
    fail_first.arm("cancel", RuntimeError("the lifecycle call timed out"))
    market_status(hub, YM_ID, "CANCELLED", "2026-11-25T07:20:00Z")
    cancelled = settled(market, YM_ORDER, "cancelled")
    assert fail_first.raised == ["cancel"]  # the first attempt did fail; the queue's redelivery applied it
    assert cancelled["timeline"][-1]["source"] == "partner:yandex"
    assert stock_of(market) == STOCK_AFTER["cancelled"]
    queue_drained(hub)
    assert queue_depth(hub, "PartnerDeadLetterQueue") == 0


def test_an_ozon_cancellation_refused_once_is_applied_when_ozon_retries(
    hub: LocalHub, market: Api, fail_first: FailFirst
) -> None:
    assert ozon_posting(hub, POSTING).status == 200
    settled(market, OZON_ORDER, "reserved")
    fail_first.arm("cancel", RuntimeError("the lifecycle call timed out"))
    failed = ozon_state(hub, POSTING, "posting_canceled", "2026-11-25T07:30:00Z")
    assert failed.status >= 500  # Ozon retries a push that was not answered 200
    assert market.order(OZON_ORDER)["status"] == "reserved" and stock_of(market) == STOCK_AFTER["reserved"]
    assert ozon_state(hub, POSTING, "posting_canceled", "2026-11-25T07:30:00Z").body == {"result": True}
    settled(market, OZON_ORDER, "cancelled")
    assert stock_of(market) == STOCK_AFTER["cancelled"]


def test_a_newer_status_parked_while_the_order_was_busy_wins_over_an_older_one_that_comes_later(
    hub: LocalHub, market: Api, fail_first: FailFirst
) -> None:
    market_created(hub, YM_ID)
    settled(market, YM_ORDER, "reserved")
    fail_first.arm("pack", busy())  # the lifecycle is not waiting yet: the event is parked
    market_status(hub, YM_ID, "DELIVERED", "2026-11-27T12:00:00Z")
    queue_drained(hub)
    # Older than the parked DELIVERED: it must not move the order on its own ...
    market_status(hub, YM_ID, "CANCELLED", "2026-11-26T09:00:00Z")
    queue_drained(hub)
    assert market.order(YM_ORDER)["status"] == "reserved" and stock_of(market) == STOCK_AFTER["reserved"]
    # ... and the sweep replays the parked one, which converges the order.
    assert sweep(hub)["yandex"]["applied"] == 1
    delivered = settled(market, YM_ORDER, "delivered")
    assert [e["event"] for e in delivered["timeline"][-3:]] == ["pack", "ship", "deliver"]
    assert stock_of(market) == STOCK_AFTER["delivered"]
    assert sweep(hub)["yandex"] == {"applied": 0, "duplicates": 0, "parked": 0, "ignored": 0, "refused": 0}


# ------------------------------------------------------------------ skipped steps, reversed order


def statuses_moved(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's timeline without the entries of its on-entry actions (docs/actions.md)."""
    return [entry for entry in order["timeline"] if entry["source"] != "actions"]


def test_ozon_delivered_while_the_hub_has_it_packed_ships_then_delivers_and_older_statuses_change_nothing(
    hub: LocalHub, market: Api
) -> None:
    ozon_posting(hub, POSTING)
    settled(market, OZON_ORDER, "reserved")
    market.event(OZON_ORDER, "pack")
    settled(market, OZON_ORDER, "packed")
    assert ozon_state(hub, POSTING, "posting_delivered", "2026-11-27T12:00:00Z").body == {"result": True}
    delivered = settled(market, OZON_ORDER, "delivered")
    assert [(e["event"], e["source"]) for e in statuses_moved(delivered)[-2:]] == [
        ("ship", "partner:ozon"),
        ("deliver", "partner:ozon"),
    ]
    assert stock_of(market) == STOCK_AFTER["delivered"]
    # The older ones, late; the same one again; a cancellation after delivery: nothing changes.
    for state, at in [
        ("posting_transferring_to_delivery", "2026-11-25T09:00:00Z"),
        ("posting_in_carriage", "2026-11-26T09:00:00Z"),
        ("posting_delivered", "2026-11-27T12:00:00Z"),
        ("posting_canceled", "2026-11-28T09:00:00Z"),
    ]:
        assert ozon_state(hub, POSTING, state, at).status == 200
    # (The hub's own confirmation of the packing to Ozon runs beside this and notes its outcome.)
    assert statuses_moved(market.order(OZON_ORDER)) == statuses_moved(delivered)
    assert stock_of(market) == STOCK_AFTER["delivered"]


def test_market_delivered_before_delivery_takes_a_reserved_order_through_pack_and_ship(
    hub: LocalHub, market: Api
) -> None:
    market_created(hub, YM_ID)
    settled(market, YM_ORDER, "reserved")
    market_status(hub, YM_ID, "DELIVERED", "2026-11-27T12:00:00Z")
    delivered = settled(market, YM_ORDER, "delivered")
    assert delivered["workflow"] == "marketplace"
    assert [e["event"] for e in delivered["timeline"][-3:]] == ["pack", "ship", "deliver"]
    assert stock_of(market) == STOCK_AFTER["delivered"]
    market_status(hub, YM_ID, "DELIVERY", "2026-11-26T12:00:00Z")  # older, late
    market_status(hub, YM_ID, "CANCELLED", "2026-11-28T12:00:00Z")  # after delivery
    queue_drained(hub)
    assert market.order(YM_ORDER)["timeline"] == delivered["timeline"]
    assert stock_of(market) == STOCK_AFTER["delivered"]


def test_market_delivery_ships_a_reserved_order_and_its_duplicate_changes_nothing(hub: LocalHub, market: Api) -> None:
    market_created(hub, YM_ID)
    settled(market, YM_ORDER, "reserved")
    for _ in range(2):  # Market delivers notifications more than once
        market_status(hub, YM_ID, "DELIVERY", "2026-11-26T12:00:00Z")
    queue_drained(hub)
    shipped = settled(market, YM_ORDER, "shipped")
    assert [e["event"] for e in shipped["timeline"]].count("ship") == 1
    assert stock_of(market) == STOCK_AFTER["shipped"]


@pytest.fixture
def fake_wb(market: Api) -> Iterator[FakeWildberries]:
    with wildberries_channel(market) as fake:
        yield fake


def test_wildberries_statuses_polled_for_a_reserved_order_ship_then_deliver_it(
    hub: LocalHub, market: Api, fake_wb: FakeWildberries
) -> None:
    fake_wb.new = load_event("wb_orders_new.json")["orders"]
    assert sweep(hub)["wb"]["applied"] == 1
    order_id = order_id_for("wb", "13833711")
    settled(market, order_id, "reserved")
    fake_wb.new = []
    fake_wb.statuses[13833711] = ("complete", "sorted")
    assert sweep(hub)["wb"]["applied"] == 1
    shipped = settled(market, order_id, "shipped")
    assert [e["event"] for e in shipped["timeline"][-2:]] == ["pack", "ship"]
    assert stock_of(market) == STOCK_AFTER["shipped"]
    # The same status polled again is a duplicate: nothing changes.
    assert sweep(hub)["wb"] == {"applied": 0, "duplicates": 1, "parked": 0, "ignored": 0, "refused": 0}
    assert market.order(order_id)["timeline"] == shipped["timeline"]
    fake_wb.statuses[13833711] = ("complete", "sold")
    assert sweep(hub)["wb"]["applied"] == 1
    settled(market, order_id, "delivered")
    assert stock_of(market) == STOCK_AFTER["delivered"]


# ------------------------------------------------------------------ the status tables


@pytest.mark.parametrize("module", [ozon, yandex_market, wildberries, cdek], ids=lambda m: m.__name__)
def test_every_status_of_the_partners_vocabulary_is_mapped_and_no_other(module: object) -> None:
    kind = module.CONNECTOR.kind  # type: ignore[attr-defined]
    vocabulary = json.loads((SPECS / f"{kind}.json").read_text())["x-conformance"]["status_vocabulary"]
    assert vocabulary["table"] == "STATUS_EVENTS"
    table: dict[str, str | None] = module.STATUS_EVENTS  # type: ignore[attr-defined]
    assert sorted(set(vocabulary["values"]) - set(table)) == [], "statuses the table does not map"
    assert sorted(set(table) - set(vocabulary["values"])) == [], "statuses the partner does not send"
    # Each mapped event is one the partner's orders can take: marketplace orders run the marketplace
    # workflow, courier shipments (CDEK) the courier workflow.
    flow = workflow("courier" if kind == "cdek" else "marketplace")
    assert {e for e in table.values() if e is not None} <= set(flow.events())


def test_the_workflow_gives_the_shortest_way_forward_and_none_backwards() -> None:
    flow = workflow("marketplace")
    assert flow.path("reserved", "delivered") == ["pack", "ship", "deliver"]
    assert flow.path("packed", "delivered") == ["ship", "deliver"]
    assert flow.path("shipped", "shipped") == []
    assert flow.path("delivered", "shipped") is None and flow.path("shipped", "cancelled") is None
    assert flow.path("on_hold", "shipped", avoid=frozenset({"reserve"})) is None
    courier = workflow("courier")
    assert courier.path("awaiting_payment", "shipped") == ["pay", "pick", "pack", "ship"]
    assert courier.path("awaiting_payment", "shipped", avoid=frozenset({"pay", "remind"})) is None
