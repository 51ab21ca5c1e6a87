"""Store staff in a real browser, on their own store's queue: a click & collect order run from the queue to
the hand-over against the pickup code the customer was e-mailed; a short pick from the picking list; the
queue refreshes itself; axe-core finds nothing serious on these pages."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from playwright.sync_api import expect

from common import config
from oms_local.demo import DEMO_USERS
from oms_local.runtime import LocalHub
from tests.support.admin_page import axe_violations, screenshot
from tests.support.api import Api
from tests.support.waiting import wait_until

STORE = "msk-store-tverskaya"  # the demo store user's
SENDER = "orders@shop.example"

STAFF = next(u.username for u in DEMO_USERS if "store_staff" in u.groups)  # the demo user of the role


@pytest.fixture
def emails(admin_hub: LocalHub) -> Iterator[Any]:
    """The hub e-mails customers through SES (moto) from a verified sender, as the stack's NotifyEmailFrom sets."""
    os.environ["NOTIFY_EMAIL_FROM"] = SENDER
    config.settings.cache_clear()
    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    yield ses_backends[DEFAULT_ACCOUNT_ID][admin_hub.template.region].sent_messages
    os.environ["NOTIFY_EMAIL_FROM"] = ""
    config.settings.cache_clear()


def _click_collect(hub: LocalHub, external_id: str, sku: str, qty: int) -> str:
    api = Api(hub)
    assert api.put(f"/v1/stock/{STORE}", {"mode": "delta", "items": [{"sku": sku, "on_hand": 5}]}).status == 200
    answer = api.post(
        "/v1/orders",
        {
            "channel": "web",
            "external_id": external_id,
            "customer": {
                "name": "Pavel",
                "phone": "+79160001122",
                "email": "pavel@example.ru",
                "consent": {"email": True},
            },
            "lines": [{"sku": sku, "qty": qty, "price": 500}],
            "delivery": {"method": "click_collect", "location_id": STORE},
            "payment": {"method": "on_pickup"},
        },
    )
    assert answer.status == 201 and answer.body["allocations"][0]["location_id"] == STORE, answer.body
    order_id = str(answer.body["order_id"])
    api.event(order_id, "confirm")  # the call centre confirmed it: the store's turn
    api.wait_for(order_id, "confirmed")
    return order_id


def _store_page(page_as: Any) -> Any:
    """Store staff's queue, switched to English (Russian is their default) so the test reads one language."""
    page = page_as("store_staff")
    page.goto(page.url + "?lang=en")
    return page


def _section(page: Any, name: str) -> Any:
    return page.locator(f"section[aria-labelledby=q-{name}]")


def _applied(page: Any, status: str) -> None:
    """The picking list shows the order in `status` with its buttons: an event the lifecycle is still applying
    when the page is rendered (a busy machine) holds them back, and the page reloads itself until it is done."""
    expect(page.locator("[data-applying]")).to_have_count(0)
    expect(page.locator("h1 .status")).to_have_text(status)


def _click(page: Any, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def test_store_staff_run_a_click_and_collect_order_from_the_queue_to_the_hand_over(
    page_as: Any, admin_hub: LocalHub, emails: Any
) -> None:
    order_id = _click_collect(admin_hub, "cc-2001", "SKU-00007", 1)
    page = _store_page(page_as)
    _section(page, "to_pick").get_by_role("link", name="cc-2001").wait_for()
    assert axe_violations(page) == []
    screenshot(page, "store-queue")
    _section(page, "to_pick").get_by_role("link", name="cc-2001").click()
    page.wait_for_url(re.compile(f"/admin/store/orders/{order_id}$"))
    assert "SKU-00007" in page.locator("table").inner_text()
    assert "+79160001122" not in page.content() and "…1122" in page.content()  # store staff: last 4 digits
    assert axe_violations(page) == []
    screenshot(page, "store-picking")
    _applied(page, "confirmed")
    _click(page, "Picked")
    _applied(page, "picked")
    _click(page, "At the desk: tell the customer")
    api = Api(admin_hub)
    api.wait_for(order_id, "ready_for_pickup")

    def code_sent() -> str | None:
        mine = [m.body for m in emails if "pavel@example.ru" in str(m.destinations)]
        found = [re.search(r"(?:pickup code|Код получения): <b>(\d{6})</b>", body) for body in mine]
        return next((f.group(1) for f in found if f), None)

    wait_until(lambda: code_sent() is not None, what="the ready-for-pickup e-mail with its code")
    code = str(code_sent())
    page.goto(page.url)
    _applied(page, "ready_for_pickup")
    wrong = str((int(code) + 1) % 1_000_000).zfill(6)
    page.get_by_label("Customer's pickup code").fill(wrong)
    page.get_by_role("button", name="Hand over to the customer").click()
    assert page.get_by_role("alert").inner_text().startswith("the pickup code is wrong")
    assert api.order(order_id)["status"] == "ready_for_pickup"
    page.get_by_label("Customer's pickup code").fill(f"{code[:3]} {code[3:]}")
    _click(page, "Hand over to the customer")
    order = api.wait_for(order_id, "collected")
    collect = next(e for e in order["timeline"] if e["event"] == "collect")
    assert collect["source"] == f"operator:{STAFF}"


def test_a_short_pick_from_the_picking_list_writes_the_missing_units_off(page_as: Any, admin_hub: LocalHub) -> None:
    order_id = _click_collect(admin_hub, "cc-2002", "SKU-00008", 3)
    api = Api(admin_hub)
    before = api.stock("SKU-00008", STORE)
    page = _store_page(page_as)
    page.goto(page.url.replace("/admin/store?lang=en", f"/admin/store/orders/{order_id}"))
    page.get_by_label("Units of SKU-00008 not found").fill("1")
    _click(page, "Report the units not found")
    order = api.order(order_id)
    assert order["lines"] == [{"sku": "SKU-00008", "qty": 2, "price": 500}]
    short = next(e for e in order["timeline"] if e["event"] == "short_pick")
    assert short["source"] == f"operator:{STAFF}"
    after = api.stock("SKU-00008", STORE)
    assert (after["on_hand"], after["reserved"]) == (before["on_hand"] - 1, before["reserved"] - 1)
    assert "2" in page.locator("table").inner_text()


def test_the_queue_refreshes_itself(page_as: Any, admin_hub: LocalHub) -> None:
    page = _store_page(page_as)
    page.clock.install()  # Playwright's fake timers drive refresh.js's 20 s interval
    page.reload()
    order_id = _click_collect(admin_hub, "cc-2003", "SKU-00009", 1)
    assert _section(page, "to_pick").get_by_role("link", name="cc-2003").count() == 0
    page.clock.run_for(21_000)
    _section(page, "to_pick").get_by_role("link", name="cc-2003").wait_for()
    page.locator(f"a[href$='/admin/store/orders/{order_id}']").wait_for()


def test_the_picking_list_waits_for_an_event_the_lifecycle_is_still_applying(
    page_as: Any, admin_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on a busy machine: the event is accepted, but the lifecycle gets it only a second later."""
    from orders.adapters import lifecycle_engine

    order_id = _click_collect(admin_hub, "cc-2004", "SKU-00010", 1)
    resume = lifecycle_engine.resume
    monkeypatch.setattr(lifecycle_engine, "resume", lambda *args: threading.Timer(1.0, resume, args).start())
    page = _store_page(page_as)
    page.goto(page.url.replace("/admin/store?lang=en", f"/admin/store/orders/{order_id}"))
    _applied(page, "confirmed")
    _click(page, "Picked")
    assert page.get_by_role("status").inner_text().startswith("Applying “Picked”")
    assert page.get_by_role("button", name="Picked").count() == 0  # it would be refused as busy
    _applied(page, "picked")  # the page reloaded itself until the lifecycle applied it
    page.get_by_role("button", name="At the desk: tell the customer").wait_for()
