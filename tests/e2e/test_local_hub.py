"""The hub as a user runs it: `oms-hub local` in its own process, spoken to over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import httpx
import pytest

from admin.auth.policy import LANDING
from tests.support.admin_page import session_client
from tests.support.cli_hub import KEY, ORDER, start_cli_hub, wait_for_status
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def empty_hub() -> Iterator[httpx.Client]:
    process, url = start_cli_hub("--no-demo")
    try:
        with httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=30) as client:
            yield client
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_storefront_flow_over_http(empty_hub: httpx.Client) -> None:
    client = empty_hub
    assert (
        client.put(
            "/v1/locations/wh", json={"name": "WH", "kind": "warehouse", "capabilities": ["courier"]}
        ).status_code
        == 200
    )
    assert client.put("/v1/channels/site", json={"kind": "web", "name": "Site"}).status_code == 200
    imported = client.put(
        "/v1/stock/wh", json={"mode": "snapshot", "items": [{"sku": "TSHIRT-M", "on_hand": 15}]}
    ).json()
    assert (imported["updated"], imported["errors"]) == (1, [])

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(
            pool.map(lambda n: client.post("/v1/orders", json={**ORDER, "external_id": f"e2e-{n % 20}"}), range(40))
        )
    assert sorted({a.status_code for a in answers}) == [200, 201]
    order_ids = {a.json()["order_id"] for a in answers}
    assert len(order_ids) == 20
    statuses = [client.get(f"/v1/orders/{oid}").json()["status"] for oid in order_ids]
    assert statuses.count("reserved") == 15 and statuses.count("on_hold") == 5
    wait_until(
        lambda: (
            client.get("/v1/availability", params={"channel": "site", "skus": "TSHIRT-M"}).json()["items"][0][
                "available"
            ]
            == 0
        ),
        what="the stock stream's figures",
    )

    reserved = next(oid for oid in order_ids if client.get(f"/v1/orders/{oid}").json()["status"] == "reserved")
    for event in ["confirm", "pick", "pack", "ship", "deliver"]:
        answer = client.post(f"/v1/orders/{reserved}/events", json={"event": event})
        assert answer.status_code == 202, answer.text
    assert wait_for_status(client, reserved, "delivered")["timeline"][-1]["event"] == "deliver"

    held = next(oid for oid in order_ids if client.get(f"/v1/orders/{oid}").json()["status"] == "on_hold")
    assert client.post(f"/v1/orders/{held}/events", json={"event": "ship"}).status_code == 409
    assert client.post(f"/v1/orders/{held}/events", json={"event": "cancel"}).status_code == 202
    wait_for_status(client, held, "cancelled")


def test_front_door_errors_over_http(empty_hub: httpx.Client) -> None:
    base = str(empty_hub.base_url).rstrip("/")
    anonymous = httpx.get(f"{base}/v1/orders")
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"
    wrong = httpx.get(f"{base}/v1/orders", headers={"x-api-key": "nope"})
    assert wrong.status_code == 401
    assert (
        empty_hub.post("/v1/orders", content=b"not json", headers={"content-type": "application/json"}).status_code
        == 422
    )
    assert empty_hub.get("/v1/orders/ord_missing").status_code == 404
    assert httpx.get(f"{base}/v1/openapi.json").json()["info"]["title"] == "oms-hub"
    assert "swagger" in httpx.get(f"{base}/v1/docs").text.lower()


def test_default_start_serves_demo_data() -> None:
    process, url = start_cli_hub()
    try:

        def offered() -> list[int]:
            answer = httpx.get(
                f"{url}/v1/availability",
                params={"channel": "web", "skus": "SKU-00001,SKU-00002"},
                headers={"x-api-key": KEY},
                timeout=30,
            )
            assert answer.status_code == 200
            return [item["available"] for item in answer.json()["items"]]

        locations = httpx.get(f"{url}/v1/locations", headers={"x-api-key": KEY}).json()["items"]
        assert sorted(loc["kind"] for loc in locations) == ["store", "store", "warehouse"]
        # Availability is the stock stream's figures: the demo's stock shows once its reader caught up.
        wait_until(lambda: any(units > 0 for units in offered()), what="the demo's stock offered")
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_ready_banner_prints_the_admin_pages_demo_users_and_each_logs_in() -> None:
    process, url = start_cli_hub("--no-demo")
    try:
        banner = process.stdout.readline() if process.stdout else ""
        assert banner.startswith(f"admin page: {url}/admin "), banner
        users = re.findall(r"(\w+) / (\S+) \((\w+)\)", banner)
        assert sorted(role for _, _, role in users) == ["admin", "manager", "operator", "store_staff"]
        for username, password, role in users:
            with session_client(url, username, password) as (client, _):
                assert urlparse(str(client.get("/admin").headers["location"])).path == LANDING[role]
    finally:
        process.terminate()
        process.wait(timeout=20)
