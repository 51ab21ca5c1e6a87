"""`oms-hub stock push` as a retailer runs it, against `oms-hub local` over real HTTP, the hub pushing to a fake
Wildberries on 127.0.0.1 (held to its published spec)."""

from __future__ import annotations

import subprocess

import httpx

from tests.fakes.partners import FakeWildberries
from tests.fakes.server import serve
from tests.support.cli_hub import KEY, oms_hub, start_cli_hub
from tests.support.waiting import wait_until


def _push(url: str, channel: str, *options: str, key: str = KEY) -> subprocess.CompletedProcess[str]:
    return oms_hub(
        "stock", "push", "--channel", channel, "--every", "0.2", "--timeout", "120", *options, "--url", url, key=key
    )


def test_a_push_shows_its_progress_and_refused_items_and_exits_non_zero_until_the_mapping_is_fixed() -> None:
    wb = FakeWildberries()
    wb.catalog = {501, 502}  # the seller's sizes at Wildberries: 999 is not one of them
    process, url = start_cli_hub("--no-demo")
    try:
        with serve(wb.app()) as wb_url, httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=30) as client:
            location = {"name": "DC", "kind": "warehouse", "capabilities": ["marketplace"]}
            assert client.put("/v1/locations/wh-1", json=location).status_code == 200
            stock = [{"sku": "SKU-A", "on_hand": 6}, {"sku": "SKU-B", "on_hand": 2}, {"sku": "SKU-C", "on_hand": 1}]
            assert client.put("/v1/stock/wh-1", json={"items": stock}).status_code == 200
            channel = {
                "kind": "wildberries",
                "name": "WB",
                "api_url": wb_url,
                "credentials": {"token": "wb-token"},
                "warehouses": [{"partner_warehouse_id": "900", "locations": ["wh-1"]}],
            }
            assert client.put("/v1/channels/wb", json=channel).status_code == 200
            # SKU-A's size is known to WB, SKU-C's is not (204, nothing kept), SKU-B has none mapped
            offers = {"items": [{"sku": "SKU-A", "chrtId": 501}, {"sku": "SKU-C", "chrtId": 999}]}
            assert client.put("/v1/channels/wb/offers", json=offers).status_code == 200

            def offered() -> list[int]:
                answer = client.get("/v1/availability", params={"channel": "wb", "skus": "SKU-A,SKU-B,SKU-C"})
                return [item["available"] for item in answer.json()["items"]]

            wait_until(lambda: offered() == [6, 2, 1], timeout=60, what="the channel's figures")

            refused = _push(url, "wb", "--full")
            assert refused.returncode == 1, refused.stdout + refused.stderr
            progress = refused.stdout.strip().splitlines()
            assert progress[0].endswith(": queued: 0 items, 0 requests, 0 accepted, 0 rejected, 0 pending, 0 deferred")
            assert "(full): done: " in progress[-1] and "1 accepted, 2 rejected, 0 pending" in progress[-1]
            assert "refused SKU-B (offer SKU-B at warehouse 900): no chrtId mapped" in refused.stderr
            assert "refused SKU-C (offer SKU-C at warehouse 900): unknown chrtId or field" in refused.stderr
            assert wb.stocks == {(900, 501): 6}

            # the retailer maps SKU-B's size and registers SKU-C's at Wildberries: a full push takes all three
            assert (
                client.put("/v1/channels/wb/offers", json={"items": [{"sku": "SKU-B", "chrtId": 502}]}).status_code
                == 200
            )
            wb.catalog.add(999)
            fixed = _push(url, "wb", "--full")
            assert fixed.returncode == 0, fixed.stdout + fixed.stderr
            assert "3 accepted, 0 rejected, 0 pending" in fixed.stdout.strip().splitlines()[-1]
            assert fixed.stderr == ""
            assert wb.stocks == {(900, 501): 6, (900, 502): 2, (900, 999): 1}

            nothing = _push(url, "wb")  # a changed push with nothing changed is done at once
            assert nothing.returncode == 0, nothing.stdout + nothing.stderr
            assert "(changed): done: 0 items" in nothing.stdout
            pushes = client.get("/v1/channels/wb/stock-push").json()["items"]
            assert [p["mode"] for p in pushes if p["trigger"] == "api"] == ["changed", "full", "full"]

            assert client.put("/v1/channels/bare", json={"kind": "ozon", "name": "No warehouses"}).status_code == 200
            bare = _push(url, "bare")
            assert bare.returncode == 1 and "HTTP 409" in bare.stderr and "warehouses" in bare.stderr
            unknown = _push(url, "nope")
            assert unknown.returncode == 1 and "HTTP 404" in unknown.stderr
            wrong_key = _push(url, "wb", key="nope")
            assert wrong_key.returncode == 1 and "HTTP 401" in wrong_key.stderr
            assert _push(url, "wb", "--every", "0").returncode == 2
            assert client.get("/v1/channels/wb/stock-push").json()["items"] == pushes  # none of these pushed
    finally:
        process.terminate()
        process.wait(timeout=20)
