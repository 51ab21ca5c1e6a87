"""Auth, routing, listing and the public API description."""

from __future__ import annotations

import json
import logging

import pytest

from tests.support.api import Api
from tests.support.builders import courier_order


@pytest.mark.parametrize("key", ["", "wrong-key"])
def test_missing_or_wrong_api_key_is_401_and_changes_nothing(shop: Api, key: str) -> None:
    intruder = Api(shop.hub, api_key=key)
    for method, path, body in [
        ("POST", "/v1/orders", courier_order()),
        ("GET", "/v1/orders", None),
        ("PUT", "/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": 0}]}),
        ("PUT", "/v1/channels/evil", {"kind": "web", "name": "Evil"}),
    ]:
        answer = intruder.call(method, path, body)
        assert answer.status == 401, (method, path)
        assert answer.body == {"error": "unauthorized", "message": "missing or invalid x-api-key"}
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 0, "available": 10}
    assert shop.get("/v1/orders").body["items"] == []
    assert [c["channel_id"] for c in shop.get("/v1/channels").body["items"]] == ["web"]


def test_unknown_route_is_a_json_404(api: Api) -> None:
    answer = api.get("/v1/nothing-here")
    assert answer.status == 404
    assert answer.body["error"] == "not_found"
    assert api.call("DELETE", "/v1/orders").status == 404


def test_openapi_schema_covers_every_function_and_is_public(api: Api) -> None:
    public = Api(api.hub, api_key="")
    schema = public.get("/v1/openapi.json").body
    paths = set(schema["paths"])
    assert {
        "/v1/orders",
        "/v1/orders/{order_id}",
        "/v1/orders/{order_id}/events",
        "/v1/locations/{location_id}",
        "/v1/channels/{channel_id}",
        "/v1/stock/{location_id}",
        "/v1/availability",
        "/v1/workflows",
    } <= paths
    # every API route the template wires is described, and nothing else (the admin page is HTML of its own)
    template_paths = {r.path for r in api.hub.template.routes if not r.path.startswith("/admin")}
    template_paths -= {"/v1/openapi.json", "/v1/docs"}
    assert template_paths == paths
    assert schema["components"]["securitySchemes"]["apiKey"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    assert schema["security"] == [{"apiKey": []}]  # the Swagger page's Authorize button takes the key
    page = public.get("/v1/docs")
    assert page.status == 200 and "swagger" in page.body.lower()


def test_workflows_list_the_courier_lifecycle(api: Api) -> None:
    courier = api.get("/v1/workflows").body["items"][0]
    assert courier["name"] == "courier"
    assert ["reserved", "confirm", "confirmed"] in [[t["from"], t["event"], t["to"]] for t in courier["transitions"]]
    assert "courier" in courier["delivery_methods"]


def test_listing_filters_and_paginates_newest_first(shop: Api) -> None:
    shop.put("/v1/channels/app", {"kind": "app", "name": "App"})
    ids = [
        shop.post("/v1/orders", courier_order(f"web-{n}", lines=[{"sku": "SKU-B", "qty": 1, "price": 1}])).body[
            "order_id"
        ]
        for n in range(5)
    ]
    app_order = shop.post("/v1/orders", courier_order("app-1", channel="app")).body["order_id"]
    shop.event(ids[0], "cancel")
    shop.wait_for(ids[0], "cancelled")

    seen, cursor = [], None
    while True:
        page = shop.get("/v1/orders", "channel=web&limit=2" + (f"&cursor={cursor}" if cursor else "")).body
        seen += [o["order_id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    assert [o["order_id"] for o in shop.get("/v1/orders", "status=cancelled").body["items"]] == [ids[0]]
    assert [o["order_id"] for o in shop.get("/v1/orders", "status=reserved&channel=app").body["items"]] == [app_order]
    assert len(shop.get("/v1/orders").body["items"]) == 6


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=x", "cursor=garbage", "cursor=eyJpIjoiQnlTdGF0dXMiLCJrIjp7fX0"]
)
def test_listing_bad_query_is_422(api: Api, query: str) -> None:
    answer = api.get("/v1/orders", query)
    assert answer.status == 422, answer.body


def test_logs_carry_no_personal_data(shop: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="oms-hub")
    order = courier_order()
    shop.post("/v1/orders", order)
    logged = " ".join(json.dumps(record.__dict__, default=str) for record in caplog.records)
    assert "order accepted" in logged and "ord_" in logged
    for personal in (
        order["customer"]["name"],
        order["customer"]["phone"],
        order["customer"]["email"],
        order["delivery"]["address"],
    ):
        assert personal not in logged


def test_a_cursor_from_another_query_is_422_not_a_server_error(shop: Api) -> None:
    import base64

    for n in range(3):
        shop.post("/v1/orders", courier_order(f"c-{n}", lines=[{"sku": "SKU-B", "qty": 1, "price": 1}]))
    cursor = shop.get("/v1/orders", "status=reserved&limit=1").body["next_cursor"]
    assert cursor
    assert shop.get("/v1/orders", f"status=reserved&limit=1&cursor={cursor}").status == 200
    assert shop.get("/v1/orders", f"status=confirmed&limit=1&cursor={cursor}").status == 422
    forged = base64.urlsafe_b64encode(b'{"i":"ByStatus","p":"reserved","k":{"pk":{"S":"x"}}}').decode().rstrip("=")
    assert shop.get("/v1/orders", f"status=reserved&cursor={forged}").status == 422


def test_channel_update_without_secret_keeps_the_secret(api: Api) -> None:
    api.put("/v1/channels/ozon", {"kind": "ozon", "name": "Ozon", "secret": "first-secret-123"})
    updated = api.put("/v1/channels/ozon", {"kind": "ozon", "name": "Ozon", "rules": {"safety_stock": 3}}).body
    assert updated["has_secret"] is True and updated["rules"]["safety_stock"] == 3


def test_out_of_range_numbers_and_skus_are_422(shop: Api) -> None:
    assert shop.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": 10**40}]}).status == 422
    assert shop.get("/v1/availability", "channel=web&skus=bad%20sku").status == 422
    assert shop.get("/v1/availability", "channel=web&skus=" + "X" * 65).status == 422
    assert shop.stock("SKU-A", "wh-1")["on_hand"] == 10


def test_tasks_page_with_a_cursor(shop: Api) -> None:
    for n in range(3):
        shop.post("/v1/orders", courier_order(f"short-{n}", lines=[{"sku": "SKU-B", "qty": 9, "price": 1}]))
    first = shop.get("/v1/tasks", "limit=2").body
    second = shop.get("/v1/tasks", f"limit=2&cursor={first['next_cursor']}").body
    ids = [t["task_id"] for t in first["items"] + second["items"]]
    assert len(ids) == 3 == len(set(ids)) and second["next_cursor"] is None
    assert set(first["items"][0]) == {
        "task_id",
        "kind",
        "state",
        "order_id",
        "channel",
        "shortages",
        "created_at",
        "updated_at",
    }
    assert shop.get("/v1/tasks", f"state=closed&cursor={first['next_cursor']}").status == 422


@pytest.mark.parametrize("content_type", ["text/csv", "1x,leV"])
def test_a_body_that_is_not_json_by_its_content_type_is_415_and_changes_nothing(shop: Api, content_type: str) -> None:
    """Found by the contract fuzzer: powertools refuses the body before validation, which was a 500."""
    for path in ["/v1/orders", "/v1/stock/wh-1"]:
        method = "POST" if path == "/v1/orders" else "PUT"
        answer = shop.call(
            method, path, raw=json.dumps(courier_order()).encode(), headers={"content-type": content_type}
        )
        assert answer.status == 415, (path, answer.body)
        assert answer.body["error"] == "unsupported_media_type"
    assert shop.get("/v1/orders").body["items"] == []
    assert shop.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 0, "available": 10}
