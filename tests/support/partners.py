"""Partners calling the hub as they do: their webhook tokens and addresses, pushes without the API key,
the marketplace channels a test's hub is set up with, and a Wildberries channel on a fake API."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3

from oms_local.runtime import LocalHub
from tests.fakes.partners import FakeWildberries, ozon_pushed
from tests.fakes.server import serve
from tests.support.api import Answer, Api
from tests.support.sample_events import load_event

OZON_TOKEN = "ozon-webhook-token-1"
CDEK_TOKEN = "cdek-webhook-token-1"
YM_TOKEN = "ym-webhook-token-1"
YM_NETWORK = "5.45.192.0/18"  # one of Market's published ranges
YM_ADDRESS = "5.45.207.10"
OZON_CREDENTIALS = {"Client-Id": "836", "Api-Key": "ozon-key"}


def fast_retry_hub() -> LocalHub:
    """A hub whose failed queue message is visible again at once (not after the queue's visibility timeout)
    and whose retries wait a hundredth of their time."""
    return LocalHub(queue_retry_seconds=0, retry_time_scale=0.01)


def queue_depth(hub: LocalHub, logical_id: str) -> int:
    """Messages in the hub's queue `logical_id` (as the template names it), visible or in flight."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{hub.template.stack}-{logical_id}")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def market_channel(api: Api, api_url: str, campaign: int) -> None:
    """Channel ym (Yandex Market) with its API at `api_url`, wh-1 the warehouse of its campaign."""
    channel = {
        "kind": "yandex_market",
        "name": "Market",
        "api_url": api_url,
        "credentials": {"Api-Key": "ym-key"},
        "warehouses": [{"partner_warehouse_id": str(campaign), "locations": ["wh-1"]}],
    }
    assert api.put("/v1/channels/ym", channel).status == 200


def ozon_channel(api_url: str) -> dict[str, Any]:
    """Channel ozon as Ozon pushes to it (its webhook token) and the hub calls it (its API and keys)."""
    return {
        "kind": "ozon",
        "name": "Ozon FBS",
        "secret": OZON_TOKEN,
        "api_url": api_url,
        "credentials": OZON_CREDENTIALS,
    }


def marketplace_channels(api: Api, ozon_url: str) -> Api:
    """Warehouse wh-1 ships marketplace and courier orders (10 x SKU-A); channels ozon (its API at `ozon_url`,
    where the hub reads each pushed posting's prices), yandex, cdek, web."""
    assert (
        api.put(
            "/v1/locations/wh-1", {"name": "Warehouse", "kind": "warehouse", "capabilities": ["marketplace", "courier"]}
        ).status
        == 200
    )
    assert api.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": 10}]}).status == 200
    for channel, body in {
        "ozon": ozon_channel(ozon_url),
        "yandex": {"kind": "yandex_market", "name": "Market", "secret": YM_TOKEN, "allowed_ips": [YM_NETWORK]},
        "cdek": {"kind": "cdek", "name": "CDEK", "secret": CDEK_TOKEN},
        "web": {"kind": "web", "name": "Site"},
    }.items():
        assert api.put(f"/v1/channels/{channel}", body).status == 200
    return api


def push(
    hub: LocalHub,
    channel: str,
    payload: Any,
    *,
    token: str | None = None,
    path: str = "",
    headers: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
) -> Answer:
    """POST as the partner does: no API key, the channel's token in the URL (if given). Ozon holds the
    postings it pushes, so a fake Ozon learns each one."""
    try:
        sent = json.loads(payload) if isinstance(payload, bytes) else payload
    except ValueError:
        sent = None
    if isinstance(sent, dict):
        ozon_pushed(sent)
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    answer = hub.http(
        "POST",
        f"/v1/webhooks/{channel}{path}",
        query=f"token={token}" if token is not None else "",
        headers={"content-type": "application/json", **(headers or {})},
        body=raw,
        source_ip=source_ip,
    )
    text = answer.body.decode()
    return Answer(answer.status, answer.headers, json.loads(text) if text else None)


def ozon(hub: LocalHub, event: str | dict[str, Any], token: str = OZON_TOKEN, **overrides: Any) -> Answer:
    payload = {**(load_event(event) if isinstance(event, str) else event), **overrides}
    return push(hub, "ozon", payload, token=token)


@contextlib.contextmanager
def wildberries_channel(api: Api, channel_id: str = "wb") -> Iterator[FakeWildberries]:
    """A Wildberries channel whose API is a fake served on 127.0.0.1 (Wildberries is polled, never pushes)."""
    fake = FakeWildberries()
    with serve(fake.app()) as url:
        assert (
            api.put(
                f"/v1/channels/{channel_id}",
                {"kind": "wildberries", "name": "WB", "api_url": url, "credentials": {"token": "wb-token"}},
            ).status
            == 200
        )
        yield fake
