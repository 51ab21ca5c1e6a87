"""The manager's dashboard and the admin's settings in a real browser: every number the dashboard shows is
what the /v1 API answers; the settings list the channels, locations and push status and draw every
workflow; axe-core finds nothing serious on either."""

from __future__ import annotations

from typing import Any

from oms_local.runtime import LocalHub
from tests.support.admin_page import axe_violations, screenshot
from tests.support.api import Api


def _orders_listed(api: Api, status: str, channel: str) -> int:
    """How many orders GET /v1/orders lists in the status and channel, page by page."""
    listed, cursor = 0, None
    while True:
        query = f"status={status}&channel={channel}&limit=100" + (f"&cursor={cursor}" if cursor else "")
        answer = api.get("/v1/orders", query)
        assert answer.status == 200, answer.body
        listed += len(answer.body["items"])
        cursor = answer.body["next_cursor"]
        if not cursor:
            return listed


def _orders(api: Api, count: int, start: int) -> list[str]:
    ids = []
    for n in range(start, start + count):
        answer = api.post(
            "/v1/orders",
            {
                "channel": "web",
                "external_id": f"dash-{n}",
                "customer": {"name": "Nina"},
                "lines": [{"sku": "SKU-00001" if n % 2 else "SKU-NONE", "qty": 1, "price": 100}],
                "delivery": {"method": "courier", "address": "Moscow"},
                "payment": {"method": "cod"},
            },
        )
        assert answer.status == 201, answer.body
        ids.append(answer.body["order_id"])
    return ids


def test_the_dashboards_numbers_are_the_apis(page_as: Any, admin_hub: LocalHub) -> None:
    api = Api(admin_hub)
    restock = {"mode": "delta", "items": [{"sku": "SKU-00001", "on_hand": 20}]}
    assert api.put("/v1/stock/msk-wh-1", restock).status == 200
    ids = _orders(api, 6, 0)  # odd: reserved; even: on hold (no stock)
    api.event(ids[1], "confirm")
    api.wait_for(ids[1], "confirmed")
    page = page_as("manager")
    rows = page.locator("table.counts tbody tr").all()
    shown = {
        (r.get_attribute("data-status"), r.get_attribute("data-channel")): int(r.locator("td").nth(2).inner_text())
        for r in rows
    }
    assert shown[("on_hold", "web")] >= 3 and shown[("confirmed", "web")] >= 1
    for (status, channel), count in shown.items():
        assert count == _orders_listed(api, status, channel), (status, channel)
    assert page.locator("svg[role=img]").count() >= 2
    bars = page.locator("svg[aria-labelledby=chart-by_status] text").all_text_contents()
    assert str(sum(c for (s, _), c in shown.items() if s == "on_hold")) in bars
    assert axe_violations(page) == []
    screenshot(page, "manager-dashboard")


def test_the_settings_show_channels_locations_pushes_and_every_workflow(page_as: Any, admin_hub: LocalHub) -> None:
    api = Api(admin_hub)
    page = page_as("admin")
    text = page.locator("main").inner_text()
    for location in api.get("/v1/locations").body["items"]:
        assert location["location_id"] in text
    assert "web" in text
    workflows = api.get("/v1/workflows").body["items"]
    diagrams = page.locator("figure.workflow svg")
    assert diagrams.count() == len(workflows)
    courier = page.locator("svg[aria-labelledby=wf-courier]").text_content() or ""
    for step in ("reserved", "confirmed", "shipped", "delivered", "KPI 14d"):
        assert step in courier
    assert axe_violations(page) == []
    screenshot(page, "admin-settings")
