"""The call-centre operator takes an order by phone in a real browser: a product found by name, its live
availability per location before and after (reserved), click & collect at the store that has it, the order
then in that store's queue; a double submit makes one order; a bad phone is shown on the form and nothing is
made. Store staff look up their own store's stock and cannot open another store's. axe-core finds nothing
serious on either page."""

from __future__ import annotations

import re
from typing import Any

from oms_local.demo import DEMO_USERS
from oms_local.runtime import LocalHub
from tests.support.admin_page import axe_violations, screenshot
from tests.support.api import Api

STORE = "msk-store-tverskaya"  # the demo store user's
OTHER_STORE = "spb-store-nevsky"
CHANNEL = "call_centre"  # the demo's channel of kind callcenter
OPERATOR = next(u.username for u in DEMO_USERS if "operator" in u.groups)


def _stocked(hub: LocalHub, sku: str, units: int) -> int:
    """Adds units of the SKU at the store; what the call centre may sell there once the figures caught up."""
    assert (
        Api(hub).put(f"/v1/stock/{STORE}", {"mode": "delta", "items": [{"sku": sku, "on_hand": units}]}).status == 200
    )
    return _offered(hub, sku)


def _offered(hub: LocalHub, sku: str) -> int:
    hub.settle()  # the channel's figures follow stock through the table's stream
    answer = Api(hub).get("/v1/availability", f"channel={CHANNEL}&skus={sku}")
    assert answer.status == 200, answer.body
    places = answer.body["items"][0]["locations"]
    return int(next((p["available"] for p in places if p["location_id"] == STORE), 0))


def _call_centre_orders(hub: LocalHub) -> list[str]:
    answer = Api(hub).get("/v1/orders", f"channel={CHANNEL}&limit=100")
    assert answer.status == 200, answer.body
    return [o["order_id"] for o in answer.body["items"]]


def _new_order_page(page_as: Any, search: str, add: str) -> Any:
    """The operator's new-order page with the product found by `search` added as a line."""
    page = page_as("operator")
    page.get_by_role("link", name="New order by phone").click()
    page.wait_for_url(re.compile("/admin/new-order$"))
    page.get_by_label("SKU or product name").fill(search)
    page.get_by_role("button", name="Find").click()
    page.wait_for_url(re.compile(r"/admin/new-order\?"))
    with page.expect_navigation():
        page.get_by_role("link", name=f"Add {add}").click()
    return page


def _fill_customer(page: Any, sku: str, phone: str) -> None:
    page.get_by_label(f"Price of {sku}").fill("1 290,50")
    page.get_by_label("Click & collect at a store").check()
    page.get_by_label("Name", exact=True).fill("Olga Ivanova")
    page.get_by_label("Phone", exact=True).fill(phone)
    page.get_by_label("E-mail", exact=True).fill("olga@example.ru")
    page.get_by_label("Agrees to order updates by SMS").check()


def _store_cell(page: Any, sku: str) -> int:
    row = page.locator("table.availability tbody tr", has=page.get_by_role("rowheader", name=sku))
    return int(row.locator(f"td[data-location={STORE}]").inner_text())


def test_an_operator_takes_a_click_and_collect_order_by_phone_for_the_store_with_the_stock(
    page_as: Any, admin_hub: LocalHub
) -> None:
    sku = "SKU-00121"  # the demo's "Electric kettle 121"
    before = _stocked(admin_hub, sku, 3)
    page = _new_order_page(page_as, "kettle 121", sku)
    assert _store_cell(page, sku) == before  # the channel's availability, as GET /v1/availability shows it
    page.get_by_label(f"Quantity of {sku}").fill("2")
    with page.expect_navigation():
        page.get_by_role("button", name="Update quantities and availability").click()
    collect_at = page.get_by_label(re.compile("^Click & collect at \\("))
    assert "Tverskaya store" in collect_at.inner_text()  # the store has both units
    _fill_customer(page, sku, "+7 916 700-11-22")
    collect_at.select_option(STORE)
    assert axe_violations(page) == []
    screenshot(page, "operator-new-order")
    with page.expect_navigation():
        page.get_by_role("button", name="Take the order").click()
    landed = re.search(r"/admin/orders/(ord_\w+)$", page.url)
    assert landed, page.url  # the new order's page
    order_id = landed.group(1)
    order = Api(admin_hub).order(order_id)
    delivery = order["delivery"]
    assert (order["channel"], order["status"], delivery["method"], delivery["location_id"]) == (
        CHANNEL,
        "reserved",
        "click_collect",
        STORE,
    )
    assert order["lines"] == [{"sku": sku, "qty": 2, "price": 1290.5}]
    assert [(a["location_id"], a["qty"]) for a in order["allocations"]] == [(STORE, 2)]
    assert order["customer"]["consent"] == {"sms": True, "email": False}
    assert order["payment"]["method"] == "on_pickup"
    assert order["timeline"][0]["source"] == f"operator:{OPERATOR}"
    assert f"operator:{OPERATOR}" in page.locator("table.timeline").inner_text()

    assert _offered(admin_hub, sku) == before - 2
    page.goto(page.url.replace(f"/admin/orders/{order_id}", f"/admin/new-order?lines={sku}*1"))
    assert _store_cell(page, sku) == before - 2  # reserved: the page shows it as the API does

    page.goto(page.url.replace(f"/admin/new-order?lines={sku}*1", f"/admin/orders/{order_id}"))
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    Api(admin_hub).wait_for(order_id, "confirmed")
    store = page_as("store_staff")
    store.locator("section[aria-labelledby=q-to_pick]").locator(f"a[href$='/admin/store/orders/{order_id}']").wait_for()


def test_a_double_submit_makes_one_order(page_as: Any, admin_hub: LocalHub) -> None:
    sku = "SKU-00122"
    before = _stocked(admin_hub, sku, 4)
    page = _new_order_page(page_as, sku, sku)
    _fill_customer(page, sku, "+7 916 700-33-44")
    sent = page.evaluate("() => Object.fromEntries(new FormData(document.getElementById('order-form')))")
    orders = set(_call_centre_orders(admin_hub))
    with page.expect_navigation(url=re.compile(r"/admin/orders/ord_")):
        page.get_by_role("button", name="Take the order").click()
    for _ in range(2):  # the same form sent again (a double click, a retry after a lost answer)
        again = page.context.request.post(
            page.url.split("/admin/")[0] + "/admin/new-order", form={**sent, "do": "take"}, max_redirects=0
        )
        assert again.status == 303 and page.url.endswith(again.headers["location"])  # the same order, found again
    made = set(_call_centre_orders(admin_hub)) - orders
    assert len(made) == 1 and page.url.endswith(made.pop())
    assert _offered(admin_hub, sku) == before - 1  # reserved once


def test_a_bad_phone_is_shown_on_the_form_and_nothing_is_made(page_as: Any, admin_hub: LocalHub) -> None:
    sku = "SKU-00123"
    before = _stocked(admin_hub, sku, 2)
    page = _new_order_page(page_as, sku, sku)
    _fill_customer(page, sku, "call after six")
    orders = _call_centre_orders(admin_hub)
    with page.expect_navigation() as sent:
        page.get_by_role("button", name="Take the order").click()
    assert sent.value.status == 422
    assert "Phone: give the phone's digits" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Phone", exact=True).get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Name", exact=True).input_value() == "Olga Ivanova"  # what was typed stays
    assert axe_violations(page) == []
    assert _call_centre_orders(admin_hub) == orders
    assert _offered(admin_hub, sku) == before


def test_store_staff_look_up_their_own_stock_and_cannot_open_another_stores(page_as: Any, admin_hub: LocalHub) -> None:
    sku = "SKU-00125"  # the demo's "Blender 125"
    api = Api(admin_hub)
    api.put(f"/v1/stock/{STORE}", {"mode": "delta", "items": [{"sku": sku, "on_hand": 3}]})
    held = api.post(
        "/v1/orders",
        {
            "channel": "web",
            "external_id": "stock-look-1",
            "customer": {"name": "Pavel"},
            "lines": [{"sku": sku, "qty": 1, "price": 500}],
            "delivery": {"method": "click_collect", "location_id": STORE},
            "payment": {"method": "on_pickup"},
        },
    )
    assert held.status == 201 and held.body["allocations"][0]["location_id"] == STORE
    page = page_as("store_staff")
    page.get_by_role("link", name="Остатки моего магазина").click()  # Russian: store staff's default
    page.wait_for_url(re.compile(f"/admin/store/stock/{STORE}$"))
    page.get_by_label("Артикул или название товара").fill("blender 125")
    with page.expect_navigation():
        page.get_by_role("button", name="Найти").click()
    assert axe_violations(page) == []
    screenshot(page, "store-stock")
    page.goto(page.url + "&lang=en")
    stock = api.stock(sku, STORE)
    row = page.locator("table.list tbody tr", has_text=sku)
    assert row.locator("td").all_inner_texts() == [
        sku,
        "Blender 125",
        str(stock["on_hand"]),
        str(stock["reserved"]),
        str(stock["available"]),
    ]
    assert stock["reserved"] >= 1
    other = page.goto(page.url.replace(f"/stock/{STORE}", f"/stock/{OTHER_STORE}"))
    assert other is not None and other.status == 404
    assert "Blender 125" not in page.content()
    assert (
        page.context.request.get(page.url.split("/admin/")[0] + f"/admin/store/stock/{OTHER_STORE}?q={sku}").status
        == 404
    )
    operator = page_as("operator")
    assert operator.goto(operator.url.replace("/admin/orders", f"/admin/store/stock/{STORE}")).status == 403
