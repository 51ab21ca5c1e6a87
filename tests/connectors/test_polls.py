"""Scheduled polls against fake partner servers: Ozon reconcile (the push that never came) and
Wildberries (no push at all), driven through the template's PartnerPollFunction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oms_local.runtime import LocalHub
from orders.domain.models import order_id_for
from tests.fakes.partners import FakeOzon, FakeWildberries
from tests.support.api import Api
from tests.support.partners import ozon, wildberries_channel
from tests.support.sample_events import load_event

SCHEDULED = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


@pytest.fixture
def ozon_api(market: Api, fake_ozon: tuple[FakeOzon, str]) -> FakeOzon:
    """The `market` channel ozon's API (the same fake the pushes' prices are read from)."""
    return fake_ozon[0]


@pytest.fixture
def fake_wb(market: Api) -> Iterator[FakeWildberries]:
    with wildberries_channel(market) as fake:
        yield fake


def _poll(hub: LocalHub) -> dict:
    return hub.invoke("PartnerPollFunction", SCHEDULED)["channels"]


def test_ozon_reconcile_creates_the_posting_the_push_missed_once(
    hub: LocalHub, market: Api, ozon_api: FakeOzon
) -> None:
    ozon_api.postings = load_event("ozon_unfulfilled_list.json")["result"]["postings"]
    assert _poll(hub)["ozon"]["applied"] == 1
    order_id = order_id_for("ozon", "24219509-0031-1")
    order = market.wait_for(order_id, "reserved")
    assert order["ship_by"] == "2026-11-26T10:00:00.000Z" and order["lines"][0]["qty"] == 1
    assert _poll(hub)["ozon"] == {"applied": 0, "duplicates": 1, "parked": 0, "ignored": 0, "refused": 0}
    # the late push of the same posting is a duplicate too
    late = ozon(hub, "ozon_new_posting.json", posting_number="24219509-0031-1")
    assert late.status == 200
    assert len(market.get("/v1/orders", "channel=ozon").body["items"]) == 1
    assert market.stock("SKU-A", "wh-1")["reserved"] == 1
    sent = ozon_api.calls("/v3/posting/fbs/unfulfilled/list")[0]
    assert sent["limit"] == 1000 and set(sent["filter"]) == {"cutoff_from", "cutoff_to"}


def test_ozon_down_during_the_poll_changes_nothing_and_the_next_poll_catches_up(
    hub: LocalHub, market: Api, ozon_api: FakeOzon
) -> None:
    ozon_api.postings = load_event("ozon_unfulfilled_list.json")["result"]["postings"]
    ozon_api.fail(500, times=5)
    assert _poll(hub)["ozon"]["applied"] == 0
    assert market.get("/v1/orders", "channel=ozon").body["items"] == []
    assert _poll(hub)["ozon"]["applied"] == 1


def test_wildberries_new_tasks_become_orders_and_their_statuses_follow(
    hub: LocalHub, market: Api, fake_wb: FakeWildberries
) -> None:
    fake_wb.new = load_event("wb_orders_new.json")["orders"]
    assert _poll(hub)["wb"]["applied"] == 1
    order_id = order_id_for("wb", "13833711")
    order = market.wait_for(order_id, "reserved")
    assert order["lines"] == [{"sku": "SKU-A", "qty": 1, "price": 1190.0}]  # finalPrice in kopecks
    fake_wb.statuses[13833711] = ("new", "waiting")
    assert _poll(hub)["wb"] == {"applied": 0, "duplicates": 1, "parked": 0, "ignored": 1, "refused": 0}
    fake_wb.new = []
    fake_wb.statuses[13833711] = ("cancel", "canceled_by_client")
    assert _poll(hub)["wb"]["applied"] == 1
    market.wait_for(order_id, "cancelled")
    assert market.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 0, "available": 10}
    # the cancelled order is no longer asked about; the same status seen again would change nothing
    assert _poll(hub)["wb"] == {"applied": 0, "duplicates": 0, "parked": 0, "ignored": 0, "refused": 0}
    assert fake_wb.calls("/api/v3/orders/status")[-1] == {"orders": [13833711]}


def test_wildberries_with_a_wrong_token_creates_nothing(hub: LocalHub, market: Api, fake_wb: FakeWildberries) -> None:
    fake_wb.new = load_event("wb_orders_new.json")["orders"]
    fake_wb.auth["Authorization"] = "another-token"
    assert _poll(hub)["wb"]["applied"] == 0
    assert market.get("/v1/orders", "channel=wb").body["items"] == []


def test_a_polled_posting_the_hub_can_never_take_is_refused_alone_and_the_poll_goes_on(
    hub: LocalHub, market: Api, ozon_api: FakeOzon, fake_wb: FakeWildberries
) -> None:
    good = load_event("ozon_unfulfilled_list.json")["result"]["postings"][0]
    bad = {
        **good,
        "posting_number": "24219509-0032-1",
        "products": [{**good["products"][0], "offer_id": "not a hub sku"}],
    }
    ozon_api.postings = [bad, good]
    fake_wb.new = load_event("wb_orders_new.json")["orders"]
    polled = _poll(hub)
    assert polled["ozon"]["refused"] == 1 and polled["ozon"]["applied"] == 1
    assert polled["wb"]["applied"] == 1  # the next channel is still polled
    market.wait_for(order_id_for("ozon", "24219509-0031-1"), "reserved")
    assert market.get(f"/v1/orders/{order_id_for('ozon', '24219509-0032-1')}").status == 404
    assert market.stock("SKU-A", "wh-1")["reserved"] == 2  # the good posting and the Wildberries task
    # the refused posting is judged again on the next poll (it may be fixed at Ozon), and refused again
    assert _poll(hub)["ozon"]["refused"] == 1
