"""CDEK status webhooks and Yandex Market notifications (acknowledged, then applied from the queue)."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3

from oms_local.runtime import LocalHub
from orders.domain.models import order_id_for
from tests.support.api import Api
from tests.support.builders import courier_order
from tests.support.partners import CDEK_TOKEN, YM_ADDRESS, YM_TOKEN, push, queue_depth
from tests.support.sample_events import load_event
from tests.support.waiting import wait_until

YM_ORDER = order_id_for("yandex", "554433221")


def _shipped_courier_order(api: Api) -> str:
    order_id = api.post("/v1/orders", courier_order("web-77")).body["order_id"]
    for event in ("confirm", "pick", "pack"):
        api.event(order_id, event)
    api.wait_for(order_id, "packed")
    return order_id


def _cdek(hub: LocalHub, order_id: str, code: str, at: str, token: str = CDEK_TOKEN) -> Any:
    payload = load_event("cdek_order_status.json")
    payload["attributes"].update(number=order_id, code=code, status_date_time=at)
    return push(hub, "cdek", payload, token=token)


def test_cdek_moves_the_shipment_once_and_ignores_older_and_repeated_statuses(hub: LocalHub, market: Api) -> None:
    order_id = _shipped_courier_order(market)
    assert _cdek(hub, order_id, "TAKEN_BY_COURIER", "2026-11-27T10:00:00+0700").status == 200
    market.wait_for(order_id, "shipped")
    assert _cdek(hub, order_id, "DELIVERED", "2026-11-27T21:32:12+0700").status == 200
    delivered = market.wait_for(order_id, "delivered")
    assert delivered["timeline"][-1]["source"] == "partner:cdek"
    assert market.stock("SKU-A", "wh-1") == {"on_hand": 8, "reserved": 0, "available": 8}  # 2 units left
    # the same webhook again, and an older one late: nothing changes
    assert _cdek(hub, order_id, "DELIVERED", "2026-11-27T21:32:12+0700").status == 200
    assert _cdek(hub, order_id, "TAKEN_BY_COURIER", "2026-11-27T09:00:00+0700").status == 200
    assert market.order(order_id)["timeline"] == delivered["timeline"]


def test_cdek_with_a_wrong_token_is_refused(hub: LocalHub, market: Api) -> None:
    order_id = _shipped_courier_order(market)
    assert _cdek(hub, order_id, "TAKEN_BY_COURIER", "2026-11-27T10:00:00+0700", token="nope-nope-nope").status == 401
    time.sleep(0.2)
    assert market.order(order_id)["status"] == "packed"


def _market(
    hub: LocalHub, event: str | dict[str, Any], source_ip: str = YM_ADDRESS, token: str = YM_TOKEN, **overrides: Any
) -> Any:
    payload = {**(load_event(event) if isinstance(event, str) else event), **overrides}
    return push(hub, "yandex", payload, token=token, path="/notification", source_ip=source_ip)


def _queued_order(api: Api, order_id: str, status: str) -> dict[str, Any]:
    """An order created by the queue consumer: it exists once the message has been processed."""
    wait_until(lambda: api.get(f"/v1/orders/{order_id}").status == 200, timeout=10.0)
    return api.wait_for(order_id, status)


def test_market_notifications_are_acknowledged_then_applied_from_the_queue(hub: LocalHub, market: Api) -> None:
    ping = _market(hub, "ym_ping.json")
    assert ping.status == 200 and set(ping.body) == {"version", "name", "time"}
    created = _market(hub, "ym_order_created.json")
    assert created.status == 200 and set(created.body) == {"version", "name", "time"}
    assert _market(hub, "ym_order_created.json").status == 200  # Market's duplicate delivery
    order = _queued_order(market, YM_ORDER, "reserved")
    assert order["delivery"]["method"] == "marketplace" and order["external_id"] == "554433221"
    assert _market(hub, "ym_order_status_updated.json").status == 200
    wait_until(lambda: market.order(YM_ORDER)["status"] == "cancelled", timeout=10.0)
    assert market.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 0, "available": 10}
    assert [o["order_id"] for o in market.get("/v1/orders", "channel=yandex").body["items"]] == [YM_ORDER]
    wait_until(lambda: queue_depth(hub, "PartnerQueue") == 0, timeout=10.0)


def test_market_from_outside_its_published_ranges_or_without_the_token_is_refused(hub: LocalHub, market: Api) -> None:
    assert _market(hub, "ym_order_created.json", source_ip="203.0.113.9").status == 401
    assert _market(hub, "ym_order_created.json", token="wrong-token-00").status == 401
    assert _market(hub, "ym_order_created.json", source_ip="not-an-ip").status == 401
    time.sleep(0.3)
    assert market.get("/v1/orders", "channel=yandex").body["items"] == []
    assert queue_depth(hub, "PartnerQueue") == 0


def test_a_message_that_keeps_failing_goes_to_the_dlq_and_its_batch_mates_are_applied(
    hub: LocalHub, market: Api
) -> None:
    poison = {**load_event("ym_order_created.json"), "orderId": 1, "items": [{"offerId": "no such#sku", "count": 1}]}
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{hub.template.stack}-PartnerQueue")["QueueUrl"]
    # One batch holding both: as the webhook would have queued them.
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {
                "Id": str(n),
                "MessageBody": json.dumps(
                    {"channel_id": "yandex", "body": json.dumps(body), "received_at": "2026-11-25T07:00:00Z"}
                ),
            }
            for n, body in enumerate([poison, load_event("ym_order_created.json")])
        ],
    )
    _queued_order(market, YM_ORDER, "reserved")
    wait_until(lambda: queue_depth(hub, "PartnerDeadLetterQueue") == 1, timeout=10.0)
    assert queue_depth(hub, "PartnerQueue") == 0
    dead = sqs.receive_message(
        QueueUrl=sqs.get_queue_url(QueueName=f"{hub.template.stack}-PartnerDeadLetterQueue")["QueueUrl"]
    )["Messages"][0]
    assert json.loads(json.loads(dead["Body"])["body"])["orderId"] == 1
    assert [o["order_id"] for o in market.get("/v1/orders", "channel=yandex").body["items"]] == [YM_ORDER]
