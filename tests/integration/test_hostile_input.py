"""Hostile input over HTTP and from partners: refused with a clear 4xx before anything is written, and
everything the hub stores stays readable."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema_rs import Draft202012Validator

from common.dynamo import from_item, to_item
from oms_local.runtime import LocalHub
from orders.adapters.workflow_catalog import workflow_for
from orders.domain.models import MAX_MONEY, Order, OrderIn, order_id_for
from orders.domain.records import Placement, new_order
from planning.cart import MAX_CART_LINES, MAX_QTY
from planning.sourcing import ReservationPlan, Rule
from reference import config_table
from tests.fakes.partners import FakeOzon
from tests.support.api import Api
from tests.support.builders import courier_order
from tests.support.partners import (
    OZON_TOKEN,
    YM_ADDRESS,
    YM_TOKEN,
    fast_retry_hub,
    marketplace_channels,
    push,
    queue_depth,
)
from tests.support.sample_events import load_event
from tests.support.waiting import actions_settled

TOP_PRICE = 999_999_999_999.99  # the largest price a line takes (Money: 14 digits, 2 decimals)
CONTROL_AND_BIDI = ["\x00", "\x1f", "\x7f", "\x85", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069"]


def _readable(api: Api, *queries: str) -> list[dict[str, Any]]:
    """Every list of orders a caller may ask for answers 200; the plain list's items."""
    for query in queries:
        answer = api.get("/v1/orders", query)
        assert answer.status == 200, (query, answer.body)
    plain = api.get("/v1/orders")
    assert plain.status == 200, plain.body
    return plain.body["items"]


def _refused(answer: Any, status: int = 422, error: str = "validation_error") -> None:
    assert answer.status == status, answer.body
    assert answer.body["error"] == error and answer.body["message"], answer.body


# ------------------------------------------------------------------ poison orders


@pytest.mark.parametrize(
    "lines",
    [
        [{"sku": "SKU-A", "qty": 1, "price": TOP_PRICE}, {"sku": "SKU-B", "qty": 1, "price": TOP_PRICE}],
        [{"sku": "SKU-A", "qty": 10_000, "price": TOP_PRICE}],
        [{"sku": "SKU-A", "qty": 2, "price": TOP_PRICE}],
    ],
    ids=["two-lines-at-the-top-price", "max-qty-at-the-top-price", "line-total-over-the-bound"],
)
def test_an_order_whose_total_the_hub_cannot_hold_is_refused_and_nothing_is_written(
    shop: Api, lines: list[dict[str, Any]]
) -> None:
    stock = {sku: shop.stock(sku, "wh-1") for sku in ("SKU-A", "SKU-B")}
    body = courier_order("poison-1", lines=lines)
    answer = shop.post("/v1/orders", body)
    _refused(answer)
    assert any("total" in detail["msg"] for detail in answer.body["details"]), answer.body
    assert (
        shop.get(f"/v1/orders/{OrderIn.model_validate({**body, 'lines': [lines[0] | {'qty': 1}]}).order_id()}").status
        == 404
    )
    assert _readable(shop, "channel=web", "status=reserved", "status=on_hold") == []
    assert {sku: shop.stock(sku, "wh-1") for sku in ("SKU-A", "SKU-B")} == stock
    assert shop.get("/v1/tasks").body["items"] == []


def test_an_order_at_the_top_price_is_taken_and_stays_readable(shop: Api) -> None:
    answer = shop.post("/v1/orders", courier_order("top-1", lines=[{"sku": "SKU-A", "qty": 1, "price": TOP_PRICE}]))
    assert answer.status == 201, answer.body
    assert answer.body["total"] == TOP_PRICE
    assert shop.order(answer.body["order_id"])["total"] == TOP_PRICE
    assert [o["order_id"] for o in _readable(shop, "channel=web", "status=reserved")] == [answer.body["order_id"]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(1, MAX_QTY), st.decimals(0, MAX_MONEY, places=2, allow_nan=False)),
        min_size=1,
        max_size=MAX_CART_LINES,
    )
)
def test_every_order_the_write_model_takes_is_readable_once_stored(lines: list[tuple[int, Decimal]]) -> None:
    body = {
        **load_event("order_courier.json"),
        "lines": [{"sku": f"SKU-{n}", "qty": qty, "price": price} for n, (qty, price) in enumerate(lines)],
    }
    try:
        order_in = OrderIn.model_validate(body)
    except ValueError:
        return  # refused at the door: nothing stored
    record = new_order(
        order_in,
        workflow_for(order_in.delivery.method, order_in.channel),
        Placement(ReservationPlan([], [], Rule.single_location), "test", None),
        "2026-12-01T10:00:00.000Z",
    )
    stored = from_item(to_item(record))  # as DynamoDB gives it back
    shown = Order.model_validate(stored)
    assert shown.total == sum(Decimal(str(p)) * q for q, p in lines)
    Order.model_validate_json(shown.model_dump_json())


# ------------------------------------------------------------------ the same orders from partners


@pytest.fixture
def partner_hub() -> Iterator[LocalHub]:
    with fast_retry_hub() as running:
        yield running


@pytest.fixture
def market(partner_hub: LocalHub, fake_ozon: tuple[FakeOzon, str]) -> Api:
    return marketplace_channels(Api(partner_hub), fake_ozon[1])


def test_an_ozon_posting_whose_total_overflows_is_refused_in_ozons_format(
    partner_hub: LocalHub, market: Api, fake_ozon: tuple[FakeOzon, str]
) -> None:
    # Each line fits (10,000 x 99,999,999 < 10^12), the two together do not; Ozon writes prices with 6 decimals.
    fake_ozon[0].prices.update({"SKU-A": "99999999.000000", "SKU-B": "99999999.000000"})
    posting = {
        **load_event("ozon_new_posting.json"),
        "products": [
            {"sku": 1, "offer_id": "SKU-A", "quantity": 10_000},
            {"sku": 2, "offer_id": "SKU-B", "quantity": 10_000},
        ],
    }
    for _ in range(2):  # Ozon's retry gets the same clear refusal, not a 500
        answer = push(partner_hub, "ozon", posting, token=OZON_TOKEN)
        assert answer.status == 422, answer.body
        assert set(answer.body) == {"error"} and "validation_error" in answer.body["error"]["message"], answer.body
        assert "the order's total exceeds" in answer.body["error"]["details"], answer.body
    assert _readable(market, "channel=ozon") == []
    assert market.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 0, "available": 10}


@pytest.mark.parametrize(
    "items",
    [
        [{"offerId": "SKU-A", "count": 2, "price": TOP_PRICE}],
        [{"offerId": "SKU-A", "count": 10_001, "price": 1}],
        [{"offerId": "no such#sku", "count": 1, "price": 1}],
    ],
    ids=["total-over-the-bound", "qty-over-the-bound", "not-a-hub-sku"],
)
def test_a_market_order_the_hub_cannot_take_is_refused_before_it_is_queued(
    partner_hub: LocalHub, market: Api, items: list[dict[str, Any]]
) -> None:
    created = {**load_event("ym_order_created.json"), "items": items}
    answer = push(partner_hub, "yandex", created, token=YM_TOKEN, path="/notification", source_ip=YM_ADDRESS)
    assert answer.status == 422, answer.body
    # Market's own error shape (Notification_SendNotificationErrorResponse), the hub's code in its message
    assert answer.body["error"]["type"] == "WRONG_EVENT_FORMAT", answer.body
    assert answer.body["error"]["message"].startswith("validation_error:"), answer.body
    assert queue_depth(partner_hub, "PartnerQueue") == 0
    time.sleep(0.3)  # nothing is applied later either
    assert _readable(market, "channel=yandex") == []
    assert market.stock("SKU-A", "wh-1") == {"on_hand": 10, "reserved": 0, "available": 10}
    assert queue_depth(partner_hub, "PartnerDeadLetterQueue") == 0


def test_a_substitution_that_would_overflow_the_total_is_refused(shop: Api) -> None:
    order = shop.post(
        "/v1/orders",
        courier_order(
            lines=[{"sku": "SKU-A", "qty": 1, "price": TOP_PRICE - 100}, {"sku": "SKU-B", "qty": 7, "price": 5}]
        ),
    ).body
    assert order["status"] == "on_hold", order
    actions_settled(shop, order["order_id"])  # the hub's own work on entering on_hold, not the request's
    before = (shop.order(order["order_id"]), shop.stock("SKU-A", "wh-1"), shop.stock("SKU-B", "wh-1"))
    answer = shop.post(
        f"/v1/orders/{order['order_id']}/substitutions",
        {"sku": "SKU-B", "replacement": {"sku": "SKU-B", "qty": 5, "price": 100}},
    )
    _refused(answer)
    assert (shop.order(order["order_id"]), shop.stock("SKU-A", "wh-1"), shop.stock("SKU-B", "wh-1")) == before
    assert len(_readable(shop, "channel=web", "status=on_hold")) == 1


# ------------------------------------------------------------------ reference data: written as it is read


def test_a_channel_url_that_grows_past_the_limit_when_normalised_is_refused(api: Api) -> None:
    assert api.put("/v1/channels/web", {"kind": "web", "name": "Site", "api_url": "https://a.example/"}).status == 200
    before = api.get("/v1/channels").body
    answer = api.put("/v1/channels/web", {"kind": "web", "name": "Site", "api_url": "https://a.example/" + "é" * 1000})
    _refused(answer)
    listed = api.get("/v1/channels")
    assert listed.status == 200 and listed.body == before
    assert api.get("/v1/availability", "channel=web&skus=SKU-A").status == 200


@pytest.mark.parametrize(
    "rules",
    [
        {"safety_stock": 1e40},
        {"safety_stock": 10**10},
        {"safety_stock": True},
        {"safety_stock": "1"},
        {"max_units": 1e40},
        {"min_presentable": 10**12},
        {"stock_share": True},
        {"locations": {"wh-1": {"safety_stock": 1e40}}},
        {"skus": {"SKU-A": {"max_units": 10**30}}},
        {"skus": {"SKU-A": {"max_share": True}}},
    ],
)
def test_channel_rules_out_of_range_are_refused_and_the_channel_stays_readable(
    shop: Api, rules: dict[str, Any]
) -> None:
    before = shop.get("/v1/channels").body
    _refused(shop.put("/v1/channels/web", {"kind": "web", "name": "Site", "rules": rules}))
    assert shop.get("/v1/channels").body == before
    assert shop.get("/v1/availability", "channel=web&skus=SKU-A").status == 200


@pytest.mark.parametrize(
    "location",
    [
        {"processing_minutes": 1e40},
        {"hold_hours": True},
        {"lat": True, "lon": 1},
        {"name": "Store\u202e"},
        {"city": "Moscow\x00"},
    ],
)
def test_location_fields_out_of_range_are_refused(shop: Api, location: dict[str, Any]) -> None:
    before = shop.get("/v1/locations").body
    _refused(shop.put("/v1/locations/store-1", {"name": "Store", "kind": "store", **location}))
    assert shop.get("/v1/locations").body == before


def test_shares_and_coordinates_finer_than_the_hub_keeps_are_rounded_and_stored(shop: Api) -> None:
    # JSON takes 1e-285; DynamoDB stores no number below 1e-130.
    tiny = 1.664548765679979e-285
    loyalty = {"write_off_on": "paid", "accrual_rate": tiny}
    rules = {"stock_share": 0.5 + 1e-200, "skus": {"SKU-A": {"max_share": tiny}}}
    answer = shop.put("/v1/channels/web", {"kind": "web", "name": "Site", "loyalty": loyalty, "rules": rules})
    assert answer.status == 200, answer.body
    [web] = shop.get("/v1/channels").body["items"]
    assert web["loyalty"]["accrual_rate"] == 0
    assert (web["rules"]["stock_share"], web["rules"]["skus"]["SKU-A"]["max_share"]) == (0.5, 0)
    located = shop.put("/v1/locations/store-1", {"name": "Store", "kind": "store", "lat": 55.75582601234, "lon": -tiny})
    assert located.status == 200, located.body
    [store] = [row for row in shop.get("/v1/locations").body["items"] if row["location_id"] == "store-1"]
    assert (store["lat"], store["lon"]) == (55.755826, 0)
    ordered = shop.post(
        "/v1/orders",
        courier_order("tiny-1", delivery={"method": "courier", "address": "Tverskaya 1", "lat": tiny, "lon": 37.6}),
    )
    assert ordered.status == 201, ordered.body


def test_carrier_transit_days_must_be_whole_numbers(api: Api) -> None:
    for days in ({"min": True, "max": 2}, {"min": "1", "max": 2}, {"min": 1, "max": 1e40}):
        _refused(api.put("/v1/carriers/fast", {"name": "Fast", "delivery_methods": ["courier"], "transit_days": days}))
    assert api.get("/v1/carriers").body == {"items": []}


def test_the_substitution_answers_match_the_declared_schema(shop: Api) -> None:
    schema = shop.get("/v1/openapi.json").body
    responses = schema["paths"]["/v1/orders/{order_id}/substitutions"]["post"]["responses"]

    def check(status: int, body: Any) -> None:
        declared = responses[str(status)]["content"]["application/json"]["schema"]
        Draft202012Validator({**declared, "components": schema["components"]}).validate(body)

    order = shop.post(
        "/v1/orders",
        courier_order(lines=[{"sku": "SKU-A", "qty": 1, "price": 10}, {"sku": "SKU-B", "qty": 7, "price": 5}]),
    ).body
    path = f"/v1/orders/{order['order_id']}/substitutions"
    short = shop.post(path, {"sku": "SKU-B", "replacement": {"sku": "SKU-B", "qty": 50}})
    assert short.status == 409
    check(409, short.body)
    missing = shop.post("/v1/orders/ord_nope/substitutions", {"sku": "SKU-B"})
    assert missing.status == 404
    check(404, missing.body)
    done = shop.post(path, {"sku": "SKU-B", "replacement": {"sku": "SKU-B", "qty": 5}})
    assert done.status == 200, done.body
    check(200, done.body)
    picks = schema["paths"]["/v1/orders/{order_id}/short-picks"]["post"]["responses"]
    assert (
        "200" in picks
        and picks["409"]["content"]["application/json"]["schema"]
        == responses["409"]["content"]["application/json"]["schema"]
    )


# ------------------------------------------------------------------ numbers and times out of range


@pytest.mark.parametrize(
    "placed_at", ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2101-01-01T00:00:00Z"]
)
def test_a_delivery_promise_for_a_time_out_of_range_is_refused(shop: Api, placed_at: str) -> None:
    answer = shop.post(
        "/v1/delivery-promise", {"channel": "web", "lines": [{"sku": "SKU-A", "qty": 1}], "placed_at": placed_at}
    )
    _refused(answer)
    assert answer.body["details"][0]["loc"][-1] == "placed_at"


@pytest.mark.parametrize(
    "field,value",
    [
        ("ship_by", "9999-12-31T23:59:59Z"),
        ("ship_by", "0001-01-01T00:00:00+01:00"),
        ("hold_until", "0001-01-01T00:00:00+01:00"),
        ("hold_until", "9999-12-31T23:59:59-01:00"),
    ],
)
def test_order_times_out_of_range_are_refused_and_nothing_is_written(shop: Api, field: str, value: str) -> None:
    stock = shop.stock("SKU-A", "wh-1")
    _refused(shop.post("/v1/orders", courier_order("times-1", **{field: value})))
    assert _readable(shop, "channel=web") == []
    assert shop.stock("SKU-A", "wh-1") == stock


def test_a_promise_and_an_order_in_the_window_still_work(shop: Api) -> None:
    assert (
        shop.post(
            "/v1/delivery-promise",
            {"channel": "web", "lines": [{"sku": "SKU-A", "qty": 1}], "placed_at": "2026-12-01T10:00:00+03:00"},
        ).status
        == 200
    )
    answer = shop.post("/v1/orders", courier_order("times-2", ship_by="2026-12-24T10:00:00+03:00"))
    assert answer.status == 201 and answer.body["ship_by"] == "2026-12-24T07:00:00.000Z"


# ------------------------------------------------------------------ too lenient


@pytest.mark.parametrize(
    "line",
    [
        {"sku": "SKU-A", "qty": True, "price": 1},
        {"sku": "SKU-A", "qty": "1", "price": 1},
        {"sku": "SKU-A", "qty": 1.5, "price": 1},
        {"sku": "SKU-A", "qty": 1e40, "price": 1},
        {"sku": "SKU-A", "qty": 1, "price": True},
        {"sku": "SKU-A", "qty": 1, "price": "1"},
        {"sku": "SKU-A\u202e", "qty": 1, "price": 1},
        {"sku": "SKU-\x00A", "qty": 1, "price": 1},
    ],
)
def test_quantities_and_prices_are_numbers_not_booleans_or_text(shop: Api, line: dict[str, Any]) -> None:
    stock = shop.stock("SKU-A", "wh-1")
    _refused(shop.post("/v1/orders", courier_order("lenient-1", lines=[line])))
    assert _readable(shop, "channel=web") == []
    assert shop.stock("SKU-A", "wh-1") == stock


@pytest.mark.parametrize("char", CONTROL_AND_BIDI)
def test_control_and_bidi_characters_are_refused_in_ids_and_names(shop: Api, char: str) -> None:
    stock = shop.stock("SKU-A", "wh-1")
    _refused(shop.post("/v1/orders", courier_order(f"site-{char}-1")))
    _refused(shop.post("/v1/orders", courier_order("site-2", customer={"name": f"Anna{char}"})))
    _refused(
        shop.post("/v1/orders", courier_order("site-3", delivery={"method": "courier", "address": f"Moscow{char} 7"}))
    )
    assert _readable(shop, "channel=web") == []
    assert shop.stock("SKU-A", "wh-1") == stock
    before = shop.get("/v1/channels").body
    _refused(shop.put("/v1/channels/web", {"kind": "web", "name": f"Site{char}"}))
    assert shop.get("/v1/channels").body == before


def test_line_breaks_stay_allowed_in_free_text(shop: Api) -> None:
    answer = shop.post(
        "/v1/orders", courier_order("site-4", delivery={"method": "courier", "address": "Moscow\nTverskaya 7\tapt 12"})
    )
    assert answer.status == 201, answer.body
    shop.event(answer.body["order_id"], "confirm", note="called the customer:\nall fine")


@pytest.mark.parametrize(
    "expected_at",
    ["2026-12-10T10:00:00", "2026-12-10T00:00:00", "2026-12-10 10:00", "9999-12-31", "0001-01-01", True, 1_700_000_000],
)
def test_a_naive_or_out_of_range_expected_arrival_is_refused(shop: Api, expected_at: Any) -> None:
    before = shop.stock("SKU-A", "wh-1")
    _refused(
        shop.put(
            "/v1/stock/wh-1", {"mode": "delta", "items": [{"sku": "SKU-A", "on_hand": 1, "expected_at": expected_at}]}
        )
    )
    assert shop.stock("SKU-A", "wh-1") == before


@pytest.mark.parametrize("on_hand", [True, "5", 5.0, 1e40])
def test_stock_quantities_are_strict_integers(shop: Api, on_hand: Any) -> None:
    before = shop.stock("SKU-A", "wh-1")
    _refused(shop.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": on_hand}]}))
    assert shop.stock("SKU-A", "wh-1") == before


def test_an_expected_arrival_as_a_date_or_an_aware_time_is_taken(shop: Api) -> None:
    assert (
        shop.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-D", "on_hand": 0, "expected_at": "2026-12-10"}]}).status
        == 200
    )
    assert (
        shop.put(
            "/v1/stock/wh-1", {"items": [{"sku": "SKU-E", "on_hand": 0, "expected_at": "2026-12-11T01:00:00+03:00"}]}
        ).status
        == 200
    )
    shop.hub.settle()  # availability is the stock stream's figures
    items = shop.get("/v1/availability", "channel=web&skus=SKU-D,SKU-E").body["items"]
    assert [i.get("expected_at") for i in items] == ["2026-12-10", "2026-12-10"]  # the UTC day


def test_expire_is_the_sweepers_event_not_an_api_callers(shop: Api) -> None:
    order = shop.post("/v1/orders", courier_order("hold-1", hold_until="2099-01-01T00:00:00Z")).body
    stock = shop.stock("SKU-A", "wh-1")
    answer = shop.post(f"/v1/orders/{order['order_id']}/events", {"event": "expire"})
    _refused(answer, 409, "invalid_transition")
    assert "sweeper" in answer.body["message"] and "expire" not in answer.body["allowed_events"]
    time.sleep(0.3)
    assert shop.order(order["order_id"])["status"] == "reserved"
    assert shop.stock("SKU-A", "wh-1") == stock
    assert json.dumps(shop.order(order["order_id"])["timeline"]).count('"expire"') == 0


@pytest.mark.parametrize("cutoff", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2101-01-01T00:00:00Z"])
def test_an_ozon_cutoff_out_of_range_is_refused_and_the_deadline_kept(
    partner_hub: LocalHub, market: Api, cutoff: str
) -> None:
    posting = load_event("ozon_new_posting.json")
    assert push(partner_hub, "ozon", posting, token=OZON_TOKEN).status == 200
    order_id = order_id_for("ozon", posting["posting_number"])
    before = market.wait_for(order_id, "reserved")
    moved = {**load_event("ozon_cutoff_date_changed.json"), "new_cutoff_date": cutoff}
    for _ in range(2):  # Ozon's retry gets the same clear refusal, not a 500
        answer = push(partner_hub, "ozon", moved, token=OZON_TOKEN)
        assert 400 <= answer.status < 500, answer.body
        assert set(answer.body) == {"error"} and answer.body["error"]["message"], answer.body
    time.sleep(0.2)
    assert market.order(order_id) == before


def test_a_reference_record_stored_before_the_bounds_is_left_out_not_a_500_and_a_put_repairs_it(shop: Api) -> None:
    # As a hub deployed before the write model matched the read model could hold it.
    config = f"{shop.hub.template.stack}-ConfigTable"
    poisoned = {
        "kind": "web",
        "name": "Old",
        "rules": {},
        "has_secret": False,
        "api_url": "https://a.example/" + "a" * 3000,
    }
    boto3.client("dynamodb").put_item(
        TableName=config, Item=to_item({"kind": "channel", "id": "old", "data": poisoned})
    )
    boto3.client("dynamodb").put_item(
        TableName=config,
        Item=to_item(
            {
                "kind": "location",
                "id": "old-store",
                "data": {"name": "Old", "kind": "store", "processing_minutes": 10**9},
            }
        ),
    )
    config_table.forget()  # the warm functions' config cache (CONFIG_CACHE_SECONDS) would hide the new rows
    channels = shop.get("/v1/channels")
    assert channels.status == 200 and "old" not in [c["channel_id"] for c in channels.body["items"]]
    assert "web" in [c["channel_id"] for c in channels.body["items"]]
    locations = shop.get("/v1/locations")
    assert locations.status == 200 and "old-store" not in [loc["location_id"] for loc in locations.body["items"]]
    assert shop.get("/v1/availability", "channel=web&skus=SKU-A").status == 200
    assert shop.post("/v1/orders", courier_order("poison-old-1")).status == 201
    assert shop.get("/v1/availability", "channel=old&skus=SKU-A").status == 422  # unknown, not a 500
    assert shop.put("/v1/channels/old", {"kind": "web", "name": "Old"}).status == 200
    assert "old" in [c["channel_id"] for c in shop.get("/v1/channels").body["items"]]
