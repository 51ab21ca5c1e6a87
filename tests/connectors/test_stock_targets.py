"""The marketplaces' stock APIs as StockTargets, each against its fake on 127.0.0.1, which enforces the
partner's limits and holds every request to the partner's spec: batches at the limit, per-line outcomes
with the partner's reasons, Wildberries' 204 that kept nothing, throttling (429/420 with Retry-After, the
409 cost), 5xx, timeouts and a rotated key."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from partners.clients.http import PartnerRejected, PartnerUnavailable
from partners.clients.ozon import OzonClient
from partners.clients.stock import LineResult, Outcome, Pair, StockLine, StockTarget, stock_target
from partners.clients.wildberries import WildberriesClient
from partners.clients.yandex_market import YandexMarketClient
from tests.fakes.partners import Budget, FakeOzon, FakeWildberries, FakeYandexMarket
from tests.fakes.server import serve

FAST = {"timeout": 0.5, "max_backoff": 0.05}
# Thousands of items checked against the spec by the fake can outlast FAST's timeout on a busy machine.
BULK = {**FAST, "timeout": 10.0}
OZON = {"Client-Id": "836", "Api-Key": "ozon-key"}
WB = {"token": "wb-token"}
MARKET = {"Api-Key": "ym-key"}
AT = datetime(2026, 12, 2, 8, tzinfo=UTC)
OZON_WH, WB_WH, CAMPAIGN = "22142605386000", "658434", "21621240"
ACCEPTED = LineResult(Outcome.accepted)


class Clock:
    """The fakes' clock, moved by the test."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def push_all(target: StockTarget, lines: Sequence[StockLine], verify: bool = False) -> dict[Pair, LineResult]:
    """What the engine does with a long list: batches of the target's size."""
    results: dict[Pair, LineResult] = {}
    for start in range(0, len(lines), target.batch_size):
        results |= target.push(lines[start : start + target.batch_size], verify)
    return results


def by_outcome(results: dict[Pair, LineResult]) -> dict[Outcome, set[str]]:
    found: dict[Outcome, set[str]] = {}
    for (offer, _), result in results.items():
        found.setdefault(result.outcome, set()).add(offer)
    return found


def test_each_marketplace_kind_has_its_target_and_no_other_kind_has_one() -> None:
    assert isinstance(stock_target("ozon", "http://127.0.0.1:9", OZON), OzonClient)
    assert isinstance(stock_target("wildberries", "http://127.0.0.1:9", WB), WildberriesClient)
    market = stock_target("yandex_market", "http://127.0.0.1:9", MARKET)
    assert isinstance(market, YandexMarketClient)
    assert (market.batch_size, market.per_minute, market.one_warehouse_per_request) == (2000, 50, True)
    for kind in ("web", "app", "callcenter", "cdek"):
        with pytest.raises(ValueError, match="no stock API"):
            stock_target(kind, "http://127.0.0.1:9", {})


# ------------------------------------------------------------------ Ozon


@pytest.fixture
def ozon() -> Iterator[tuple[FakeOzon, OzonClient, Clock]]:
    clock = Clock()
    fake = FakeOzon(now=clock)
    with serve(fake.app()) as url:
        client = OzonClient(url, OZON, **FAST)
        yield fake, client, clock
        client.close()


def test_ozon_101_pairs_of_two_warehouses_are_two_requests_and_each_pair_gets_ozons_answer(
    ozon: tuple[FakeOzon, OzonClient, Clock],
) -> None:
    fake, client, _ = ozon
    lines = [StockLine(f"SKU-{n}", OZON_WH if n % 2 else "22142605386001", n, AT) for n in range(101)]
    fake.catalog = {f"SKU-{n}" for n in range(101)} - {"SKU-7"}
    fake.unreported = {"SKU-8"}
    with pytest.raises(ValueError, match="at most 100"):
        client.push(lines)
    assert fake.calls("/v2/products/stocks") == []  # refused before sending
    results = push_all(client, lines)
    assert [len(c["stocks"]) for c in fake.calls("/v2/products/stocks")] == [100, 1]  # warehouses mixed
    assert client.requests == 2
    assert results[("SKU-7", OZON_WH)] == LineResult(Outcome.refused, "NOT_FOUND: product not found")
    assert results[("SKU-8", "22142605386001")] == LineResult(Outcome.retry, "not reported")
    assert by_outcome(results)[Outcome.accepted] == {f"SKU-{n}" for n in range(101)} - {"SKU-7", "SKU-8"}
    assert fake.stocks[("SKU-100", 22142605386001)] == 100
    assert ("SKU-7", int(OZON_WH)) not in fake.stocks


def test_ozon_pair_sent_again_within_30_s_is_retried_not_lost(ozon: tuple[FakeOzon, OzonClient, Clock]) -> None:
    fake, client, clock = ozon
    assert client.push([StockLine("SKU-A", OZON_WH, 5, AT)]) == {("SKU-A", OZON_WH): ACCEPTED}
    clock.t += 29
    again = client.push([StockLine("SKU-A", OZON_WH, 4, AT), StockLine("SKU-B", OZON_WH, 2, AT)])
    assert again[("SKU-A", OZON_WH)].outcome is Outcome.retry
    assert "TOO_MANY_REQUESTS" in str(again[("SKU-A", OZON_WH)].reason)
    assert again[("SKU-B", OZON_WH)] == ACCEPTED
    assert fake.stocks[("SKU-A", int(OZON_WH))] == 5  # Ozon kept the first value
    clock.t += 2
    assert client.push([StockLine("SKU-A", OZON_WH, 4, AT)]) == {("SKU-A", OZON_WH): ACCEPTED}
    assert fake.stocks[("SKU-A", int(OZON_WH))] == 4


def test_ozon_answers_429_to_the_81st_stock_call_of_a_minute_and_nothing_of_it_is_taken(
    ozon: tuple[FakeOzon, OzonClient, Clock],
) -> None:
    fake, client, clock = ozon
    for n in range(80):
        assert client.push([StockLine(f"SKU-{n}", OZON_WH, 1, AT)]) == {(f"SKU-{n}", OZON_WH): ACCEPTED}
        clock.t += 0.5
    with pytest.raises(PartnerUnavailable):  # its Retry-After is longer than the client waits
        client.push([StockLine("SKU-80", OZON_WH, 1, AT)])
    assert ("SKU-80", int(OZON_WH)) not in fake.stocks
    clock.t += 21  # the first call of the minute leaves the window
    assert client.push([StockLine("SKU-80", OZON_WH, 1, AT)]) == {("SKU-80", OZON_WH): ACCEPTED}


def test_ozon_warehouse_that_is_not_a_number_is_refused_without_a_request_and_an_unknown_one_per_item(
    ozon: tuple[FakeOzon, OzonClient, Clock],
) -> None:
    fake, client, _ = ozon
    results = client.push([StockLine("SKU-A", "wh-main", 5, AT)])
    assert results[("SKU-A", "wh-main")].outcome is Outcome.refused
    assert client.requests == 0 and fake.calls("/v2/products/stocks") == []
    fake.warehouses = {int(OZON_WH)}
    mixed = client.push([StockLine("SKU-A", OZON_WH, 5, AT), StockLine("SKU-A", "22142605386001", 3, AT)])
    assert mixed == {
        ("SKU-A", OZON_WH): ACCEPTED,
        ("SKU-A", "22142605386001"): LineResult(
            Outcome.refused, "WAREHOUSE_NOT_FOUND: warehouse has wrong id: 22142605386001"
        ),
    }
    assert fake.stocks == {("SKU-A", int(OZON_WH)): 5}


def test_ozon_5xx_and_a_timeout_are_retried_and_an_outage_leaves_everything_pending(
    ozon: tuple[FakeOzon, OzonClient, Clock],
) -> None:
    fake, client, _ = ozon
    fake.fail(500)
    fake.fail("timeout")
    assert client.push([StockLine("SKU-A", OZON_WH, 5, AT)]) == {("SKU-A", OZON_WH): ACCEPTED}
    assert client.requests == 3
    fake.fail(503, times=client.http.attempts)
    with pytest.raises(PartnerUnavailable):
        client.push([StockLine("SKU-A", OZON_WH, 9, AT)])
    assert fake.stocks[("SKU-A", int(OZON_WH))] == 5


def test_a_rotated_key_is_read_again_after_a_401_and_a_wrong_static_key_is_a_rejection(
    ozon: tuple[FakeOzon, OzonClient, Clock],
) -> None:
    fake, client, _ = ozon
    url = str(client.http.client.base_url)
    keys = iter(["ozon-key", "rotated-key"])
    reads: list[str] = []

    def credentials() -> dict[str, str]:
        reads.append(key := next(keys))
        return {"Client-Id": "836", "Api-Key": key}

    rotating = OzonClient(url, credentials, **FAST)
    fake.auth["Api-Key"] = "rotated-key"  # the operator rotated the key after the target was made
    assert rotating.push([StockLine("SKU-A", OZON_WH, 5, AT)]) == {("SKU-A", OZON_WH): ACCEPTED}
    assert reads == ["ozon-key", "rotated-key"] and rotating.requests == 2
    static = OzonClient(url, OZON, **FAST)
    with pytest.raises(PartnerRejected):
        static.push([StockLine("SKU-A", OZON_WH, 6, AT)])
    assert static.requests == 1
    assert fake.stocks[("SKU-A", int(OZON_WH))] == 5


# ------------------------------------------------------------------ Wildberries


@pytest.fixture
def wb() -> Iterator[tuple[FakeWildberries, WildberriesClient]]:
    fake = FakeWildberries()
    with serve(fake.app()) as url:
        client = WildberriesClient(url, WB, **BULK)
        yield fake, client
        client.close()


def test_wildberries_1001_items_are_two_puts_and_two_read_backs_that_catch_a_204_which_kept_nothing(
    wb: tuple[FakeWildberries, WildberriesClient],
) -> None:
    fake, client = wb
    lines = [StockLine(f"SKU-{n}", WB_WH, n % 50, AT, chrt_id=n) for n in range(1, 1002)]
    lines[5] = StockLine("SKU-6", WB_WH, 250_000, AT, chrt_id=6)  # more than WB lets one item state
    lines.append(StockLine("SKU-NO-SIZE", WB_WH, 3, AT))  # no chrtId mapped: not sent
    fake.catalog = set(range(1, 1002)) - {5}  # chrtId 5 is unknown to WB: 204, nothing kept
    results = push_all(client, lines, verify=True)
    puts = [c for m, p, c in fake.requests if m == "PUT"]
    reads = [c for m, p, c in fake.requests if m == "POST"]
    assert [len(c["stocks"]) for c in puts] == [1000, 1] and [len(c["chrtIds"]) for c in reads] == [1000, 1]
    assert client.requests == 4
    assert results[("SKU-5", WB_WH)] == LineResult(
        Outcome.refused, "unknown chrtId or field: Wildberries answered 204 but kept nothing"
    )
    assert results[("SKU-NO-SIZE", WB_WH)].outcome is Outcome.refused
    assert "no chrtId" in str(results[("SKU-NO-SIZE", WB_WH)].reason)
    assert fake.stocks[(int(WB_WH), 6)] == 100_000 and results[("SKU-6", WB_WH)] == ACCEPTED  # clamped, kept
    assert by_outcome(results)[Outcome.accepted] == {f"SKU-{n}" for n in range(1, 1002)} - {"SKU-5"}


def test_wildberries_without_verify_takes_the_204_and_reads_nothing_back(
    wb: tuple[FakeWildberries, WildberriesClient],
) -> None:
    fake, client = wb
    assert client.push([StockLine("SKU-1", WB_WH, 7, AT, chrt_id=1)]) == {("SKU-1", WB_WH): ACCEPTED}
    assert client.requests == 1 and fake.stocks == {(int(WB_WH), 1): 7}
    with pytest.raises(ValueError, match="one warehouse"):
        client.push([StockLine("SKU-1", WB_WH, 7, AT, chrt_id=1), StockLine("SKU-2", "658435", 1, AT, chrt_id=2)])


def test_the_wildberries_fake_keeps_nothing_of_an_item_named_by_another_field() -> None:
    fake = FakeWildberries()
    with serve(fake.app()) as url:
        answer = httpx.put(
            f"{url}/api/v3/stocks/{WB_WH}",
            json={"stocks": [{"sku": "2042688657617", "amount": 4}]},
            headers={"Authorization": "wb-token"},
        )
        assert answer.status_code == 204
        assert fake.stocks == {}


def test_a_wildberries_409_refuses_the_items_it_names_retries_the_rest_and_costs_ten(
    wb: tuple[FakeWildberries, WildberriesClient],
) -> None:
    fake, client = wb
    fake.restricted = {3: "CargoWarehouseRestrictionMGT"}
    lines = [StockLine(f"SKU-{n}", WB_WH, n, AT, chrt_id=n) for n in (1, 2, 3)]
    results = client.push(lines, verify=True)
    assert results[("SKU-3", WB_WH)] == LineResult(
        Outcome.refused, "CargoWarehouseRestrictionMGT: CargoWarehouseRestrictionMGT"
    )
    assert {results[("SKU-1", WB_WH)].outcome, results[("SKU-2", WB_WH)].outcome} == {Outcome.retry}
    assert fake.stocks == {} and client.requests == 1  # a 409 keeps nothing; no read-back of a refusal
    assert sum(weight for _, weight in fake.stock_calls.spent) == 10  # WB counts the 409 as 10 requests
    assert client.push(lines[:2], verify=True) == {("SKU-1", WB_WH): ACCEPTED, ("SKU-2", WB_WH): ACCEPTED}
    fake.busy = 1  # the store is being updated: everything goes again
    busy = client.push(lines[:2])
    assert {r.outcome for r in busy.values()} == {Outcome.retry}
    assert "StoreIsProcessing" in str(busy[("SKU-1", WB_WH)].reason)


# ------------------------------------------------------------------ Yandex Market


@pytest.fixture
def market() -> Iterator[tuple[FakeYandexMarket, YandexMarketClient]]:
    fake = FakeYandexMarket()
    fake.wall = lambda: AT + timedelta(minutes=1)
    with serve(fake.app()) as url:
        client = YandexMarketClient(url, MARKET, **BULK)
        yield fake, client
        client.close()


def test_market_2001_skus_are_two_requests_each_stamped_and_an_older_stamp_changes_nothing(
    market: tuple[FakeYandexMarket, YandexMarketClient],
) -> None:
    fake, client = market
    lines = [StockLine(f"SKU-{n}", CAMPAIGN, n, AT) for n in range(2001)]
    results = push_all(client, lines)
    assert [len(c["skus"]) for c in fake.calls(f"/v2/campaigns/{CAMPAIGN}/offers/stocks")] == [2000, 1]
    assert client.requests == 2 and set(results.values()) == {ACCEPTED}
    assert fake.stocks[(int(CAMPAIGN), "SKU-2000")] == (2000, AT)
    stale = client.push([StockLine("SKU-5", CAMPAIGN, 0, AT - timedelta(minutes=1))])  # a slow retry
    assert stale == {("SKU-5", CAMPAIGN): ACCEPTED}
    assert fake.stocks[(int(CAMPAIGN), "SKU-5")] == (5, AT)  # Market keeps the newer figure


def test_market_names_unknown_skus_in_its_400_and_stores_nothing_of_that_request(
    market: tuple[FakeYandexMarket, YandexMarketClient],
) -> None:
    fake, client = market
    fake.catalog = {"SKU-1", "SKU-2"}
    lines = [StockLine(sku, CAMPAIGN, 3, AT) for sku in ("SKU-1", "SKU-2", "SKU-X")]
    results = client.push(lines)
    assert results[("SKU-X", CAMPAIGN)] == LineResult(Outcome.refused, "BAD_REQUEST: Unknown shop-sku 'SKU-X'")
    assert {results[("SKU-1", CAMPAIGN)].outcome, results[("SKU-2", CAMPAIGN)].outcome} == {Outcome.retry}
    assert fake.stocks == {}
    assert set(client.push(lines[:2]).values()) == {ACCEPTED}


def test_market_refuses_a_stamp_older_than_a_day_or_in_the_future_and_the_line_goes_again(
    market: tuple[FakeYandexMarket, YandexMarketClient],
) -> None:
    fake, client = market
    lines = [
        StockLine("SKU-OLD", CAMPAIGN, 1, AT - timedelta(days=2)),
        StockLine("SKU-AHEAD", CAMPAIGN, 1, AT + timedelta(hours=1)),
        StockLine("SKU-OK", CAMPAIGN, 1, AT),
    ]
    results = client.push(lines)
    assert results[("SKU-OLD", CAMPAIGN)] == LineResult(
        Outcome.retry, "BAD_REQUEST: Stock for 'SKU-OLD' should not be older than a day"
    )
    assert results[("SKU-AHEAD", CAMPAIGN)].outcome is Outcome.retry
    assert "in the future" in str(results[("SKU-AHEAD", CAMPAIGN)].reason)
    assert results[("SKU-OK", CAMPAIGN)].outcome is Outcome.retry  # the request stored nothing
    assert fake.stocks == {}


def test_market_sees_two_requests_in_flight_per_target_and_a_420_beyond_is_retried(
    market: tuple[FakeYandexMarket, YandexMarketClient],
) -> None:
    fake, client = market
    batches = [[StockLine(f"SKU-{n}", CAMPAIGN, n, AT)] for n in range(12)]
    with ThreadPoolExecutor(6) as pool:
        assert all(
            r == {(b[0].offer_id, CAMPAIGN): ACCEPTED}
            for r, b in zip(pool.map(client.push, batches), batches, strict=True)
        )
    assert fake.most_in_flight == 2 and client.requests == 12  # the target keeps to 2: no 420
    # Another target of the same account (another invocation) makes a third request in flight: Market
    # answers 420 and the target sends it again after a backoff.
    url = str(client.http.client.base_url)
    mine, other = (YandexMarketClient(url, MARKET, timeout=2.0, max_backoff=0.5) for _ in range(2))
    with ThreadPoolExecutor(3) as pool:
        theirs = pool.submit(lambda: [other.push(b) for b in batches[6:]])
        ours = [pool.submit(mine.push, b) for b in batches[:6]]
        assert all(set(r.values()) == {ACCEPTED} for r in [*(f.result() for f in ours), *theirs.result()])
    assert mine.requests + other.requests > 12  # some were answered 420 and sent again
    mine.close()
    other.close()


# ------------------------------------------------------------------ throttling, every partner


@pytest.mark.parametrize("partner", ["ozon", "wildberries", "yandex_market"])
def test_a_partner_over_its_budget_answers_with_retry_after_which_the_target_waits_for(partner: str) -> None:
    fakes = {"ozon": FakeOzon, "wildberries": FakeWildberries, "yandex_market": FakeYandexMarket}
    fake = fakes[partner]()
    line = {
        "ozon": lambda n: StockLine(f"SKU-{n}", OZON_WH, 1, AT),
        "wildberries": lambda n: StockLine(f"SKU-{n}", WB_WH, 1, AT, chrt_id=n),
        "yandex_market": lambda n: StockLine(f"SKU-{n}", CAMPAIGN, 1, AT),
    }[partner]
    budget = Budget(2, time.monotonic, window=1.0)  # the partner's per-minute budget, scaled down
    if isinstance(fake, FakeOzon | FakeWildberries):
        fake.stock_calls = budget
    else:
        fake.stock_skus = budget
        fake.wall = lambda: AT
    credentials = {"ozon": OZON, "wildberries": WB, "yandex_market": MARKET}[partner]
    with serve(fake.app()) as url:
        target = stock_target(partner, url, credentials, timeout=2.0, max_backoff=2.0)
        started = time.monotonic()
        for n in range(1, 4):
            assert set(target.push([line(n)]).values()) == {ACCEPTED}
        assert time.monotonic() - started >= 0.9  # the third waited for the Retry-After
        assert target.requests == 4  # the throttled one was sent again, once
        target.close()


@pytest.mark.parametrize("partner", ["ozon", "wildberries", "yandex_market"])
def test_every_target_gets_through_a_5xx_a_timeout_and_an_expired_key(partner: str) -> None:
    fake = {"ozon": FakeOzon, "wildberries": FakeWildberries, "yandex_market": FakeYandexMarket}[partner]()
    line = {
        "ozon": StockLine("SKU-1", OZON_WH, 4, AT),
        "wildberries": StockLine("SKU-1", WB_WH, 4, AT, chrt_id=1),
        "yandex_market": StockLine("SKU-1", CAMPAIGN, 4, AT),
    }[partner]
    if isinstance(fake, FakeYandexMarket):
        fake.wall = lambda: AT
    credentials = {"ozon": OZON, "wildberries": WB, "yandex_market": MARKET}[partner]
    reads: list[int] = []

    def current() -> dict[str, str]:
        reads.append(1)
        return credentials

    with serve(fake.app()) as url:
        target = stock_target(partner, url, current, **FAST)
        fake.fail(502)
        fake.fail("timeout")
        fake.fail(401)  # the key expired: read again, sent again
        assert target.push([line], verify=True) == {(line.offer_id, line.warehouse_id): ACCEPTED}
        assert len(reads) == 2
        assert target.requests == 4 + (partner == "wildberries")  # + the read-back
        fake.fail(500, times=5)
        with pytest.raises(PartnerUnavailable):
            target.push([line])
        target.close()
