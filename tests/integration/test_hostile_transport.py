"""Hostile transport: what a caller or partner can do to a request before its fields are even read.

Deep nesting, odd or broken content types and encodings, huge bodies, forged list cursors. Each is
sent over HTTP as API Gateway hands it to the functions, and each must end in a clear 4xx JSON answer
(the partner's own format on webhooks) with nothing changed.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from oms_local.gateway import HttpRequest
from oms_local.runtime import LocalHub
from orders.domain.models import order_id_for
from partners.clients.registry import connector_for
from tests.support.api import Answer, Api
from tests.support.builders import courier_order
from tests.support.partners import OZON_TOKEN, YM_ADDRESS, YM_NETWORK, YM_TOKEN, fast_retry_hub, queue_depth
from tests.support.sample_events import load_event

DEPTH = 1000
DEEP_BODIES = {
    "object": b'{"a":' + b"[" * DEPTH + b"]" * DEPTH + b"}",
    "array": b"[" * DEPTH + b"]" * DEPTH,
}
ORDER = order_id_for("web", "keep-1")  # placed by the fixture: the order routes need one that exists
WRITES = [
    ("POST", "/v1/orders"),
    ("POST", f"/v1/orders/{ORDER}/events"),
    ("POST", f"/v1/orders/{ORDER}/returns"),
    ("POST", f"/v1/orders/{ORDER}/short-picks"),
    ("POST", f"/v1/orders/{ORDER}/substitutions"),
    ("PUT", "/v1/locations/wh-2"),
    ("PUT", "/v1/channels/web-2"),
    ("PUT", "/v1/stock/wh-1"),
    ("POST", "/v1/delivery-promise"),
    ("PUT", "/v1/carriers/fast"),
]


# One hub for the module: almost every test is refused and checks that nothing changed; the few that
# add orders use their own external ids. A hub per test would cost minutes of `make test`.
@pytest.fixture(scope="module")
def hub() -> Iterator[LocalHub]:
    with fast_retry_hub() as running:
        yield running


@pytest.fixture(scope="module")
def world(hub: LocalHub) -> Api:
    """wh-1 (courier and marketplace, 1,000 x SKU-A), channels web, ozon and yandex, one web order."""
    api = Api(hub)
    assert (
        api.put(
            "/v1/locations/wh-1", {"name": "Warehouse", "kind": "warehouse", "capabilities": ["courier", "marketplace"]}
        ).status
        == 200
    )
    assert api.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": 1000}]}).status == 200
    for channel, body in {
        "web": {"kind": "web", "name": "Site"},
        "ozon": {"kind": "ozon", "name": "Ozon FBS", "secret": OZON_TOKEN},
        "yandex": {"kind": "yandex_market", "name": "Market", "secret": YM_TOKEN, "allowed_ips": [YM_NETWORK]},
    }.items():
        assert api.put(f"/v1/channels/{channel}", body).status == 200
    placed = api.post("/v1/orders", courier_order("keep-1"))
    assert placed.status == 201 and placed.body["order_id"] == ORDER, placed.body
    return api


def _snapshot(api: Api) -> dict[str, Any]:
    """Everything a refused request could have changed, once what earlier tests started has settled
    (a queued notification becoming an order): two reads in a row agree."""
    previous, deadline = _read_all(api), time.monotonic() + 10
    while (current := _read_all(api)) != previous:
        assert time.monotonic() < deadline, "the hub did not settle"
        previous = current
        time.sleep(0.1)
    return current


def _read_all(api: Api) -> dict[str, Any]:
    return {
        "orders": [(o["order_id"], o["status"]) for o in api.get("/v1/orders", "limit=100").body["items"]],
        "stock": api.stock("SKU-A", "wh-1"),
        "locations": api.get("/v1/locations").body,
        "channels": api.get("/v1/channels").body,
        "carriers": api.get("/v1/carriers").body,
        "order": api.order(ORDER)["timeline"],
        "queued": queue_depth(api.hub, "PartnerQueue"),
    }


def _is_error(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)


def push(
    hub: LocalHub,
    channel: str,
    raw: bytes | dict[str, Any],
    *,
    token: str,
    path: str = "",
    source_ip: str = "127.0.0.1",
) -> Answer:
    """POST as the partner does: no API key, the channel's token in the URL, the body as given."""
    body = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
    answer = hub.http(
        "POST",
        f"/v1/webhooks/{channel}{path}",
        query=f"token={token}",
        headers={"content-type": "application/json"},
        body=body,
        source_ip=source_ip,
    )
    return Answer(answer.status, answer.headers, json.loads(answer.body) if answer.body else None)


def _shape(body: Any) -> Any:
    return {key: _shape(value) for key, value in body.items()} if isinstance(body, dict) else type(body).__name__


def _partners_error(kind: str, answer: Answer, status: int) -> bool:
    """The answer is `status` in the partner's own error format (as its connector writes errors)."""
    expected = connector_for(kind).error(status, "some_code", "some message", []).body
    return (
        answer.status == status
        and _shape(answer.body).keys() == _shape(expected).keys()
        and all(not isinstance(value, dict) or set(value) <= set(answer.body[key]) for key, value in expected.items())
    )


def _ozon_error(body: Any) -> bool:
    return _partners_error("ozon", Answer(400, {}, body), 400)


# ------------------------------------------------------------------ nesting


@pytest.mark.parametrize("shape", sorted(DEEP_BODIES))
def test_deeply_nested_json_on_every_write_route_is_refused_and_changes_nothing(world: Api, shape: str) -> None:
    before = _snapshot(world)
    for method, path in WRITES:
        answer = world.call(method, path, raw=DEEP_BODIES[shape])
        assert answer.status in (400, 422), (method, path, answer.status, answer.body)
        assert _is_error(answer.body), (path, answer.body)
    assert _snapshot(world) == before


@pytest.mark.parametrize("shape", sorted(DEEP_BODIES))
def test_deeply_nested_webhooks_are_400_in_the_partners_format(hub: LocalHub, world: Api, shape: str) -> None:
    before = _snapshot(world)
    ozon = push(hub, "ozon", DEEP_BODIES[shape], token=OZON_TOKEN)
    assert _partners_error("ozon", ozon, 400), ozon
    market = push(hub, "yandex", DEEP_BODIES[shape], token=YM_TOKEN, path="/notification", source_ip=YM_ADDRESS)
    assert _partners_error("yandex_market", market, 400), market
    assert _snapshot(world) == before


def test_nesting_within_the_limit_is_read_as_before(hub: LocalHub, world: Api) -> None:
    """The limit is far above any real body: Market may add a field 60 levels deep, which is ignored."""
    body = {**load_event("ym_order_created.json"), "orderId": 7001, "extra": json.loads("[" * 60 + "]" * 60)}
    answer = push(hub, "yandex", body, token=YM_TOKEN, path="/notification", source_ip=YM_ADDRESS)
    assert answer.status == 200, answer.body
    _wait_for_order(world, order_id_for("yandex", "7001"))


# ------------------------------------------------------------------ content types and encodings


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/mixed",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
        "text/plain; charset=utf-8",
        "application/octet-stream",
        ";;;",
        "application/json\x00",
        "application/jsonp",
    ],
)
def test_a_body_sent_as_anything_but_json_is_415_and_changes_nothing(world: Api, content_type: str) -> None:
    before = _snapshot(world)
    for method, path in WRITES:
        answer = world.call(
            method, path, raw=json.dumps(courier_order("ct-1")).encode(), headers={"content-type": content_type}
        )
        assert answer.status == 415, (content_type, method, path, answer.status, answer.body)
        assert answer.body["error"] == "unsupported_media_type"
    assert _snapshot(world) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=UTF-8",
        'Application/JSON;charset="utf-8"',
        "application/merge-patch+json",
    ],
)
def test_json_in_utf8_by_any_spelling_is_taken(world: Api, content_type: str) -> None:
    answer = world.call(
        "POST", "/v1/orders", raw=json.dumps(courier_order("ct-ok")).encode(), headers={"content-type": content_type}
    )
    assert answer.status in (200, 201), (content_type, answer.body)


def test_a_write_without_a_content_type_is_read_as_json(world: Api) -> None:
    """Callers that send no Content-Type at all were served before: they still are."""
    answer = world.hub.http(
        "POST", "/v1/orders", headers={"x-api-key": world.hub.api_key}, body=json.dumps(courier_order("no-ct")).encode()
    )
    assert answer.status == 201, answer.body


@pytest.mark.parametrize("raw", [b"", b"   ", b"null", b"\xef\xbb\xbf{}", b"{", b"\xff\xfe\x00{"])
def test_empty_or_broken_bodies_are_422_and_change_nothing(world: Api, raw: bytes) -> None:
    before = _snapshot(world)
    for method, path in WRITES:
        answer = world.call(method, path, raw=raw)
        assert answer.status == 422, (raw, method, path, answer.status, answer.body)
        assert _is_error(answer.body), answer.body
    assert _snapshot(world) == before


def _gateway_event(
    hub: LocalHub,
    method: str,
    path: str,
    raw: str,
    *,
    base64_encoded: bool,
    query: str = "",
    content_type: str = "application/json",
) -> dict[str, Any]:
    """The proxy event API Gateway sends when it hands the body over base64-encoded (a binary media type)."""
    route, params = hub.gateway.match(method, path)
    assert route is not None
    headers = {"content-type": content_type, "x-api-key": hub.api_key}
    event = hub.gateway.proxy_event(route, params, HttpRequest(method, path, query, headers))
    event.update(body=raw, isBase64Encoded=base64_encoded)
    return event


def _invoke(hub: LocalHub, function: str, event: dict[str, Any]) -> tuple[int, Any]:
    answer = hub.invoke(function, event)
    return answer["statusCode"], json.loads(answer["body"])


def test_base64_bodies_are_decoded_and_broken_ones_refused(hub: LocalHub, world: Api) -> None:
    """API Gateway base64-encodes a body of a binary media type; the functions must read it, and refuse
    one that is not base64 or not UTF-8 once decoded, without a 5xx."""
    good = base64.b64encode(json.dumps(courier_order("b64-1")).encode()).decode()
    status, body = _invoke(
        hub, "OrdersApiFunction", _gateway_event(hub, "POST", "/v1/orders", good, base64_encoded=True)
    )
    assert status == 201, body
    before = _snapshot(world)
    for raw in [
        "%%%not base64%%%",
        base64.b64encode(b'{"channel": "\xff\xfe"}').decode(),
        base64.b64encode(DEEP_BODIES["array"]).decode(),
    ]:
        status, body = _invoke(
            hub, "OrdersApiFunction", _gateway_event(hub, "POST", "/v1/orders", raw, base64_encoded=True)
        )
        assert 400 <= status < 500 and _is_error(body), (raw[:20], status, body)
        status, body = _invoke(
            hub, "InventoryApiFunction", _gateway_event(hub, "PUT", "/v1/stock/wh-1", raw, base64_encoded=True)
        )
        assert 400 <= status < 500 and _is_error(body), (raw[:20], status, body)
        status, body = _invoke(
            hub,
            "WebhooksApiFunction",
            _gateway_event(hub, "POST", "/v1/webhooks/ozon", raw, base64_encoded=True, query=f"token={OZON_TOKEN}"),
        )
        assert 400 <= status < 500 and (_ozon_error(body) or _is_error(body)), (raw[:20], status, body)
    assert _snapshot(world) == before


def test_a_webhook_body_that_is_not_utf8_is_400_in_the_partners_format(hub: LocalHub, world: Api) -> None:
    before = _snapshot(world)
    raw = base64.b64encode(b'{"message_type": "TYPE_PING", "time": "\xff"}').decode()
    status, body = _invoke(
        hub,
        "WebhooksApiFunction",
        _gateway_event(hub, "POST", "/v1/webhooks/ozon", raw, base64_encoded=True, query=f"token={OZON_TOKEN}"),
    )
    assert status == 400 and _ozon_error(body), body
    assert _snapshot(world) == before


# ------------------------------------------------------------------ size


def _market_notification(padding: int, order: int = 7002) -> bytes:
    """A valid ORDER_CREATED notification grown by a field Market may add and the hub ignores."""
    return json.dumps({**load_event("ym_order_created.json"), "orderId": order, "comment": "x" * padding}).encode()


@pytest.mark.parametrize("padding", [300 * 1024, 1024 * 1024 + 1])
def test_a_market_notification_bigger_than_the_queue_takes_is_413_and_nothing_is_queued(
    hub: LocalHub, world: Api, padding: int
) -> None:
    before = _snapshot(world)
    answer = push(
        hub, "yandex", _market_notification(padding), token=YM_TOKEN, path="/notification", source_ip=YM_ADDRESS
    )
    assert _partners_error("yandex_market", answer, 413), answer
    assert _snapshot(world) == before


def test_a_market_notification_that_fits_the_queue_is_still_taken(hub: LocalHub, world: Api) -> None:
    answer = push(
        hub,
        "yandex",
        _market_notification(200 * 1024, order=7003),
        token=YM_TOKEN,
        path="/notification",
        source_ip=YM_ADDRESS,
    )
    assert answer.status == 200, answer.body
    _wait_for_order(world, order_id_for("yandex", "7003"))


def _wait_for_order(api: Api, order_id: str, timeout: float = 10.0) -> None:
    """The queue consumer creates the order once it takes the message."""
    deadline = time.monotonic() + timeout
    while api.get(f"/v1/orders/{order_id}").status != 200:
        assert time.monotonic() < deadline, f"{order_id} was not created from the queue"
        time.sleep(0.05)


def test_an_ozon_push_over_a_mebibyte_is_413_in_ozons_format(hub: LocalHub, world: Api) -> None:
    before = _snapshot(world)
    body = json.dumps({**load_event("ozon_new_posting.json"), "padding": "x" * (1024 * 1024)}).encode()
    answer = push(hub, "ozon", body, token=OZON_TOKEN)
    assert _partners_error("ozon", answer, 413), answer
    assert _snapshot(world) == before


def test_an_api_body_over_a_mebibyte_is_413_and_changes_nothing(world: Api) -> None:
    before = _snapshot(world)
    huge = {**courier_order("huge-1"), "padding": "x" * (1024 * 1024)}
    for method, path in WRITES:
        answer = world.call(method, path, huge)
        assert answer.status == 413, (method, path, answer.status, answer.body)
        assert answer.body["error"] == "payload_too_large"
    assert _snapshot(world) == before


# ------------------------------------------------------------------ cursors


def _pages(api: Api, path: str, query: str, key: str) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = api.get(path, query + (f"&cursor={cursor}" if cursor else ""))
        assert page.status == 200, page.body
        seen += [item[key] for item in page.body["items"]]
        cursor = page.body["next_cursor"]
        if not cursor:
            return seen


def test_signed_cursors_page_through_orders_and_tasks(world: Api) -> None:
    for n in range(4):
        world.post("/v1/orders", courier_order(f"page-{n}"))
        world.post("/v1/orders", courier_order(f"short-{n}", lines=[{"sku": "SKU-B", "qty": 1, "price": 1}]))
    for path, key in [("/v1/orders", "order_id"), ("/v1/tasks", "task_id")]:
        everything = [item[key] for item in world.get(path, "limit=100").body["items"]]
        assert len(everything) >= 4
        assert _pages(world, path, "limit=3", key) == everything


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def test_a_forged_or_altered_cursor_is_422(world: Api) -> None:
    for n in range(3):
        world.post("/v1/orders", courier_order(f"forge-{n}"))
    cursor = world.get("/v1/orders", "limit=1").body["next_cursor"]
    payload, _, signature = cursor.rpartition(".")
    assert payload and signature, cursor  # a signature rides along with the key
    key = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # Pointing the same signature at another start key, the key alone, a truncated or flipped signature.
    moved = {**key, "k": {**key["k"], "created_key": {"S": "9999"}}}
    for forged in [
        f"{_b64(moved)}.{signature}",
        payload,
        _b64(moved),
        f"{payload}.",
        f"{payload}.{signature[:-2]}",
        f"{payload}.{signature[::-1]}",
        f".{signature}",
        f"{payload}.{signature}.{signature}",
    ]:
        answer = world.get("/v1/orders", f"limit=1&cursor={forged}")
        assert answer.status == 422, (forged, answer.body)
        assert answer.body["details"] == [{"loc": ["query", "cursor"], "msg": "invalid cursor"}]
    assert world.get("/v1/orders", f"limit=1&cursor={cursor}").status == 200


def test_cursors_are_signed_with_a_key_from_ssm_not_from_code(hub: LocalHub, world: Api) -> None:
    """A cursor made under one key is refused once the stored key changes: the key is configuration."""
    for n in range(3):
        world.post("/v1/orders", courier_order(f"key-{n}"))
    cursor = world.get("/v1/orders", "limit=1").body["next_cursor"]
    ssm = boto3.client("ssm")
    name = f"/{hub.template.stack}/cursor-key"
    stored = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString" and len(stored["Value"]) >= 32
    assert stored["Value"] not in cursor
    ssm.put_parameter(Name=name, Value="another-key-" + "k" * 32, Type="SecureString", Overwrite=True)
    from common import secrets

    secrets.forget()  # a warm function would see the new key once its cache expires
    assert world.get("/v1/orders", f"limit=1&cursor={cursor}").status == 422
    fresh = world.get("/v1/orders", "limit=1").body["next_cursor"]
    assert world.get("/v1/orders", f"limit=1&cursor={fresh}").status == 200
