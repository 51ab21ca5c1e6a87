"""Lifecycle actions end to end: orders over HTTP, the real state machines announcing OrderStatusEntered,
moto's EventBridge routing it to OrderActionsQueue, OrderActionsFunction calling fake partners on 127.0.0.1
(each request checked against the partner's published spec). What each fake received is asserted, and
what the order shows (`actions`, the timeline, attention, the operator task)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from common import secrets
from common.clock import utc_moment
from common.config import settings
from notifications.adapters.sms_ru import ATTEMPTS as SMS_ATTEMPTS
from notifications.adapters.sms_ru import api_id_parameter
from oms_local.runtime import LocalHub
from tests.fakes.partners import FakeCdek, FakeOzon, FakeYandexMarket
from tests.fakes.server import serve
from tests.fakes.sms_ru import API_ID, Failure, FakeSmsRu
from tests.support import builders
from tests.support.api import Api
from tests.support.partners import market_channel, marketplace_channels, ozon, queue_depth, wildberries_channel
from tests.support.waiting import wait_until
from tests.support.workflows import action, place, storefront_order, walk

BOTH_MEDIA = {"sms": True, "email": True}
POSTING = "24219509-0020-1"  # tests/events/ozon_new_posting.json
CAMPAIGN = 21621656


@pytest.fixture
def hub() -> Iterator[LocalHub]:
    """The hub, with the actions' first backoff at 1 s (10 s on a stack) so that a retry is seen."""
    with LocalHub() as running:
        os.environ["ACTIONS_BACKOFF_SECONDS"] = "1"
        settings.cache_clear()
        yield running
    os.environ.pop("ACTIONS_BACKOFF_SECONDS", None)
    settings.cache_clear()


@pytest.fixture
def ozon_shop(api: Api) -> Iterator[tuple[Api, FakeOzon]]:
    """Channel ozon on a fake Ozon that holds every posting pushed to the hub; wh-1 has 10 x SKU-A."""
    fake = FakeOzon()
    with serve(fake.app()) as url:
        yield marketplace_channels(api, url), fake


def ozon_order(api: Api) -> str:
    answer = ozon(api.hub, "ozon_new_posting.json")
    assert answer.status == 200, answer.body
    order_id = next(o["order_id"] for o in api.get("/v1/orders", "channel=ozon").body["items"])
    api.wait_for(order_id, "reserved")
    return order_id


def action_entries(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in order["timeline"] if e["source"] == "actions"]


def test_ship_from_store_opens_the_store_task_once(api: Api) -> None:
    """The trivial action, proving the path: the store's task opened once, on the timeline."""
    builders.every_method_shop(api)
    order_id = place(api, "ship_from_store", "sfs-actions-1")
    walk(api, order_id, [("confirm", "confirmed")])
    record = action(api, order_id, "open_task")
    assert record["attempts"] == 1
    assert record["on_status"] == "confirmed" and record["entry"] == 1
    task_id = record["result"]["task_id"]
    tasks = [t for t in api.get("/v1/tasks").body["items"] if t["task_id"] == task_id]
    assert tasks and tasks[0]["kind"] == "store_order" and tasks[0]["order_id"] == order_id
    assert "store-1" in tasks[0]["reason"]
    order = api.order(order_id)
    [entry] = action_entries(order)
    assert entry["event"] == "action_done" and entry["status"] == "confirmed"
    assert "open_task (confirmed #1, attempt 1)" in entry["note"]


def announce_again(hub: LocalHub, order: dict[str, Any], actions: list[str]) -> None:
    """The lifecycle's announcement of the order's current status delivered once more (as EventBridge or SQS
    may: the same event, announced just before the status was written), and the queue drained after it."""
    entered = next(e for e in reversed(order["timeline"]) if e["source"] != "actions")
    announced = (utc_moment(entered["at"]) - timedelta(milliseconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "version": "0",
        "id": "dup-1",
        "detail-type": "OrderStatusEntered",
        "source": "oms-hub.lifecycle",
        "account": "123456789012",
        "time": announced,
        "region": hub.template.region,
        "resources": [],
        "detail": {
            "order_id": order["order_id"],
            "channel": order["channel"],
            "workflow": order["workflow"],
            "status": order["status"],
            "actions": actions,
        },
    }
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{hub.template.stack}-OrderActionsQueue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
    wait_until(lambda: queue_depth(hub, "OrderActionsQueue") == 0, 15, "the duplicate taken")


def test_ozon_packed_ships_the_posting_once_and_may_then_ship(ozon_shop: tuple[Api, FakeOzon]) -> None:
    api, fake = ozon_shop
    order_id = ozon_order(api)
    walk(api, order_id, [("pack", "packed")])
    record = action(api, order_id, "confirm_to_marketplace")
    assert record["attempts"] == 1 and record["result"]["postings"] == [POSTING]
    assert record["result"]["label_url"].endswith("/labels/7001.pdf")  # where the label is kept, as CDEK's
    assert fake.calls("/v4/posting/fbs/ship") == [
        {"posting_number": POSTING, "packages": [{"products": [{"product_id": 147451959, "quantity": 2}]}]}
    ]
    # The package label, asked for once the posting was shipped (a task, read until its file is formed).
    assert fake.calls("/v3/posting/fbs/package-label/create") == [{"posting_numbers": [POSTING]}]
    assert fake.calls("/v2/posting/fbs/package-label/get") == [{"task_id": 7001}]
    # The same announcement again (a duplicate delivery) asks Ozon nothing more and records nothing more.
    before = api.order(order_id)
    announce_again(api.hub, before, ["confirm_to_marketplace"])
    assert len(fake.calls("/v4/posting/fbs/ship")) == 1
    after = api.order(order_id)
    assert after["actions"] == before["actions"] and after["timeline"] == before["timeline"]
    walk(api, order_id, [("ship", "shipped")])
    # Ozon collects by itself: nothing to send on hand-over, recorded as skipped, not on the timeline.
    assert action(api, order_id, "hand_over_to_marketplace", "skipped")["attempts"] == 1
    events = [e["event"] for e in action_entries(api.order(order_id))]
    assert events == ["action_done"]


@pytest.mark.parametrize("status", [503, 429])
def test_ozon_failing_for_a_while_is_retried_with_backoff_without_holding_the_lifecycle(
    ozon_shop: tuple[Api, FakeOzon], status: int
) -> None:
    api, fake = ozon_shop
    order_id = ozon_order(api)
    fake.fail(status, times=3)  # one attempt's three tries
    walk(api, order_id, [("pack", "packed")])
    retrying = action(api, order_id, "confirm_to_marketplace", "retrying")
    assert f"HTTP {status}" in retrying["last_error"]
    record = action(api, order_id, "confirm_to_marketplace")
    assert record["attempts"] == 2 and record["result"]["postings"] == [POSTING]
    assert record["result"]["label_url"]
    assert len(fake.calls("/v4/posting/fbs/ship")) == 1
    events = [e["event"] for e in action_entries(api.order(order_id))]
    assert events == ["action_retrying", "action_done"]
    walk(api, order_id, [("ship", "shipped")])


def test_an_expired_ozon_key_is_read_again_and_the_attempt_goes_on(ozon_shop: tuple[Api, FakeOzon]) -> None:
    api, fake = ozon_shop
    order_id = ozon_order(api)
    fake.fail(401)  # the key was rotated: the credentials are read again and the call sent again
    walk(api, order_id, [("pack", "packed")])
    record = action(api, order_id, "confirm_to_marketplace")
    assert record["attempts"] == 1 and record["last_error"] is None
    assert len(fake.calls("/v4/posting/fbs/ship")) == 1


def test_ozon_ship_failed_sets_attention_opens_a_task_and_holds_ship(ozon_shop: tuple[Api, FakeOzon]) -> None:
    api, fake = ozon_shop
    order_id = ozon_order(api)
    fake.substatus = "ship_failed"
    walk(api, order_id, [("pack", "packed")])
    record = action(api, order_id, "confirm_to_marketplace", "failed")
    assert record["attempts"] == 1 and "ship_failed" in record["last_error"]
    order = api.order(order_id)
    assert order["attention"] == "action_failed" and order["status"] == "packed"
    [task] = [t for t in api.get("/v1/tasks").body["items"] if t["kind"] == "action_failed"]
    assert task["order_id"] == order_id and task["action"] == "confirm_to_marketplace"
    assert "ship_failed" in task["reason"]
    refused = api.event(order_id, "ship", expect=409).body
    assert refused["error"] == "action_pending" and refused["status"] == "packed"
    assert refused["actions"] == [
        {"name": "confirm_to_marketplace", "status": "failed", "last_error": record["last_error"]}
    ]
    assert api.order(order_id)["status"] == "packed"  # nothing changed


def test_an_ozon_label_not_formed_yet_is_asked_for_again_and_ship_waits_for_it(ozon_shop: tuple[Api, FakeOzon]) -> None:
    api, fake = ozon_shop
    order_id = ozon_order(api)
    fake.label_forming = 6  # two attempts' three reads each: Ozon forms a label 45-60 s after the ship call
    walk(api, order_id, [("pack", "packed")])
    retrying = action(api, order_id, "confirm_to_marketplace", "retrying")
    assert "not formed the label" in retrying["last_error"] and retrying["result"] == {"postings": [POSTING]}
    assert api.event(order_id, "ship", expect=409).body["error"] == "action_pending"
    record = action(api, order_id, "confirm_to_marketplace")
    assert record["attempts"] == 3 and record["result"]["label_url"].endswith("/labels/7005.pdf")
    assert len(fake.calls("/v4/posting/fbs/ship")) == 1  # the later attempts found the posting shipped
    assert len(fake.calls("/v3/posting/fbs/package-label/create")) == 3
    walk(api, order_id, [("ship", "shipped")])


def test_an_ozon_label_refused_puts_the_order_in_front_of_an_operator(ozon_shop: tuple[Api, FakeOzon]) -> None:
    api, fake = ozon_shop
    order_id = ozon_order(api)
    fake.label_refusals[POSTING] = "posting is in arbitration"
    walk(api, order_id, [("pack", "packed")])
    record = action(api, order_id, "confirm_to_marketplace", "failed")
    assert record["attempts"] == 1 and "posting is in arbitration" in record["last_error"]
    order = api.order(order_id)
    assert order["attention"] == "action_failed"
    [task] = [t for t in api.get("/v1/tasks").body["items"] if t["kind"] == "action_failed"]
    assert task["order_id"] == order_id and "posting is in arbitration" in task["reason"]
    assert len(fake.calls("/v4/posting/fbs/ship")) == 1


def test_a_seller_cancellation_after_packing_cancels_the_posting_at_ozon(ozon_shop: tuple[Api, FakeOzon]) -> None:
    api, fake = ozon_shop
    order_id = ozon_order(api)
    walk(api, order_id, [("pack", "packed")])
    action(api, order_id, "confirm_to_marketplace")
    walk(api, order_id, [("cancel", "cancelled")])
    record = action(api, order_id, "cancel_at_marketplace")
    assert record["result"] == {"cancelled": POSTING}
    assert fake.cancelled[POSTING]["cancel_reason_id"] == 402
    assert fake.cancelled[POSTING]["cancel_reason_message"]


def test_a_cancellation_ozon_reported_is_not_sent_back(ozon_shop: tuple[Api, FakeOzon]) -> None:
    api, fake = ozon_shop
    order_id = ozon_order(api)
    assert ozon(api.hub, "ozon_posting_cancelled.json").status == 200
    api.wait_for(order_id, "cancelled")
    record = action(api, order_id, "cancel_at_marketplace", "skipped")
    assert record["result"] == {"skipped": "the marketplace reported the move itself"}
    assert fake.cancelled == {}


@pytest.fixture
def market_shop(api: Api) -> Iterator[tuple[Api, FakeYandexMarket]]:
    """Channel ym (Yandex Market) on a fake, wh-1 its campaign's warehouse."""
    builders.every_method_shop(api)
    fake = FakeYandexMarket()
    with serve(fake.app()) as url:
        market_channel(api, url, CAMPAIGN)
        yield api, fake


def test_market_hears_ready_to_ship_when_packed_and_the_shops_cancellation(
    market_shop: tuple[Api, FakeYandexMarket],
) -> None:
    api, fake = market_shop
    order_id = storefront_order(api, "ym", "5001")
    walk(api, order_id, [("pack", "packed")])
    assert action(api, order_id, "confirm_to_marketplace")["result"] == {
        "campaign": CAMPAIGN,
        "status": "PROCESSING/READY_TO_SHIP",
    }
    walk(api, order_id, [("cancel", "cancelled")])
    action(api, order_id, "cancel_at_marketplace")
    path = f"/v2/campaigns/{CAMPAIGN}/orders/5001/status"
    assert fake.calls(path) == [
        {"order": {"status": "PROCESSING", "substatus": "READY_TO_SHIP"}},
        {"order": {"status": "CANCELLED", "substatus": "SHOP_FAILED"}},
    ]


def test_wildberries_tasks_share_the_open_supply_which_is_delivered_once_and_a_cancel_reaches_wb(api: Api) -> None:
    builders.every_method_shop(api)
    with wildberries_channel(api) as fake:
        first, second = storefront_order(api, "wb", "7001"), storefront_order(api, "wb", "7002")
        for order_id in (first, second):
            walk(api, order_id, [("pack", "packed")])
            assert action(api, order_id, "confirm_to_marketplace")["result"] == {"supply_id": "WB-GI-1"}
        assert len(fake.calls("/api/v3/supplies")) == 1
        assert fake.supplies == {"WB-GI-1": {7001, 7002}}
        for order_id in (first, second):
            walk(api, order_id, [("ship", "shipped")])
            action(api, order_id, "hand_over_to_marketplace")
        assert fake.delivered == ["WB-GI-1"]  # once, for both
        third = storefront_order(api, "wb", "7003")
        walk(api, third, [("pack", "packed")])
        assert action(api, third, "confirm_to_marketplace")["result"] == {"supply_id": "WB-GI-2"}  # a new one
        walk(api, third, [("cancel", "cancelled")])
        action(api, third, "cancel_at_marketplace")
        assert fake.cancelled == [7003]


SENDER = "orders@shop.example"


def test_the_customer_is_told_by_sms_and_email_and_a_failed_sms_alone_goes_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    sms = FakeSmsRu()
    with serve(sms.app()) as url:
        monkeypatch.setenv("SMS_GATEWAY_URL", url)
        monkeypatch.setenv("NOTIFY_EMAIL_FROM", SENDER)
        settings.cache_clear()
        secrets.put_secret(api_id_parameter(), API_ID)
        boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
        builders.every_method_shop(api)
        customer = {"name": "Anna", "phone": "+79165551234", "email": "anna@example.ru"}
        order_id = place(api, "ship_from_store", "sfs-notify-1", customer={**customer, "consent": BOTH_MEDIA})
        walk(api, order_id, [("confirm", "confirmed"), ("pick", "picked"), ("pack", "packed")])
        sms.fail_next(Failure(http_status=503), times=SMS_ATTEMPTS)  # the gateway down for one attempt
        walk(api, order_id, [("ship", "shipped")])
        retrying = action(api, order_id, "notify_customer", "retrying")
        assert [m["medium"] for m in retrying["result"]["media"] if m["outcome"] == "sent"] == ["email"]
        record = action(api, order_id, "notify_customer")
        assert record["attempts"] == 2
        assert len(sms.messages) == 1 and sms.messages[0]["to"] == "79165551234"
        emails = ses_backends[DEFAULT_ACCOUNT_ID][api.hub.template.region].sent_messages
        assert len(emails) == 1  # sent on the first attempt, not again with the SMS
        text = json.dumps(api.order(order_id)["actions"])
        assert "79165551234" not in text and "anna@example.ru" not in text  # contacts masked in the record


@pytest.fixture
def cdek_shop(api: Api) -> Iterator[tuple[Api, FakeCdek]]:
    """The hub's CDEK account on a fake (store-1 and wh-1 hand parcels in at office MSK5), SKU-A in the
    catalog."""
    builders.every_method_shop(api)
    product = {"name": "Mug", "weight_grams": 400, "length_mm": 120, "width_mm": 90, "height_mm": 100}
    assert api.put("/v1/products/SKU-A", product).status == 200
    fake = FakeCdek()
    with serve(fake.app()) as url:
        account = {
            "kind": "cdek",
            "name": "CDEK",
            "api_url": url,
            "credentials": {"client_id": "cdek-id", "client_secret": "cdek-secret"},
            "warehouses": [{"partner_warehouse_id": "MSK5", "locations": ["store-1", "wh-1"]}],
        }
        assert api.put("/v1/channels/cdek-account", account).status == 200
        yield api, fake


def test_a_courier_order_ships_once_cdek_has_registered_it_and_its_cancel_deletes_it(
    cdek_shop: tuple[Api, FakeCdek],
) -> None:
    api, fake = cdek_shop
    order_id = place(api, "courier", "courier-cdek-1")
    walk(api, order_id, [("confirm", "confirmed"), ("pick", "picked"), ("pack", "packed")])
    record = action(api, order_id, "create_shipment")
    assert record["result"]["label_url"]
    [registered] = fake.orders
    assert (registered["number"], registered["shipment_point"]) == (order_id, "MSK5")
    walk(api, order_id, [("ship", "shipped")])
    other = place(api, "courier", "courier-cdek-2")
    walk(api, other, [("confirm", "confirmed"), ("pick", "picked"), ("pack", "packed")])
    action(api, other, "create_shipment")
    walk(api, other, [("cancel", "cancelled")])
    deleted = action(api, other, "cancel_shipment")["result"]["deleted"]
    assert deleted == fake.deleted and len(fake.orders) == 2


def test_a_courier_order_cdek_cannot_take_is_refused_ship_with_409_and_stays_packed(
    cdek_shop: tuple[Api, FakeCdek],
) -> None:
    api, fake = cdek_shop
    assert api.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-B", "on_hand": 1}]}).status == 200
    order_id = place(api, "courier", "courier-cdek-3", lines=[{"sku": "SKU-B", "qty": 1, "price": 100}])
    walk(api, order_id, [("confirm", "confirmed"), ("pick", "picked"), ("pack", "packed")])
    assert "SKU-B" in action(api, order_id, "create_shipment", "failed")["last_error"]  # not in the catalog
    refused = api.event(order_id, "ship", expect=409)
    assert refused.body["error"] == "action_pending" and refused.body["actions"][0]["status"] == "failed"
    assert api.order(order_id)["status"] == "packed"
    assert fake.orders == []


@pytest.mark.parametrize("workflow", ["ship_from_store", "pickup_point", "post"])
def test_ship_waits_for_the_cdek_registration_in_every_workflow_that_registers_one(
    cdek_shop: tuple[Api, FakeCdek], monkeypatch: pytest.MonkeyPatch, workflow: str
) -> None:
    api, fake = cdek_shop
    monkeypatch.setenv("ACTIONS_BACKOFF_SECONDS", "3")  # long enough to be refused while it waits
    settings.cache_clear()
    order_id = place(api, workflow, f"{workflow}-gate-1")
    walk(api, order_id, [("confirm", "confirmed"), ("pick", "picked")])
    fake.fail(503, times=3)  # CDEK down for the first attempt's three tries
    walk(api, order_id, [("pack", "packed")])
    assert "HTTP 503" in action(api, order_id, "create_shipment", "retrying")["last_error"]
    refused = api.event(order_id, "ship", expect=409).body
    assert refused["error"] == "action_pending" and refused["status"] == "packed"
    assert [(a["name"], a["status"]) for a in refused["actions"]] == [("create_shipment", "retrying")]
    assert api.order(order_id)["status"] == "packed"
    assert action(api, order_id, "create_shipment")["attempts"] == 2
    walk(api, order_id, [("ship", "shipped")])
    assert [o["number"] for o in fake.orders] == [order_id]  # registered once


def test_a_packed_store_order_is_registered_with_cdek_and_its_cancellation_deletes_it(
    cdek_shop: tuple[Api, FakeCdek],
) -> None:
    api, fake = cdek_shop
    order_id = place(api, "ship_from_store", "sfs-cdek-1")
    walk(api, order_id, [("confirm", "confirmed"), ("pick", "picked"), ("pack", "packed")])
    record = action(api, order_id, "create_shipment")
    assert record["result"]["uuid"] and record["result"]["cdek_number"] and record["result"]["label_url"]
    [registered] = fake.orders
    assert registered["number"] == order_id and registered["tariff_code"] == 137
    assert registered["shipment_point"] == "MSK5" and registered["to_location"]["address"]
    assert registered["packages"][0]["weight"] >= 400
    walk(api, order_id, [("cancel", "cancelled")])
    assert action(api, order_id, "cancel_shipment")["result"] == {"deleted": [record["result"]["uuid"]]}
    assert fake.deleted == [record["result"]["uuid"]]


def test_an_operator_retries_a_failed_action_once_its_cause_is_fixed(cdek_shop: tuple[Api, FakeCdek]) -> None:
    api, fake = cdek_shop
    assert api.put("/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-B", "on_hand": 1}]}).status == 200
    order_id = place(api, "courier", "courier-retry-1", lines=[{"sku": "SKU-B", "qty": 1, "price": 100}])
    walk(api, order_id, [("confirm", "confirmed"), ("pick", "picked"), ("pack", "packed")])
    action(api, order_id, "create_shipment", "failed")  # SKU-B is not in the catalog
    [task] = [t for t in api.get("/v1/tasks").body["items"] if t["kind"] == "action_failed"]
    retry = f"/v1/orders/{order_id}/actions/create_shipment/retry"
    assert api.post("/v1/orders/ord_nope/actions/create_shipment/retry").status == 404
    assert api.post(f"/v1/orders/{order_id}/actions/hand_over_to_marketplace/retry").status == 404
    refused = api.post(f"/v1/orders/{order_id}/actions/loyalty_hold/retry")
    assert (refused.status, refused.body["action"]) == (409, {"name": "loyalty_hold", "status": "skipped"})
    product = {"name": "Plate", "weight_grams": 300, "length_mm": 200, "width_mm": 200, "height_mm": 30}
    assert api.put("/v1/products/SKU-B", product).status == 200  # the operator fixes the cause
    queued = api.post(retry)
    assert queued.status == 202 and queued.body["status"] == "retrying", queued.body
    record = action(api, order_id, "create_shipment")
    assert record["attempts"] == 2 and record["result"]["label_url"]
    order = api.order(order_id)
    assert order.get("attention") is None
    assert task["task_id"] not in {t["task_id"] for t in api.get("/v1/tasks").body["items"]}
    assert api.post(retry).status == 409  # done: nothing to retry
    walk(api, order_id, [("ship", "shipped")])
    assert [o["number"] for o in fake.orders] == [order_id]


def test_a_line_missing_from_the_catalog_is_an_operators_task_and_nothing_is_registered(
    cdek_shop: tuple[Api, FakeCdek],
) -> None:
    api, fake = cdek_shop
    line = {"sku": "SKU-B", "qty": 1, "price": 100}
    assert api.put("/v1/stock/store-1", {"mode": "delta", "items": [{"sku": "SKU-B", "on_hand": 1}]}).status == 200
    order_id = place(api, "ship_from_store", "sfs-cdek-2", lines=[line])
    walk(api, order_id, [("confirm", "confirmed"), ("pick", "picked"), ("pack", "packed")])
    record = action(api, order_id, "create_shipment", "failed")
    assert "SKU-B" in record["last_error"]
    assert api.order(order_id)["attention"] == "action_failed"
    assert fake.orders == []
