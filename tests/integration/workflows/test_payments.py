"""Prepaid orders wait for the acquirer: a signed callback pays them, a missed deadline sends a new link
(requested from a fake acquirer on 127.0.0.1), a second one cancels; cancelling a paid order refunds."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from common import config, secrets
from oms_local.runtime import LocalHub
from tests.fakes.acquirer import API_KEY, WEBHOOK_SECRET, FakeAcquirer, Served, signed_callback
from tests.support.api import Api
from tests.support.builders import courier_order, every_method_shop

CALLBACK = "/v1/payments/acquirer/callback"
PENDING = {"method": "prepaid", "status": "pending"}


def _connect(hub: LocalHub, url: str) -> Api:
    os.environ["ACQUIRER_URL"] = url  # restored by the hub on exit (it saved the template's value)
    config.settings.cache_clear()
    prefix = config.settings().acquirer_parameters
    secrets.put_secret(f"{prefix}/acquirer/api_key", API_KEY)
    secrets.put_secret(f"{prefix}/acquirer/webhook_secret", WEBHOOK_SECRET)
    return every_method_shop(Api(hub))


@pytest.fixture
def acquirer() -> Iterator[FakeAcquirer]:
    fake = FakeAcquirer()
    with Served(fake):
        yield fake


@pytest.fixture
def prepaid_shop(acquirer: FakeAcquirer) -> Iterator[Api]:
    with LocalHub() as hub:
        yield _connect(hub, acquirer.url)


@pytest.fixture
def impatient(acquirer: FakeAcquirer) -> Iterator[Api]:
    """A one-second payment wait, then a reminder wait long enough to pay in on a busy machine (one second
    was lost to a slow callback now and then, and the order was cancelled first)."""
    with LocalHub(
        retry_time_scale=0.01, state_timeouts={"OrderLifecycle": {"AwaitAwaitingPayment": 1, "PaymentReminded": 4}}
    ) as hub:
        yield _connect(hub, acquirer.url)


def pay(api: Api, order_id: str, payment_id: str = "pay_1", event_id: str = "evt-1", **changes: Any):
    body = {
        "event_id": event_id,
        "payment_id": payment_id,
        "order_id": order_id,
        "status": "succeeded",
        "amount": 3980.0,
        **changes,
    }
    raw, headers = signed_callback(body)
    return api.call("POST", CALLBACK, raw=raw, headers=headers)


def test_callback_pays_the_waiting_order_once(prepaid_shop: Api) -> None:
    order = prepaid_shop.post("/v1/orders", courier_order("pay-1", payment=PENDING)).body
    assert order["status"] == "awaiting_payment" and order["payment"]["status"] == "pending"
    assert prepaid_shop.event(order["order_id"], "pick", expect=409).body["allowed_events"] == [
        "cancel",
        "pay",
        "remind",
    ]

    answer = pay(prepaid_shop, order["order_id"])
    assert answer.status == 200 and answer.body["applied"] is True
    paid = prepaid_shop.wait_for(order["order_id"], "confirmed")
    assert paid["payment"]["status"] == "paid" and paid["payment"]["payment_id"] == "pay_1"
    assert (paid["timeline"][-1]["event"], paid["timeline"][-1]["source"]) == ("pay", "acquirer:acquirer")

    again = pay(prepaid_shop, order["order_id"], event_id="evt-1-retry")  # the acquirer retries its callback
    assert again.status == 200 and again.body["applied"] is False
    assert prepaid_shop.order(order["order_id"])["timeline"] == paid["timeline"]
    for event in ("pick", "pack", "ship"):
        prepaid_shop.event(order["order_id"], event)
    assert prepaid_shop.wait_for(order["order_id"], "shipped")["payment"].get("refund_id") is None


def test_a_wrong_or_missing_signature_is_401_and_changes_nothing(prepaid_shop: Api) -> None:
    order_id = prepaid_shop.post("/v1/orders", courier_order("pay-2", payment=PENDING)).body["order_id"]
    body = {"event_id": "e", "payment_id": "p", "order_id": order_id, "status": "succeeded", "amount": 1}
    raw, headers = signed_callback(body, secret="not-the-secret")
    forged = prepaid_shop.call("POST", CALLBACK, raw=raw, headers=headers)
    assert forged.status == 401 and forged.body["error"] == "unauthorized"
    unsigned = prepaid_shop.call("POST", CALLBACK, raw=raw, headers={"content-type": "application/json"})
    assert unsigned.status == 401
    assert prepaid_shop.call("POST", "/v1/payments/other/callback", raw=raw, headers=headers).status == 404
    garbage, signed = signed_callback({"order_id": order_id})
    invalid = prepaid_shop.call("POST", CALLBACK, raw=garbage, headers=signed)
    assert invalid.status == 422 and invalid.body["error"] == "validation_error"
    order = prepaid_shop.order(order_id)
    assert order["status"] == "awaiting_payment" and order["payment"]["status"] == "pending"


def test_no_payment_in_time_sends_a_new_link_then_cancels_and_releases(impatient: Api, acquirer: FakeAcquirer) -> None:
    acquirer.fail_next(429, retry_after="0")
    acquirer.fail_next(503)
    order_id = impatient.post("/v1/orders", courier_order("pay-3", payment=PENDING)).body["order_id"]
    assert impatient.stock("SKU-A", "wh-1")["reserved"] == 2
    cancelled = impatient.wait_for(order_id, "cancelled", timeout=15)
    assert [(t["status"], t["event"], t["source"]) for t in cancelled["timeline"]] == [
        ("awaiting_payment", "create", "channel:web"),
        ("payment_reminded", "remind", "deadline"),
        ("cancelled", "cancel", "deadline"),
    ]
    links = acquirer.served("/v1/payments")
    assert len(links) == 3 and {r["idempotency_key"] for r in links} == {f"{order_id}:link:1"}  # 2 retried
    assert cancelled["payment"]["link_url"] == f"https://pay.example/{order_id}/1"
    assert impatient.stock("SKU-A", "wh-1") == {"on_hand": 5, "reserved": 0, "available": 5}
    assert acquirer.served("/v1/refunds") == []  # never paid: nothing to refund


def test_paying_the_repeat_link_carries_on(impatient: Api) -> None:
    order_id = impatient.post("/v1/orders", courier_order("pay-4", payment=PENDING)).body["order_id"]
    impatient.wait_for(order_id, "payment_reminded", timeout=10)
    # AwaitAwaitingPayment is capped, PaymentReminded too: pay within its four seconds
    assert pay(impatient, order_id).status == 200
    order = impatient.wait_for(order_id, "confirmed")
    assert order["payment"]["status"] == "paid"


def test_cancel_after_payment_refunds(prepaid_shop: Api, acquirer: FakeAcquirer) -> None:
    order_id = prepaid_shop.post("/v1/orders", courier_order("pay-5", payment=PENDING)).body["order_id"]
    pay(prepaid_shop, order_id, payment_id="pay_77")
    prepaid_shop.wait_for(order_id, "confirmed")
    acquirer.fail_next(502)
    prepaid_shop.event(order_id, "cancel")
    prepaid_shop.wait_for(order_id, "cancelled")
    deadline = time.monotonic() + 5  # the refund follows the release in the same lifecycle step
    while prepaid_shop.order(order_id)["payment"].get("refund_id") != "ref_1":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    refunds = acquirer.served("/v1/refunds")
    assert [r["body"] for r in refunds] == [{"payment_id": "pay_77", "amount": "3980.00"}] * 2  # 502, then done
    assert {r["idempotency_key"] for r in refunds} == {f"{order_id}:refund"}
    assert prepaid_shop.stock("SKU-A", "wh-1")["reserved"] == 0


@pytest.mark.parametrize("payment", [{"method": "cod"}, {"method": "on_pickup"}, {"method": "prepaid"}])
def test_cash_on_delivery_pay_on_pickup_and_already_paid_skip_the_wait(prepaid_shop: Api, payment: dict) -> None:
    order = prepaid_shop.post("/v1/orders", courier_order(f"pay-{payment['method']}", payment=payment)).body
    assert order["status"] == "reserved"


def test_pending_is_refused_where_no_payment_is_awaited(prepaid_shop: Api) -> None:
    cod = prepaid_shop.post("/v1/orders", courier_order("pay-bad", payment={"method": "cod", "status": "pending"}))
    assert cod.status == 422
    in_store = prepaid_shop.post(
        "/v1/orders",
        courier_order("pay-ris", payment=PENDING, delivery={"method": "reserve_in_store", "location_id": "store-1"}),
    )
    assert in_store.status == 422 and in_store.body["details"][0]["loc"] == ["body", "payment", "status"]
    assert prepaid_shop.get("/v1/orders").body["items"] == []


def test_an_acquirer_outage_longer_than_the_clients_retries_is_retried_by_the_state_machine(
    impatient: Api, acquirer: FakeAcquirer
) -> None:
    order_id = impatient.post("/v1/orders", courier_order("pay-6", payment=PENDING)).body["order_id"]
    pay(impatient, order_id)
    impatient.wait_for(order_id, "confirmed")
    acquirer.fail_next(503, retry_after="0", times=5)  # the first invocation gives up after 4 attempts
    impatient.event(order_id, "cancel")
    deadline = time.monotonic() + 10
    while (order := impatient.order(order_id))["payment"].get("refund_id") is None:
        assert time.monotonic() < deadline, order
        time.sleep(0.05)
    assert order["status"] == "cancelled" and order.get("attention") is None
    assert len(acquirer.served("/v1/refunds")) == 6
