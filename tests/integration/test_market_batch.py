"""Yandex Market hears many orders' statuses at once: the actions queue's batch (10 messages) groups the
Market status changes per campaign into status-update calls (Market takes 30), each order's result its
own. On the local hub (one per module), against a fake Market checking every request against its spec."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from common.config import settings
from oms_local.runtime import LocalHub
from tests.fakes.partners import FakeYandexMarket
from tests.fakes.server import serve
from tests.support import builders
from tests.support.api import Api
from tests.support.partners import market_channel, queue_depth
from tests.support.waiting import wait_until
from tests.support.workflows import action, storefront_order

CAMPAIGN = 21621657
BATCH_PATH = f"/v2/campaigns/{CAMPAIGN}/orders/status-update"
DONE = {"campaign": CAMPAIGN, "status": "PROCESSING/READY_TO_SHIP"}


@pytest.fixture(scope="module")
def market() -> Iterator[tuple[Api, FakeYandexMarket]]:
    """wh-1 (60 x SKU-A) ships channel ym's orders, its Market campaign's warehouse."""
    fake = FakeYandexMarket()
    os.environ["ACTIONS_BACKOFF_SECONDS"] = "1"  # a retry seen in a second (10 s on a stack)
    settings.cache_clear()
    with serve(fake.app()) as url, LocalHub() as hub:
        api = builders.every_method_shop(Api(hub))
        assert api.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": 60}]}).status == 200
        market_channel(api, url, CAMPAIGN)
        yield api, fake
    os.environ.pop("ACTIONS_BACKOFF_SECONDS", None)
    settings.cache_clear()


def packed_at_once(api: Api, first: int, count: int) -> list[str]:
    """`count` Market orders (external ids from `first`) packed while the actions queue's event source is
    held, so that their announcements wait in the queue together and come out in full batches."""
    orders = [storefront_order(api, "ym", str(first + n)) for n in range(count)]
    wait_until(lambda: queue_depth(api.hub, "OrderActionsQueue") == 0, 30, "the intake's actions settled")
    with api.hub.queue_reader("OrderActionsFunction").held():
        for order_id in orders:
            api.event(order_id, "pack")
        for order_id in orders:
            api.wait_for(order_id, "packed", timeout=15)
    return orders


def market_ids(bodies: list[Any]) -> list[list[int]]:
    return [[o["id"] for o in body["orders"]] for body in bodies]


def test_45_orders_packed_at_once_reach_market_in_a_call_per_batch_each_order_once(
    market: tuple[Api, FakeYandexMarket],
) -> None:
    api, fake = market
    orders = packed_at_once(api, 8001, 45)
    records = [action(api, order_id, "confirm_to_marketplace", timeout=30) for order_id in orders]
    calls = market_ids(fake.calls(BATCH_PATH))
    assert sorted(len(c) for c in calls) == [5, 10, 10, 10, 10]  # one call per batch the queue hands over
    assert sorted(n for c in calls for n in c) == list(range(8001, 8046))  # each order in one call only
    assert all(
        o == {"id": o["id"], "status": "PROCESSING", "substatus": "READY_TO_SHIP"}
        for b in fake.calls(BATCH_PATH)
        for o in b["orders"]
    )
    assert all(r["attempts"] == 1 and r["result"] == DONE for r in records)
    assert all(fake.updated[n] == 1 for n in range(8001, 8046))
    assert not [p for _, p, _ in fake.requests if p.endswith("/status")]  # none of them sent alone


def test_one_order_market_refuses_fails_alone_with_its_reason(market: tuple[Api, FakeYandexMarket]) -> None:
    api, fake = market
    fake.refused = {9002}
    before = len(fake.calls(BATCH_PATH))
    orders = packed_at_once(api, 9001, 3)
    refused = action(api, orders[1], "confirm_to_marketplace", "failed", timeout=30)
    assert refused["attempts"] == 1 and "status cannot be changed" in refused["last_error"]
    assert "9002" in refused["last_error"]
    for order_id in (orders[0], orders[2]):
        record = action(api, order_id, "confirm_to_marketplace", timeout=30)
        assert record["attempts"] == 1 and record["result"] == DONE
        assert api.order(order_id).get("attention") is None
    # One call with the three (in the order the queue handed them over: the lifecycles pack them at once)
    assert [sorted(ids) for ids in market_ids(fake.calls(BATCH_PATH)[before:])] == [[9001, 9002, 9003]]
    assert api.order(orders[1])["attention"] == "action_failed"
    [task] = [t for t in api.get("/v1/tasks").body["items"] if t["kind"] == "action_failed"]
    assert task["order_id"] == orders[1] and "status cannot be changed" in task["reason"]
    wait_until(lambda: queue_depth(api.hub, "OrderActionsQueue") == 0, 15, "the queue drained")
    assert len(fake.calls(BATCH_PATH)) == before + 1  # nothing sent again


def test_a_call_market_fails_as_a_whole_retries_each_of_its_orders_and_sets_each_once(
    market: tuple[Api, FakeYandexMarket],
) -> None:
    api, fake = market
    fake.fail(503, times=3, path=BATCH_PATH)  # one attempt's three tries (not the stock pushes')
    orders = packed_at_once(api, 9101, 3)
    for order_id in orders:
        record = action(api, order_id, "confirm_to_marketplace", timeout=30)
        assert record["attempts"] == 2 and record["result"] == DONE
        assert "HTTP 503" in record["last_error"]
    wait_until(lambda: queue_depth(api.hub, "OrderActionsQueue") == 0, 15, "the queue drained")
    assert [fake.updated[n] for n in (9101, 9102, 9103)] == [1, 1, 1]
