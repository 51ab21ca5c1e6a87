"""A cancellation at every cancellable status of every workflow undoes what the order's actions registered.

For each (workflow, status) pair, read from the workflows the functions run with: an order over HTTP with
a loyalty card, walked to the status (each status's actions settled before the next event), cancelled with
a note; then what each fake partner on 127.0.0.1 holds for it: the loyalty purchase given back in full,
the CDEK registration deleted, the marketplace told once with the reason, the store's task closed, every
request of the order's made once. One hub and one set of fakes serve the whole module (orders differ by
their external ids)."""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from common import secrets
from common.config import settings
from loyalty.adapters.loymax import token_parameter
from oms_local.runtime import LocalHub
from orders.adapters.workflow_catalog import catalog
from orders.domain.actions import FINAL_STATES
from orders.domain.workflow import AWAITING_PAYMENT, Workflow
from tests.fakes.acquirer import API_KEY, WEBHOOK_SECRET, FakeAcquirer, Served, signed_callback
from tests.fakes.loymax import TOKEN, FakeLoymax, served
from tests.fakes.partners import FakeCdek, FakeOzon, FakeWildberries, FakeYandexMarket
from tests.fakes.server import serve
from tests.support import builders
from tests.support.api import Api
from tests.support.builders import courier_order
from tests.support.loyalty import CARD
from tests.support.partners import ozon, ozon_channel
from tests.support.waiting import wait_until
from tests.support.workflows import IN_STORE_METHODS

CAMPAIGN = 21621656
NOTE = "the customer changed their mind"
REDEEM = 300
ON_HOLD = "on_hold"
PAID = "paid"  # the variant whose confirmed is entered by the acquirer's payment (points written off then)
MARKETPLACES = ("ozon", "wb", "ym")
STOCKED = 1000
numbers = itertools.count(91000001)


@dataclass
class Fakes:
    api: Api
    loyalty: FakeLoymax
    cdek: FakeCdek
    ozon: FakeOzon
    wb: FakeWildberries
    ym: FakeYandexMarket
    acquirer: FakeAcquirer


@pytest.fixture(scope="module")
def world() -> Iterator[Fakes]:
    """The hub with every partner on a fake: CDEK (the hub's account; wh-1 and store-1 hand in at MSK5,
    SKU-A in the catalog), Ozon, Wildberries, Market (wh-1 is its campaign), the loyalty provider, the
    acquirer. Channel web writes points off on delivery, web-paid once paid."""
    acquirer = FakeAcquirer()
    with (
        served({CARD: 10_000_000}) as loyalty,
        Served(acquirer),
        serve((cdek := FakeCdek()).app()) as cdek_url,
        serve((ozon_fake := FakeOzon()).app()) as ozon_url,
        serve((wb := FakeWildberries()).app()) as wb_url,
        serve((ym := FakeYandexMarket()).app()) as ym_url,
        LocalHub() as hub,
    ):
        os.environ |= {"LOYALTY_URL": loyalty.url, "ACQUIRER_URL": acquirer.url, "ACTIONS_BACKOFF_SECONDS": "1"}
        settings.cache_clear()
        secrets.put_secret(token_parameter(), TOKEN)
        prefix = settings().acquirer_parameters
        secrets.put_secret(f"{prefix}/acquirer/api_key", API_KEY)
        secrets.put_secret(f"{prefix}/acquirer/webhook_secret", WEBHOOK_SECRET)
        api = builders.every_method_shop(Api(hub))
        for location in ("wh-1", "store-1"):
            assert api.put(f"/v1/stock/{location}", {"items": [{"sku": "SKU-A", "on_hand": STOCKED}]}).status == 200
        product = {"name": "Mug", "weight_grams": 400, "length_mm": 120, "width_mm": 90, "height_mm": 100}
        assert api.put("/v1/products/SKU-A", product).status == 200
        channels: dict[str, dict[str, Any]] = {
            "web": {"kind": "web", "name": "Site", "loyalty": {"write_off_on": "delivered"}},
            "web-paid": {"kind": "web", "name": "Site", "loyalty": {"write_off_on": "paid"}},
            "cdek-account": {
                "kind": "cdek",
                "name": "CDEK",
                "api_url": cdek_url,
                "credentials": {"client_id": "cdek-id", "client_secret": "cdek-secret"},
                "warehouses": [{"partner_warehouse_id": "MSK5", "locations": ["store-1", "wh-1"]}],
            },
            "ozon": ozon_channel(ozon_url),
            "wb": {"kind": "wildberries", "name": "WB", "api_url": wb_url, "credentials": {"token": "wb-token"}},
            "ym": {
                "kind": "yandex_market",
                "name": "Market",
                "api_url": ym_url,
                "credentials": {"Api-Key": "ym-key"},
                "warehouses": [{"partner_warehouse_id": str(CAMPAIGN), "locations": ["wh-1"]}],
            },
        }
        for channel_id, body in channels.items():
            assert api.put(f"/v1/channels/{channel_id}", body).status == 200, channel_id
        yield Fakes(api, loyalty, cdek, ozon_fake, wb, ym, acquirer)
    os.environ.pop("ACTIONS_BACKOFF_SECONDS", None)
    settings.cache_clear()


# ------------------------------------------------------------------ the matrix, from the workflows


@dataclass(frozen=True)
class Case:
    workflow: str
    status: str
    start: str  # the status intake writes: on_hold (short of stock), awaiting_payment (to be paid) or reserved
    events: tuple[str, ...]  # from the start to the status
    channel: str  # web, web-paid, or the marketplace's

    @property
    def id(self) -> str:
        marketplace = f"{self.channel}-" if self.channel in MARKETPLACES else ""
        return f"{self.workflow}-{marketplace}{self.status}{'-paid' if 'pay' in self.events else ''}"


def _starts(flow: Workflow, status: str) -> list[tuple[str, list[str]]]:
    """The intake status and the events that reach `status` from it: short of stock for on_hold, to be paid
    for the payment's statuses, else reserved; and, for the status a payment enters, paid as well (the points
    written off then)."""
    found: list[tuple[str, list[str]]] = []
    for start in (ON_HOLD, "reserved", AWAITING_PAYMENT):
        path = flow.path(start, status, avoid=frozenset({"cancel", "expire", "reserve"}))
        if start in flow.statuses and path is not None and (not found or path[-1:] == ["pay"]):
            found.append((start, path))
    return found


def cases() -> list[Case]:
    found = []
    for name, flow in sorted(catalog().workflows.items()):
        channels = MARKETPLACES if name == "marketplace" else ("web",)
        for status, spec in flow.statuses.items():
            if "cancel" not in spec.events:
                continue
            for start, path in _starts(flow, status):
                for channel in channels:
                    paying = start == AWAITING_PAYMENT
                    found.append(Case(name, status, start, tuple(path), "web-paid" if paying else channel))
    return found


CASES = cases()


# ------------------------------------------------------------------ placing and walking an order


def place(world: Fakes, case: Case) -> str:
    api, number = world.api, str(next(numbers))
    short = case.start == ON_HOLD
    sku = "SKU-Z" if short else "SKU-A"  # SKU-Z is stocked nowhere
    if case.channel == "ozon":
        product = {"sku": 147451959 if not short else 990001, "offer_id": sku, "quantity": 2}
        assert ozon(api.hub, "ozon_new_posting.json", posting_number=number, products=[product]).status == 200
        wait_until(lambda: bool(_orders(api, "ozon", number)), 10, f"ozon posting {number} taken in")
        [order_id] = _orders(api, "ozon", number)
        return order_id
    method = catalog().workflows[case.workflow].delivery_methods[0]
    delivery: dict[str, Any] = {"method": method, "address": "Moscow, Tverskaya 7"}
    if method in IN_STORE_METHODS:
        delivery["location_id"] = "store-1"
    payment = {"method": "prepaid", **({"status": "pending"} if case.start == AWAITING_PAYMENT else {})}
    body = courier_order(
        number,
        channel=case.channel,
        lines=[{"sku": sku, "qty": 2, "price": 1990.00}],
        delivery=delivery,
        payment=payment,
        loyalty={"card": CARD, "redeem_points": REDEEM},
    )
    answer = api.post("/v1/orders", body)
    assert answer.status == 201, answer.body
    assert answer.body["status"] == case.start, answer.body
    return str(answer.body["order_id"])


def _orders(api: Api, channel: str, external_id: str) -> list[str]:
    items = api.get("/v1/orders", f"channel={channel}").body["items"]
    return [o["order_id"] for o in items if o["external_id"] == external_id]


def settle(api: Api, flow: Workflow, order_id: str, status: str) -> dict[str, Any]:
    """The order once every action of its latest entry of `status` is done, skipped or failed."""
    names = flow.statuses[status].actions
    found: dict[str, Any] = {}

    def settled() -> bool:
        order = api.order(order_id)
        records = [a for a in order["actions"] if a["on_status"] == status and a["name"] in names]
        found.update(order)
        return len(records) >= len(names) and all(a["status"] in FINAL_STATES for a in records)

    wait_until(settled, 20, f"{order_id}'s actions of {status} settled")
    return found


def move(world: Fakes, flow: Workflow, order_id: str, event: str) -> None:
    api = world.api
    target = flow.statuses[api.order(order_id)["status"]].events[event]
    if event == "pay":
        order = api.order(order_id)
        body = {"event_id": f"evt-{order_id}", "payment_id": f"pay-{order_id}", "order_id": order_id}
        raw, headers = signed_callback({**body, "status": "succeeded", "amount": order["total"]})
        answer = api.call("POST", "/v1/payments/acquirer/callback", raw=raw, headers=headers)
        assert answer.status == 200, answer.body
    else:
        assert api.event(order_id, event).body["next_status"] == target
    api.wait_for(order_id, target, timeout=10)
    settle(api, flow, order_id, target)


# ------------------------------------------------------------------ what the fakes hold


def _walked(case: Case) -> list[str]:
    flow = catalog().workflows[case.workflow]
    statuses = [case.start]
    for event in case.events:
        statuses.append(flow.statuses[statuses[-1]].events[event])
    return statuses


def _ran(case: Case, action: str) -> bool:
    flow = catalog().workflows[case.workflow]
    return any(action in flow.statuses[status].actions for status in _walked(case))


def assert_loyalty_given_back(world: Fakes, case: Case, order: dict[str, Any]) -> None:
    requests = [r for r in world.loyalty.requests if r["purchase_id"] == order["order_id"]]
    if case.channel == "ozon":  # Ozon's postings carry no loyalty card
        assert requests == []
        return
    purchase = world.loyalty.purchases[order["order_id"]]
    assert (purchase.held, purchase.written_off, purchase.accrued) == (0, 0, 0)
    calls = [r["call"] for r in requests]
    written_off = case.channel == "web-paid" and "pay" in case.events
    assert calls == (["hold", "confirm", "refund"] if written_off else ["hold", "cancel"])
    assert sum(r["body"]["points"] for r in requests if r["call"] in ("cancel", "refund")) == REDEEM
    assert order["loyalty"]["held"] == REDEEM and order["loyalty"]["returned"] == REDEEM


def assert_shipment_deleted(world: Fakes, case: Case, order: dict[str, Any]) -> None:
    # The fake names the n-th registration uuid-n.
    registered = [f"uuid-{n}" for n, o in enumerate(world.cdek.orders, 1) if o["number"] == order["order_id"]]
    if not _ran(case, "create_shipment"):
        assert registered == []
        return
    [uuid] = registered
    assert world.cdek.deleted.count(uuid) == 1
    assert uuid not in world.cdek.entities


def assert_marketplace_told(world: Fakes, case: Case, order: dict[str, Any]) -> None:
    number = order["external_id"]
    packed = _ran(case, "confirm_to_marketplace")
    if case.channel == "ozon":
        ships = [b for b in world.ozon.calls("/v4/posting/fbs/ship") if b["posting_number"] == number]
        assert len(ships) == (1 if packed else 0)
        cancels = [b for b in world.ozon.calls("/v2/posting/fbs/cancel") if b["posting_number"] == number]
        assert cancels == [{"posting_number": number, "cancel_reason_id": 402, "cancel_reason_message": NOTE}]
    elif case.channel == "wb":
        assert world.wb.cancelled.count(int(number)) == 1
        supplies = [s for s, held in world.wb.supplies.items() if int(number) in held]
        assert len(supplies) == (1 if packed else 0)
    elif case.channel == "ym":
        told = world.ym.calls(f"/v2/campaigns/{CAMPAIGN}/orders/{number}/status")
        assert told == [
            *([{"order": {"status": "PROCESSING", "substatus": "READY_TO_SHIP"}}] if packed else []),
            {"order": {"status": "CANCELLED", "substatus": "SHOP_FAILED"}},
        ]


def assert_store_task_closed(world: Fakes, case: Case, order: dict[str, Any]) -> None:
    opened = [a["result"]["task_id"] for a in order["actions"] if a["name"] == "open_task"]
    assert len(opened) == (1 if _ran(case, "open_task") else 0)
    open_now = {t["task_id"] for t in world.api.get("/v1/tasks").body["items"]}
    assert not open_now & set(opened), "the store no longer has to pick a cancelled order"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_cancellation_undoes_what_the_orders_actions_registered(world: Fakes, case: Case) -> None:
    api, flow = world.api, catalog().workflows[case.workflow]
    order_id = place(world, case)
    api.wait_for(order_id, case.start, timeout=10)
    settle(api, flow, order_id, case.start)
    for event in case.events:
        move(world, flow, order_id, event)
    assert api.event(order_id, "cancel", note=NOTE).body["next_status"] == "cancelled"
    api.wait_for(order_id, "cancelled", timeout=10)
    order = settle(api, flow, order_id, "cancelled")

    assert [a for a in order["actions"] if a["status"] == "failed"] == []
    assert order.get("attention") is None
    assert_loyalty_given_back(world, case, order)
    assert_shipment_deleted(world, case, order)
    assert_marketplace_told(world, case, order)
    assert_store_task_closed(world, case, order)
    # Every action ran once for its status entry: one attempt each, nothing retried.
    attempts = Counter((a["name"], a["on_status"], a["entry"]) for a in order["actions"])
    assert set(attempts.values()) == {1} and all(a["attempts"] == 1 for a in order["actions"])
