"""The marketplace stock push on the local hub against fake Ozon, Wildberries and Yandex Market servers on
127.0.0.1 (each enforcing its partner's limits and holding every request to the published spec): what
reaches each partner, when, and what a retailer sees when something goes wrong."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from partners.clients.stock import Credentials, LineResult, Outcome, StockLine, StockTarget
from partners.clients.stock import stock_target as real_stock_target
from stock_push.adapters import push_queue, push_state
from stock_push.domain.plan import PairState
from stock_push.use_cases import pushes
from tests.fakes.partners import FakeOzon, FakeWildberries, FakeYandexMarket
from tests.fakes.server import serve
from tests.support.api import Api
from tests.support.builders import courier_order
from tests.support.dirty_marks import dirty
from tests.support.waiting import wait_until

OZON = {"Client-Id": "836", "Api-Key": "ozon-key"}


@pytest.fixture
def scaled(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Every push's target with some of its limits scaled down (a test cannot wait Ozon's 30 s)."""

    def scale(**limits: Any) -> None:
        def factory(kind: str, base_url: str, credentials: Credentials) -> StockTarget:
            target = real_stock_target(kind, base_url, credentials, attempts=3, max_backoff=1.0, timeout=1.0)
            for name, value in limits.items():
                setattr(target, name, value)
            return target

        monkeypatch.setattr(pushes, "stock_target", factory)

    scale()
    return scale


@pytest.fixture
def fake_ozon() -> Iterator[tuple[FakeOzon, str]]:
    fake = FakeOzon()
    fake.pair_interval = 1.0
    with serve(fake.app()) as url:
        yield fake, url


def _locations(api: Api) -> None:
    for loc, kind in [("wh-1", "warehouse"), ("st-1", "store"), ("st-2", "store")]:
        body = {"name": loc, "kind": kind, "capabilities": ["courier", "marketplace"]}
        assert api.put(f"/v1/locations/{loc}", body).status == 200
    assert api.put("/v1/channels/web", {"kind": "web", "name": "Site"}).status == 200


def _stock(api: Api, location: str, **units: int) -> None:
    items = [{"sku": sku.replace("_", "-"), "on_hand": n} for sku, n in units.items()]
    assert api.put(f"/v1/stock/{location}", {"items": items}).status == 200


def _ozon_channel(api: Api, url: str, **extra: Any) -> None:
    body = {
        "kind": "ozon",
        "name": "Ozon",
        "api_url": url,
        "credentials": OZON,
        "warehouses": [
            {"partner_warehouse_id": "77", "locations": ["wh-1", "st-1"]},
            {"partner_warehouse_id": "78", "locations": ["st-2"]},
        ],
        **extra,
    }
    assert api.put("/v1/channels/ozon", body).status == 200


def _pushed(api: Api, fake: Any, expected: dict[Any, int], timeout: float = 20.0) -> None:
    def there() -> bool:
        api.hub.settle()
        return all(fake.stocks.get(key) == value for key, value in expected.items())

    wait_until(there, timeout, f"{expected} at the partner (it holds {fake.stocks})")


def test_every_change_of_the_offer_reaches_ozon_summed_per_warehouse(
    api: Api, fake_ozon: tuple[FakeOzon, str], scaled: Callable[..., None]
) -> None:
    fake, url = fake_ozon
    scaled(pair_interval=1.0)
    _locations(api)
    _stock(api, "wh-1", SKU_A=10)
    _stock(api, "st-1", SKU_A=3)
    _stock(api, "st-2", SKU_A=4)
    _ozon_channel(api, url)
    _pushed(api, fake, {("SKU-A", 77): 13, ("SKU-A", 78): 4})
    assert dirty(api, "ozon") == set()

    # a reservation and its release
    order = api.post("/v1/orders", courier_order("stock-push-1", lines=[{"sku": "SKU-A", "qty": 2, "price": 1}]))
    assert order.status == 201, order.body
    _pushed(api, fake, {("SKU-A", 77): 11})
    api.event(order.body["order_id"], "cancel")
    _pushed(api, fake, {("SKU-A", 77): 13})

    # a rule change (no stock row moves) and a paused location
    _ozon_channel(api, url, rules={"safety_stock": 1})
    _pushed(api, fake, {("SKU-A", 77): 11, ("SKU-A", 78): 3})
    assert (
        api.put("/v1/locations/st-1", {"name": "st-1", "kind": "store", "active": False, "capabilities": []}).status
        == 200
    )
    _pushed(api, fake, {("SKU-A", 77): 9, ("SKU-A", 78): 3})

    # a SKU no longer offered anywhere is pushed as 0
    _stock(api, "st-2", SKU_A=0)
    _pushed(api, fake, {("SKU-A", 78): 0})
    assert fake.violations == []
    status = api.get("/v1/channels/ozon/stock-push")
    assert status.status == 200
    assert status.body["items"] and all(p["state"] in ("done", "running") for p in status.body["items"])
    assert sum(p["accepted"] for p in status.body["items"]) >= 7


def _marketplace(api: Api, channel: str, kind: str, url: str, credentials: dict[str, str], warehouse: str) -> None:
    body = {
        "kind": kind,
        "name": channel,
        "api_url": url,
        "credentials": credentials,
        "warehouses": [{"partner_warehouse_id": warehouse, "locations": ["wh-1", "st-1"]}],
    }
    assert api.put(f"/v1/channels/{channel}", body).status == 200


def test_wildberries_and_market_get_the_summed_value_verified_and_stamped(
    api: Api, scaled: Callable[..., None]
) -> None:
    wb, market = FakeWildberries(), FakeYandexMarket()
    wb.catalog = {501}
    with serve(wb.app()) as wb_url, serve(market.app()) as market_url:
        _locations(api)
        _stock(api, "wh-1", SKU_A=6, SKU_B=2)
        _stock(api, "st-1", SKU_A=1)
        _marketplace(api, "wb", "wildberries", wb_url, {"token": "wb-token"}, "900")
        _marketplace(api, "ym", "yandex_market", market_url, {"Api-Key": "ym-key"}, "1001")
        # SKU-A has its chrtId; SKU-B none yet (refused without asking), SKU-C a chrtId WB does not know
        offers = {"items": [{"sku": "SKU-A", "chrtId": 501}, {"sku": "SKU-C", "chrtId": 999}]}
        assert api.put("/v1/channels/wb/offers", offers).status == 200
        _stock(api, "wh-1", SKU_A=6, SKU_B=2, SKU_C=1)
        _pushed(api, wb, {(900, 501): 7})
        _pushed(api, market, {})
        wait_until(lambda: market.stocks.get((1001, "SKU-A"), (None,))[0] == 7, what="Market's SKU-A")
        assert market.stocks[(1001, "SKU-B")][0] == 2

        # WB answered 204 to chrtId 999 and kept nothing: the read-back found it, a task says so
        def refused() -> list[dict[str, Any]]:
            api.hub.settle()
            tasks = api.get("/v1/tasks", "state=open").body["items"]
            return [t for t in tasks if t["task_id"] == "stock_push_refused#wb"]

        wait_until(lambda: bool(refused()), what="the refused items' task")
        skus = {item["sku"] for item in refused()[0]["refused"]}
        assert skus == {"SKU-B", "SKU-C"}
        status = api.get("/v1/channels/wb/stock-push").body["items"]
        assert sum(p["rejected"] for p in status) >= 2
        assert {r["sku"] for p in status for r in p["rejections"]} >= {"SKU-B", "SKU-C"}
        # a verified pair is not read back again
        reads = len([r for r in wb.requests if r[0] == "POST"])
        _stock(api, "wh-1", SKU_A=8, SKU_B=2, SKU_C=1)
        _pushed(api, wb, {(900, 501): 9})
        assert len([r for r in wb.requests if r[0] == "POST"]) == reads


def _refused_task(api: Api, channel: str) -> list[dict[str, Any]]:
    """The channel's refused-items task, if open."""
    api.hub.settle()
    tasks = api.get("/v1/tasks", "state=open").body["items"]
    return [t for t in tasks if t["task_id"] == f"stock_push_refused#{channel}"]


def test_an_ozon_warehouse_the_seller_does_not_have_is_refused_per_item_onto_the_task(
    api: Api, fake_ozon: tuple[FakeOzon, str], scaled: Callable[..., None]
) -> None:
    fake, url = fake_ozon
    fake.warehouses = {77}  # the channel maps st-2 to 78, which is not one of the seller's Ozon warehouses
    _locations(api)
    _stock(api, "wh-1", SKU_A=10)
    _stock(api, "st-2", SKU_A=4)
    _ozon_channel(api, url)
    _pushed(api, fake, {("SKU-A", 77): 10})
    wait_until(lambda: bool(_refused_task(api, "ozon")), what="the refused items' task")
    [task] = _refused_task(api, "ozon")
    assert task["refused"] == [
        {
            "sku": "SKU-A",
            "offer_id": "SKU-A",
            "warehouse_id": "78",
            "reason": "WAREHOUSE_NOT_FOUND: warehouse has wrong id: 78",
        }
    ]
    assert ("SKU-A", 78) not in fake.stocks
    status = api.get("/v1/channels/ozon/stock-push").body["items"]
    assert any(r["warehouse_id"] == "78" for p in status for r in p["rejections"])
    assert dirty(api, "ozon") == set()  # refused for good is final: not sent again until the mapping changes


def test_a_wildberries_409_takes_ten_of_the_budget_the_next_pusher_starts_from(
    api: Api, scaled: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pushes, "RETRY_DELAY_SECONDS", 0.5)
    wb = FakeWildberries()
    wb.busy = 1  # the first PUT: 409 StoreIsProcessing, which Wildberries counts as 10 requests
    with serve(wb.app()) as url:
        _locations(api)
        _stock(api, "wh-1", SKU_A=3)
        _marketplace(api, "wb", "wildberries", url, {"token": "wb-token"}, "900")
        wait_until(lambda: bool(_refused_task(api, "wb")), what="SKU-A refused: no chrtId mapped yet")
        # the size id mapped: the mark's push sends the pair refused without it
        assert api.put("/v1/channels/wb/offers", {"items": [{"sku": "SKU-A", "chrtId": 501}]}).status == 200
        _pushed(api, wb, {(900, 501): 3})
        wait_until(lambda: not dirty(api, "wb"), what="the retried line final")
        charged = sum(weight for _, weight in wb.stock_calls.spent)
        assert charged == 12  # the 409 (10), the PUT again and its read-back
        log = _next_pushers_log("wb")
        assert len(log) == charged
        push_state.release_lease("wb", "test-reader", log)


def _next_pushers_log(channel_id: str) -> list[float]:
    """The request log the next pusher starts from, once the last one has let its lease go."""
    deadline = time.monotonic() + 10
    while (log := push_state.take_lease(channel_id, "test-reader", time.time(), 0.0)) is None:
        assert time.monotonic() < deadline, "the pusher kept its lease"
        time.sleep(0.05)
    return log


def test_a_second_change_inside_the_pair_interval_is_deferred_then_sent(
    api: Api, fake_ozon: tuple[FakeOzon, str], scaled: Callable[..., None]
) -> None:
    fake, url = fake_ozon
    fake.pair_interval = 3.0
    scaled(pair_interval=3.0)
    _locations(api)
    _stock(api, "wh-1", SKU_A=10)
    _ozon_channel(api, url)
    _pushed(api, fake, {("SKU-A", 77): 10})
    _stock(api, "wh-1", SKU_A=4)
    api.hub.settle()
    deferred = api.get("/v1/channels/ozon/stock-push").body["items"][0]
    assert deferred["deferred"] >= 1 and fake.stocks[("SKU-A", 77)] == 10
    assert dirty(api, "ozon") == {"SKU-A"}  # not lost: the mark waits for the interval
    _pushed(api, fake, {("SKU-A", 77): 4}, timeout=10)
    sends = [s for body in fake.calls("/v2/products/stocks") for s in body["stocks"] if s["warehouse_id"] == 77]
    assert len(sends) == 2  # no TOO_MANY_REQUESTS round trip: Ozon never saw the pair twice within 3 s
    assert dirty(api, "ozon") == set()


def test_throttling_and_outages_are_waited_out_and_nothing_is_lost(
    api: Api, fake_ozon: tuple[FakeOzon, str], scaled: Callable[..., None]
) -> None:
    fake, url = fake_ozon
    _locations(api)
    _ozon_channel(api, url)
    fake.fail(429, retry_after=0.2)
    fake.fail(503, times=3)  # the target gives up (3 attempts): the push comes back later
    scaled(pair_interval=1.0)
    monkey_delay = pushes.RETRY_DELAY_SECONDS
    try:
        pushes.RETRY_DELAY_SECONDS = 1.0
        _stock(api, "wh-1", SKU_A=5)
        _pushed(api, fake, {("SKU-A", 77): 5})
    finally:
        pushes.RETRY_DELAY_SECONDS = monkey_delay
    assert dirty(api, "ozon") == set()


class _Recording:
    """A target that accepts everything, remembers every line, and can crash after `crash_after` requests."""

    partner = "ozon"
    per_minute = 1000
    pair_interval = 0.0
    one_warehouse_per_request = False

    def __init__(self, batch_size: int = 2, crash_after: int | None = None, delay: float = 0.0) -> None:
        self.batch_size = batch_size
        self.crash_after = crash_after
        self.delay = delay
        self.lines: list[StockLine] = []
        self.sent = 0

    @property
    def requests(self) -> int:
        return self.sent

    @property
    def spent(self) -> int:
        return self.sent

    def push(self, lines: Sequence[StockLine], verify: bool = False) -> dict[tuple[str, str], LineResult]:
        if self.crash_after is not None and self.sent >= self.crash_after:
            raise RuntimeError("the invocation died here")
        time.sleep(self.delay)
        self.sent += 1
        self.lines.extend(lines)
        return {(line.offer_id, line.warehouse_id): LineResult(Outcome.accepted) for line in lines}

    def close(self) -> None:
        pass


def _pairs(target: _Recording) -> list[tuple[str, str, int]]:
    return [(line.offer_id, line.warehouse_id, line.amount) for line in target.lines]


def _every_pair(skus: int) -> list[tuple[str, str, int]]:
    """SKU-n has n units at wh-1 (warehouse 77); warehouse 78 (st-2) has none."""
    return sorted([(f"SKU-{n}", "77", n) for n in range(skus)] + [(f"SKU-{n}", "78", 0) for n in range(skus)])


def _quiet_channel(api: Api, skus: int) -> None:
    """An Ozon channel whose pushes a test runs itself: its marks are written while it maps no warehouse."""
    _locations(api)
    assert api.put("/v1/stock/wh-1", {"items": [{"sku": f"SKU-{n}", "on_hand": n} for n in range(skus)]}).status == 200
    api.hub.settle()


def test_a_crash_between_batches_resumes_without_loss_or_resending(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _Recording(batch_size=2, crash_after=2)
    monkeypatch.setattr(pushes, "stock_target", lambda kind, url, credentials: target)
    _quiet_channel(api, 7)
    _ozon_channel(api, "http://127.0.0.1:9")  # the config stream marks every SKU; the stream push crashes
    wait_until(lambda: target.sent == 2 and not api.hub.settle(), what="the crashed push")
    assert len(target.lines) == 4  # 2 SKUs at 2 warehouses taken before the crash
    assert len(dirty(api, "ozon")) == 7  # nothing lost: every mark is still there
    target.crash_after = None
    job = pushes.Job("ozon", "changed", "sp_resumed")
    assert pushes.push(job, pushes.SystemClock(), time.time() + 60)["state"] == "done"
    assert sorted(_pairs(target)) == _every_pair(7)  # each once: what was taken before the crash is not sent again
    assert dirty(api, "ozon") == set()
    # duplicates change nothing: the same push again sends nothing
    requests = target.sent
    assert pushes.push(job, pushes.SystemClock(), time.time() + 60)["state"] == "done"
    assert target.sent == requests


def test_a_full_push_cut_by_its_deadline_goes_on_from_its_cursor(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _Recording(batch_size=100)
    monkeypatch.setattr(pushes, "stock_target", lambda kind, url, credentials: target)
    monkeypatch.setattr(pushes, "CHUNK", 3)
    _quiet_channel(api, 7)
    _ozon_channel(api, "http://127.0.0.1:9")
    wait_until(lambda: not dirty(api, "ozon"), what="the channel's first push")
    target.lines.clear()
    queued: list[dict[str, Any]] = []  # the continuation is run here, not by the hub's queue beside this test
    monkeypatch.setattr(push_queue, "send", lambda message, delay_seconds=0: queued.append(message))

    before = target.sent

    class Late(pushes.SystemClock):
        """Real time until the first request went out, then past any deadline."""

        def now(self) -> float:
            return time.time() + (1000 if target.sent > before else 0)

    first = pushes.push(pushes.Job("ozon", "full", "sp_full"), Late(), time.time() + 500)
    assert first["state"] == "running" and len(target.lines) == 6  # the first chunk: 3 SKUs at 2 warehouses
    [continuation] = [message for message in queued if message["push_id"] == "sp_full"]
    done = pushes.push(pushes.Job.from_message(continuation), pushes.SystemClock(), time.time() + 60)
    assert done["state"] == "done"
    assert sorted(_pairs(target)) == _every_pair(7)


def test_concurrent_pushes_of_a_channel_make_one_pusher(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _Recording(batch_size=1, delay=0.2)
    monkeypatch.setattr(pushes, "stock_target", lambda kind, url, credentials: target)
    _quiet_channel(api, 3)
    _ozon_channel(api, "http://127.0.0.1:9")
    results: list[dict[str, Any]] = []
    jobs = [pushes.Job("ozon", "changed", f"sp_c{n}") for n in range(3)]
    threads = [
        threading.Thread(target=lambda j=j: results.append(pushes.push(j, pushes.SystemClock(), time.time() + 60)))
        for j in jobs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    api.hub.settle()
    wait_until(lambda: not dirty(api, "ozon"), what="every mark pushed")
    assert sorted(_pairs(target)) == _every_pair(3)  # once each


def test_an_older_figure_never_replaces_a_newer_one(api: Api) -> None:
    newer = PairState("77", "SKU-A", "SKU-A", 9, "2026-12-02T09:00:01.000Z", "accepted")
    older = PairState("77", "SKU-A", "SKU-A", 4, "2026-12-02T09:00:00.000Z", "accepted")
    assert push_state.record_pairs("ozon", [newer]) == set()
    assert push_state.record_pairs("ozon", [older]) == {0}
    assert push_state.pair_states("ozon", [("77", "SKU-A")])[("77", "SKU-A")].amount == 9


def test_pushes_over_http_and_bad_input_changes_nothing(api: Api, fake_ozon: tuple[FakeOzon, str]) -> None:
    _, url = fake_ozon
    _locations(api)
    _ozon_channel(api, url)
    assert api.post("/v1/channels/ozon/stock-push", {"mode": "sideways"}).status == 422
    assert api.post("/v1/channels/ozon/stock-push", {}).status == 422
    assert api.post("/v1/channels/nope/stock-push", {"mode": "full"}).status == 404
    web = api.post("/v1/channels/web/stock-push", {"mode": "full"})
    assert web.status == 409 and "no stock API" in web.body["message"]
    assert api.put("/v1/channels/bare", {"kind": "ozon", "name": "No warehouses"}).status == 200
    bare = api.post("/v1/channels/bare/stock-push", {"mode": "changed"})
    assert bare.status == 409 and "warehouses" in bare.body["message"]
    assert api.get("/v1/channels/ozon/stock-push").body["items"] == []
    assert api.get("/v1/channels/nope/stock-push").status == 404
    queued = api.post("/v1/channels/ozon/stock-push", {"mode": "full"})
    assert queued.status == 202 and queued.body["state"] == "queued"

    def done() -> bool:
        items = api.get("/v1/channels/ozon/stock-push").body["items"]
        return any(p["push_id"] == queued.body["push_id"] and p["state"] == "done" for p in items)

    wait_until(done, what="the requested push")
    assert api.get("/v1/channels/ozon/stock-push", "limit=0").status == 422
