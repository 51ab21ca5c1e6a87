"""The call-centre operator in a real browser: finds an order by the customer's phone, reads it whole and
cancels it with a reason (the units are available again, the timeline names the operator); the task queue;
axe-core finds nothing serious on these pages."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from playwright.sync_api import expect

from oms_local.demo import DEMO_USERS
from oms_local.runtime import LocalHub
from tests.support.admin_page import axe_violations, screenshot
from tests.support.api import Api

SKU = "SKU-00042"
WAREHOUSE = "msk-wh-1"

OPERATOR = next(u.username for u in DEMO_USERS if "operator" in u.groups)  # the demo user of the role


def _restock(hub: LocalHub) -> None:
    answer = Api(hub).put(f"/v1/stock/{WAREHOUSE}", {"mode": "delta", "items": [{"sku": SKU, "on_hand": 10}]})
    assert answer.status == 200


def _courier_order(hub: LocalHub, external_id: str, phone: str, qty: int) -> str:
    answer = Api(hub).post(
        "/v1/orders",
        {
            "channel": "web",
            "external_id": external_id,
            "customer": {"name": "Irina Smirnova", "phone": phone, "email": "irina@example.ru"},
            "lines": [{"sku": SKU, "qty": qty, "price": 1490}],
            "delivery": {"method": "courier", "address": "Moscow, Arbat 10"},
            "payment": {"method": "cod"},
        },
    )
    assert answer.status == 201, answer.body
    return str(answer.body["order_id"])


def _available(hub: LocalHub) -> int:
    hub.settle()  # the channel's figures follow stock through the table's stream
    answer = Api(hub).get("/v1/availability", f"channel=web&skus={SKU}")
    assert answer.status == 200, answer.body
    return int(next(item["available"] for item in answer.body["items"] if item["sku"] == SKU))


def test_an_operator_finds_an_order_by_phone_and_cancels_it_and_the_stock_is_back(
    page_as: Any, admin_hub: LocalHub
) -> None:
    _restock(admin_hub)
    before = _available(admin_hub)
    order_id = _courier_order(admin_hub, "call-1001", "+7 (903) 765-43-21", qty=3)
    assert _available(admin_hub) < before  # the channel is offered a share of what is free
    page = page_as("operator")
    page.get_by_label(re.compile("phone", re.IGNORECASE)).fill("8 903 765 43 21")  # as the customer says it
    page.get_by_role("button", name="Find").click()
    page.wait_for_url(re.compile(r"/admin/orders\?q="))
    assert axe_violations(page) == []
    screenshot(page, "operator-search")
    page.get_by_role("link", name=order_id).click()
    page.wait_for_url(re.compile(f"/admin/orders/{order_id}$"))
    assert "Irina Smirnova" in page.content() and "+7 (903) 765-43-21" in page.content()
    assert page.get_by_role("heading", name="Timeline").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "operator-order")

    page.get_by_role("button", name="Cancel the order").click()  # without a reason: the browser asks for one
    assert page.url.endswith(f"/admin/orders/{order_id}")
    page.get_by_label("Reason for the cancellation").fill("customer changed their mind")
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel the order").click()
    order = Api(admin_hub).wait_for(order_id, "cancelled")
    cancel = next(e for e in order["timeline"] if e["event"] == "cancel")
    assert (cancel["source"], cancel["note"]) == (
        f"operator:{OPERATOR}",
        "customer changed their mind",
    )
    assert _available(admin_hub) == before
    # The page showed the cancel being applied and reloaded itself until it was.
    expect(page.locator("h1 .status")).to_have_text("cancelled")
    expect(page.locator("[data-applying]")).to_have_count(0)
    assert "operator:operator" in page.locator("table.timeline").inner_text()


def test_a_refused_action_shows_why_and_changes_nothing(page_as: Any, admin_hub: LocalHub) -> None:
    _restock(admin_hub)
    order_id = _courier_order(admin_hub, "call-1002", "+79037650000", qty=1)
    api = Api(admin_hub)
    api.event(order_id, "cancel")
    api.wait_for(order_id, "cancelled")
    before = api.order(order_id)
    page = page_as("operator")
    page.goto(page.url.replace("/admin/orders", f"/admin/orders/{order_id}"))
    assert page.get_by_role("button", name="Confirm").count() == 0  # a cancelled order offers no action
    client = page.context.request
    token = page.locator("form.logout input[name=csrf_token]").get_attribute("value")
    answer = client.post(page.url + "/events", form={"csrf_token": token, "event": "confirm"}, max_redirects=0)
    assert answer.status == 409
    assert re.search(r'role="alert">[^<]*confirm[^<]*cancelled', answer.text()), answer.text()
    assert api.order(order_id)["timeline"] == before["timeline"]


def test_the_task_queue_shows_the_oldest_open_task_first(page_as: Any, admin_hub: LocalHub) -> None:
    api = Api(admin_hub)
    short = []
    for n in range(2):
        answer = api.post(
            "/v1/orders",
            {
                "channel": "web",
                "external_id": f"short-{n}",
                "customer": {"name": "Petr"},
                "lines": [{"sku": "SKU-NOT-STOCKED", "qty": 1, "price": 10}],
                "delivery": {"method": "courier", "address": "Moscow"},
                "payment": {"method": "cod"},
            },
        )
        assert answer.body["status"] == "on_hold"
        short.append(answer.body["order_id"])
    page = page_as("operator")
    page.get_by_role("link", name="Task queue").click()
    page.wait_for_url(re.compile("/admin/tasks"))
    listed = page.locator("table.list tbody tr").all_inner_texts()
    rows = [n for n, text in enumerate(listed) for order_id in short if order_id in text]
    assert len(rows) == 2 and rows == sorted(rows)
    assert short[0] in listed[rows[0]]
    assert axe_violations(page) == []
    screenshot(page, "operator-tasks")


def test_the_order_page_turns_its_actions_off_once_the_order_has_moved_on(page_as: Any, admin_hub: LocalHub) -> None:
    """The page was shown with the order in one status; a partner (here the API) moves it meanwhile."""
    _restock(admin_hub)
    order_id = _courier_order(admin_hub, "call-1003", "+79037650001", qty=1)
    api = Api(admin_hub)
    status = api.order(order_id)["status"]
    page = page_as("operator")
    page.clock.install()  # Playwright's fake timers drive refresh.js's 15 s look at the order's version
    page.goto(page.url.replace("/admin/orders", f"/admin/orders/{order_id}"))
    cancel = page.get_by_role("button", name="Cancel the order")
    assert cancel.is_enabled() and not page.locator("#changed").is_visible()
    page.clock.run_for(16_000)  # nothing changed: the actions stay on
    assert cancel.is_enabled() and not page.locator("#changed").is_visible()

    api.event(order_id, "cancel")
    api.wait_for(order_id, "cancelled")
    page.clock.run_for(16_000)
    page.locator("#changed").wait_for()
    assert cancel.is_disabled() and page.get_by_label("Reason for the cancellation").is_disabled()
    assert f">{status}<" in page.locator("h1").inner_html()  # the page itself is as it was shown
    assert axe_violations(page) == []
    page.get_by_role("link", name="Reload the order").click()
    page.wait_for_url(re.compile(f"/admin/orders/{order_id}$"))
    assert ">cancelled<" in page.locator("h1").inner_html()
    assert page.get_by_role("button", name="Cancel the order").count() == 0


def test_another_store_s_or_an_unknown_order_has_no_version_to_read(page_as: Any, admin_hub: LocalHub) -> None:
    page = page_as("store_staff")
    _restock(admin_hub)
    order_id = _courier_order(admin_hub, "call-1004", "+79037650002", qty=1)  # from the warehouse, not the store
    client = page.context.request
    base = page.url.split("/admin/", 1)[0]
    assert client.get(f"{base}/admin/orders/{order_id}/version").status == 404
    assert client.get(f"{base}/admin/orders/ord_nonesuch/version").status == 404
    operator = page_as("operator").context.request
    answer = operator.get(f"{base}/admin/orders/{order_id}/version")
    assert answer.status == 200 and answer.text() == Api(admin_hub).order(order_id)["updated_at"]


def test_an_action_still_being_applied_holds_the_buttons_back_until_it_is(
    page_as: Any, admin_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on a busy machine: the confirmation is accepted, but the lifecycle gets it only a second later."""
    from orders.adapters import lifecycle_engine

    _restock(admin_hub)
    order_id = _courier_order(admin_hub, "call-1005", "+79037650003", qty=1)
    api = Api(admin_hub)
    api.wait_for(order_id, "reserved")
    resume = lifecycle_engine.resume
    monkeypatch.setattr(lifecycle_engine, "resume", lambda *args: threading.Timer(1.0, resume, args).start())
    page = page_as("operator")
    page.goto(page.url.replace("/admin/orders", f"/admin/orders/{order_id}"))
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    assert page.locator("[data-applying]").inner_text().startswith("Applying “Confirm”")
    assert page.get_by_role("button", name="Cancel the order").count() == 0  # it would be refused as busy
    expect(page.locator("[data-applying]")).to_have_count(0)  # the page reloaded itself until it was applied
    expect(page.locator("h1 .status")).to_have_text("confirmed")
    page.get_by_role("button", name="Cancel the order").wait_for()


def test_an_action_the_lifecycle_never_applies_stops_the_reloads_after_a_minute(
    page_as: Any, admin_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stuck lifecycle: the page reloads each second for a minute, then says so and stops."""
    from orders.adapters import lifecycle_engine

    _restock(admin_hub)
    order_id = _courier_order(admin_hub, "call-1006", "+79037650004", qty=1)
    Api(admin_hub).wait_for(order_id, "reserved")
    monkeypatch.setattr(lifecycle_engine, "resume", lambda *args: None)  # accepted, never delivered
    page = page_as("operator")
    page.clock.install()  # Playwright's fake timers drive refresh.js's one-second reloads
    page.goto(page.url.replace("/admin/orders", f"/admin/orders/{order_id}"))
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    reloads = f"oms-hub.reloads:/admin/orders/{order_id}"
    assert page.evaluate(f"sessionStorage.getItem('{reloads}')") == "1"
    with page.expect_navigation():
        page.clock.run_for(1_100)
    assert page.evaluate(f"sessionStorage.getItem('{reloads}')") == "2"
    page.evaluate(f"sessionStorage.setItem('{reloads}', '60')")  # as after a minute of reloads
    with page.expect_navigation():
        page.clock.run_for(1_100)
    expect(page.locator("[data-applying]")).to_have_text(re.compile("^Still being applied after a minute"))
    page.clock.run_for(5_000)  # no more reloads: the text the script wrote stays
    expect(page.locator("[data-applying]")).to_have_text(re.compile("^Still being applied after a minute"))
    assert page.get_by_role("button", name="Cancel the order").count() == 0
