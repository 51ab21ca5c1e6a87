"""The marketplace stock push on the local hub against fake Ozon, Wildberries and Yandex Market servers on
127.0.0.1 (each enforcing its partner's limits and holding every request to the published spec): what
reaches each partner, when, and what a retailer sees when something goes wrong."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from partners.clients.stock import Credentials, StockTarget
from partners.clients.stock import stock_target as real_stock_target
from stock_push.use_cases import pushes
from tests.fakes.partners import FakeOzon
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
