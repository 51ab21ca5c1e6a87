"""The hub's outbound partner calls against fake servers on 127.0.0.1: throttling, failures, timeouts,
per-item results, tokens that expire mid-run, and each partner's rate limit."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from partners.clients.cdek import CdekClient
from partners.clients.http import PartnerHttp, PartnerRejected, PartnerUnavailable
from partners.clients.ozon import OzonClient, ShipFailed
from partners.clients.wildberries import WildberriesClient
from partners.clients.yandex_market import YandexMarketClient
from tests.fakes.partners import FakeCdek, FakeOzon, FakeWildberries, FakeYandexMarket
from tests.fakes.server import serve

FAST = {"timeout": 0.5, "max_backoff": 0.05}
# A body of thousands of items, checked against the spec by the fake, can outlast FAST's timeout on a busy
# machine; the retry would then count as one more batch.
BULK = {**FAST, "timeout": 10.0}
OZON = {"Client-Id": "836", "Api-Key": "ozon-key"}
CDEK = {"client_id": "cdek-id", "client_secret": "cdek-secret"}


def shipment(number: str) -> dict[str, Any]:
    """A CDEK online-store shipment (type 1: each package lists its items) as the spec's AddOrder wants it."""
    return {
        "type": 1,
        "number": number,
        "tariff_code": 136,
        "shipment_point": "MSK123",
        "delivery_point": "MSK456",
        "recipient": {"name": "Anna", "phones": [{"number": "+79165551234"}]},
        "packages": [
            {
                "number": "1",
                "weight": 500,
                "length": 20,
                "width": 15,
                "height": 10,
                "items": [
                    {
                        "name": "SKU-A",
                        "ware_key": "SKU-A",
                        "payment": {"value": 0},
                        "cost": 1390,
                        "weight": 500,
                        "amount": 1,
                    }
                ],
            }
        ],
    }


@pytest.fixture
def ozon() -> Iterator[tuple[FakeOzon, OzonClient]]:
    fake = FakeOzon()
    with serve(fake.app()) as url:
        yield fake, OzonClient(url, OZON, **FAST)


def test_ozon_ship_reads_back_the_substatus(ozon: tuple[FakeOzon, OzonClient]) -> None:
    fake, client = ozon
    assert client.ship("123-0001-1", [[(147451959, 1)], [(147451959, 1)]]) == ["123-0001-1-1", "123-0001-1-2"]
    assert len(fake.calls("/v3/posting/fbs/get")) == 2
    fake.substatus = "ship_failed"
    with pytest.raises(ShipFailed):
        client.ship("123-0002-1", [[(147451959, 1)]])


def test_ozon_429_is_retried_after_the_time_it_asks_for(ozon: tuple[FakeOzon, OzonClient]) -> None:
    fake, client = ozon
    client.http.max_backoff = 1.0
    fake.fail(429, retry_after=0.3)
    started = time.monotonic()
    assert client.ship("123-0001-1", [[(1, 1)]]) == ["123-0001-1"]
    assert time.monotonic() - started >= 0.3
    assert len(fake.calls("/v4/posting/fbs/ship")) == 2


def test_a_retry_after_that_is_not_a_number_falls_back_to_the_clients_own_backoff(
    ozon: tuple[FakeOzon, OzonClient],
) -> None:
    fake, client = ozon
    fake.fail(429, retry_after=math.nan)  # "nan" once reached sleep() and crashed the caller
    assert client.ship("123-0001-1", [[(1, 1)]]) == ["123-0001-1"]
    assert len(fake.calls("/v4/posting/fbs/ship")) == 2


def test_ozon_500s_and_timeouts_are_retried_then_reported(ozon: tuple[FakeOzon, OzonClient]) -> None:
    fake, client = ozon
    fake.fail(500, times=2)
    fake.fail("timeout")
    assert client.ship("123-0001-1", [[(1, 1)]]) == ["123-0001-1"]
    assert len(fake.calls("/v4/posting/fbs/ship")) == 4
    fake.fail(503, times=client.http.attempts)
    with pytest.raises(PartnerUnavailable):
        client.ship("123-0001-1", [[(1, 1)]])


def test_ozon_wrong_credentials_are_a_rejection_not_retried(ozon: tuple[FakeOzon, OzonClient]) -> None:
    fake, _ = ozon
    client = OzonClient(str(_url(ozon[1])), {"Client-Id": "836", "Api-Key": "wrong"}, **FAST)
    with pytest.raises(PartnerRejected):
        client.ship("123-0001-1", [[(1, 1)]])
    assert len(fake.calls("/v4/posting/fbs/ship")) == 1


def test_ozon_reconcile_reads_every_page() -> None:
    fake = FakeOzon()
    fake.postings = [
        {
            "posting_number": f"p-{n}",
            "status": "awaiting_packaging",
            "products": [{"sku": 1, "offer_id": "SKU-A", "quantity": 1, "price": "1390.000000"}],
        }
        for n in range(2500)
    ]
    with serve(fake.app()) as url:  # pages of 1,000 postings: BULK's timeout, or a retry counts as a page
        found = OzonClient(url, OZON, **BULK).unfulfilled(datetime.now(UTC))
    assert [o.external_id for o in found] == [f"p-{n}" for n in range(2500)]
    assert {o.lines[0].price for o in found} == {Decimal("1390")}  # the listed postings carry their prices
    assert not any(o.lookup for o in found)  # so the poll reads no posting one by one
    assert [c["offset"] for c in fake.calls("/v3/posting/fbs/unfulfilled/list")] == [0, 1000, 2000]


def _url(client: OzonClient) -> str:
    return str(client.http.client.base_url)


def test_wildberries_supply_is_checked_item_by_item() -> None:
    fake = FakeWildberries()
    with serve(fake.app()) as url:
        client = WildberriesClient(url, {"token": "wb-token"}, **FAST)
        supply = client.hand_over("morning", [1, 2])
        assert fake.supplies[supply] == {1, 2} and fake.delivered == [supply]
        fake.ignored_orders = {4}  # 204 that changed nothing
        with pytest.raises(PartnerRejected, match=r"\[4\]"):
            client.hand_over("evening", [3, 4])
        assert len(fake.delivered) == 1  # a supply missing an order is not sent


def test_a_wildberries_409_costs_ten_requests_of_the_budget() -> None:
    fake = FakeWildberries()
    with serve(fake.app()) as url:
        from pyrate_limiter import Duration, Limiter, Rate

        http = PartnerHttp(
            "wildberries",
            url,
            headers={"Authorization": "wb-token"},
            costs={409: 10},
            limiter=Limiter(Rate(12, Duration.SECOND)),
            **FAST,
        )
        fake.fail(409)
        with pytest.raises(PartnerRejected):
            http.request("GET", "/api/v3/orders/new")
        started = time.monotonic()
        for _ in range(2):  # the 409 used 10 of the 12: two more fit in this second
            http.request("GET", "/api/v3/orders/new")
        http.request("GET", "/api/v3/orders/new")  # the 13th waits for the window to move
        assert time.monotonic() - started >= 0.5


def test_yandex_market_never_has_more_than_two_requests_in_flight() -> None:
    fake = FakeYandexMarket()
    with serve(fake.app()) as url:
        client = YandexMarketClient(url, {"Api-Key": "ym-key"}, **FAST)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: client.set_status(21621240, n, "PROCESSING", "READY_TO_SHIP"), range(16)))
        assert fake.most_in_flight == 2
        assert len(fake.requests) == 16  # no 420, nothing retried
        fake.refused = {2}
        assert client.set_statuses(21621240, [(1, "PROCESSING", "READY_TO_SHIP"), (2, "PROCESSING", None)]) == {
            2: "status cannot be changed"
        }


def test_cdek_token_is_cached_and_fetched_again_when_it_expires_mid_run() -> None:
    fake = FakeCdek(expires_in=3600)
    with serve(fake.app()) as url:
        client = CdekClient(url, CDEK, **FAST)
        assert client.create_order(shipment("ord_1")) == "uuid-1"
        assert client.create_order(shipment("ord_2")) == "uuid-2"
        assert client.tokens_fetched == 1
        fake.revoke()  # the token dies before its stated expiry
        assert client.create_order(shipment("ord_3")) == "uuid-3"
        assert client.tokens_fetched == 2
        fake.invalid_numbers = {"ord_4"}
        with pytest.raises(PartnerRejected, match="phones"):
            client.create_order(shipment("ord_4"))


def test_cdek_token_is_renewed_before_its_stated_expiry() -> None:
    fake = FakeCdek(expires_in=CdekClient.MARGIN + 1)
    with serve(fake.app()) as url:
        client = CdekClient(url, CDEK, **FAST)
        client.create_order(shipment("ord_1"))
        time.sleep(1.1)
        client.create_order(shipment("ord_2"))
        assert client.tokens_fetched == 2
        assert len(fake.calls("/v2/orders")) == 2  # renewed ahead: no 401 round trip


def test_cdek_wrong_client_secret_is_a_rejection() -> None:
    fake = FakeCdek()
    with serve(fake.app()) as url:
        with pytest.raises(PartnerRejected):
            CdekClient(url, {**CDEK, "client_secret": "bad"}, **FAST).create_order(shipment("ord_1"))
        assert fake.orders == []


def test_cdek_webhook_subscription_is_sent_as_the_spec_has_it() -> None:
    fake = FakeCdek()
    with serve(fake.app()) as url:
        client = CdekClient(url, CDEK, **FAST)
        assert client.subscribe("https://hub.example/v1/webhooks/cdek?token=t0ken-123") == "hook-1"
        assert fake.webhooks == [
            {"type": "ORDER_STATUS", "url": "https://hub.example/v1/webhooks/cdek?token=t0ken-123"}
        ]
