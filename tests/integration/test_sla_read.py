"""The SLA read side over HTTP on one local hub for the module: GET /v1/kpis against stays made on the hub
clock and counted by the SLA monitor's runs, GET /v1/channels/{id}/risk against risk facts written as the
monitor writes them, and the due list (GET /v1/orders?due_before=&status=) the monitor keeps.

Tests share the hub: each reads what its own orders, channels or locations made (the clock only goes on)."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from common.clock import utc_moment, utc_text
from oms_local.runtime import LocalHub
from orders.domain.models import order_id_for
from sla_monitor.adapters import sla_table
from sla_monitor.domain.kpis import RATIO
from tests.fakes.partners import FakeOzon
from tests.fakes.server import serve
from tests.support.api import Answer, Api
from tests.support.builders import courier_order
from tests.support.partners import ozon, ozon_channel
from tests.support.sla import monitor

LINE = [{"sku": "SKU-A", "qty": 1, "price": 100}]
numbers = itertools.count(1)


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[LocalHub, Api]]:
    """wh-1 ships courier and marketplace orders, store-1 and store-2 ship from store; channels web and shop2
    (both of kind web), ozon (its API on a fake), yandex (yandex_market)."""
    with serve(FakeOzon().app()) as ozon_url, LocalHub() as hub:
        api = Api(hub)
        places = {
            "wh-1": {"name": "Warehouse", "kind": "warehouse", "capabilities": ["courier", "marketplace"]},
            "store-1": {"name": "Store 1", "kind": "store", "capabilities": ["ship_from_store"]},
            "store-2": {"name": "Store 2", "kind": "store", "capabilities": ["ship_from_store"]},
        }
        for location_id, body in places.items():
            assert api.put(f"/v1/locations/{location_id}", body).status == 200
            assert api.put(f"/v1/stock/{location_id}", {"items": [{"sku": "SKU-A", "on_hand": 100}]}).status == 200
        channels = {
            "web": {"kind": "web", "name": "Site"},
            "shop2": {"kind": "web", "name": "Second site"},
            "ozon": ozon_channel(ozon_url),
            "yandex": {"kind": "yandex_market", "name": "Market", "secret": "ym-token-0123456789"},
        }
        for channel_id, body in channels.items():
            assert api.put(f"/v1/channels/{channel_id}", body).status == 200
        yield hub, api


def _kpis(api: Api, first: date, last: date, **filters: str) -> Answer:
    query = "&".join(f"{name}={value}" for name, value in {"from": first, "to": last, **filters}.items())
    return api.get("/v1/kpis", query)


def _confirmed(answer: Answer) -> dict[str, Any]:
    assert answer.status == 200, answer.body
    items: list[dict[str, Any]] = answer.body["items"]
    [figures] = [f for f in items if (f["workflow"], f["status"]) == ("ship_from_store", "confirmed")]
    return figures


def _store_order(api: Api, channel: str, location_id: str) -> str:
    delivery = {"method": "ship_from_store", "address": "Moscow, Tverskaya 7", "location_id": location_id}
    answer = api.post(
        "/v1/orders", courier_order(f"kpi-{next(numbers)}", channel=channel, delivery=delivery, lines=LINE)
    )
    assert answer.status == 201, answer.body
    order_id: str = answer.body["order_id"]
    api.wait_for(order_id, "reserved")
    api.event(order_id, "confirm")
    api.wait_for(order_id, "confirmed")
    return order_id


def _stay(order: dict[str, Any], status: str) -> float:
    """Hub seconds the order spent in `status`, from its timeline: entering it to entering the next status (the
    entries between, its actions' outcomes, are in the same status)."""
    timeline = order["timeline"]
    entered = next(n for n, entry in enumerate(timeline) if entry["status"] == status)
    left = next(entry for entry in timeline[entered:] if entry["status"] != status)
    return (utc_moment(left["at"]) - utc_moment(timeline[entered]["at"])).total_seconds()


def test_time_in_status_counts_the_stays_made_with_their_tiers_and_filters(world: tuple[LocalHub, Api]) -> None:
    """ship_from_store's confirmed: escalations after 15 min, 45 min and 2 h, the warning at 3 h (75 % of 4 h),
    the breach at 4 h. Five orders are picked after about 10 min, 20 min, 50 min and 4 h 10 min (two: one on
    shop2 at store-2), the monitor running at each step as its schedule would."""
    hub, api = world
    start = hub.clock.now().date()
    early = [_store_order(api, "web", "store-1") for _ in range(4)]
    late = _store_order(api, "shop2", "store-2")
    waiting = [*early, late]
    for step in (timedelta(minutes=10), timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=3, minutes=20)):
        hub.clock.advance(step)
        monitor(hub, hub.clock.now())
        picked = waiting[:2] if len(waiting) == 2 else waiting[:1]
        for order_id in picked:
            api.event(order_id, "pick")
            api.wait_for(order_id, "picked")
        waiting = waiting[len(picked) :]
    monitor(hub, hub.clock.now() + timedelta(minutes=1))  # the next scheduled run counts the last stays
    stays = sorted(_stay(api.order(order_id), "confirmed") for order_id in [*early, late])
    assert [round(s / 60) for s in stays] == [10, 20, 50, 250, 250]
    today = hub.clock.now().date()

    answer = _kpis(api, start, today)
    resolution = answer.body["resolution"]
    assert resolution["ratio"] == RATIO and 0 < resolution["relative_error"] < 0.05
    figures = _confirmed(answer)
    error = resolution["relative_error"]
    assert figures["count"] == 5
    assert figures["p50_seconds"] == pytest.approx(stays[2], rel=error)  # nearest rank: the 3rd of 5
    assert figures["p90_seconds"] == pytest.approx(stays[4], rel=error)
    assert figures["max_seconds"] == pytest.approx(stays[4], abs=0.001)
    assert figures["mean_seconds"] == pytest.approx(sum(stays) / 5, abs=0.01)
    # Escalations: 1 (picked at 20 min) + 2 (at 50 min) + 3 + 3 (the two picked at 4 h 10); those two warned
    # and breached once each, however many runs saw them.
    assert (figures["warnings"], figures["escalations"], figures["breaches"]) == (2, 9, 2)

    on_shop2 = _confirmed(_kpis(api, start, today, channel="shop2"))
    at_store2 = _confirmed(_kpis(api, start, today, location="store-2", workflow="ship_from_store"))
    for one in (on_shop2, at_store2):
        assert (one["count"], one["warnings"], one["breaches"]) == (1, 1, 1)
        assert one["p50_seconds"] == pytest.approx(_stay(api.order(late), "confirmed"), rel=error)
    at_store1 = _confirmed(_kpis(api, start, today, location="store-1"))
    assert at_store1["count"] == 4 and at_store1["p50_seconds"] == pytest.approx(stays[1], rel=error)
    courier_only = _kpis(api, start, today, workflow="courier")
    assert courier_only.status == 200
    assert {f["workflow"] for f in courier_only.body["items"]} <= {"courier"}
    # The range asked may reach past today: it is cut at today.
    ahead = _kpis(api, start, today + timedelta(days=5))
    assert ahead.body["days"] == (today - start).days + 1 and _confirmed(ahead)["count"] == 5
    assert _kpis(api, today + timedelta(days=1), today + timedelta(days=2)).body["items"] == []


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("from=2026-02-30&to=2026-03-01", ["query", "from"]),
        ("from=yesterday&to=2026-03-01", ["query", "from"]),
        ("from=2026-03-01", ["query", "to"]),
        ("from=2026-03-02&to=2026-03-01", ["query", "from"]),
        ("from=2026-01-01&to=2026-04-03", ["query", "to"]),  # 93 days: 92 is the most
        ("from=2026-03-01&to=2026-03-02&workflow=nope", ["query", "workflow"]),
        ("from=2026-03-01&to=2026-03-02&channel=nope", ["query", "channel"]),
        ("from=2026-03-01&to=2026-03-02&location=nope", ["query", "location"]),
        ("from=2026-03-01&to=2026-03-02&location=", ["query", "location"]),
    ],
)
def test_a_report_not_asked_right_is_refused_with_where(
    world: tuple[LocalHub, Api], query: str, where: list[str]
) -> None:
    answer = world[1].get("/v1/kpis", query)
    assert answer.status == 422, answer.body
    assert answer.body["error"] == "validation_error"
    assert where in [detail["loc"] for detail in answer.body["details"]]


def test_ninety_two_days_are_taken(world: tuple[LocalHub, Api]) -> None:
    answer = world[1].get("/v1/kpis", "from=2026-01-01&to=2026-04-02")
    assert (answer.status, answer.body["days"], answer.body["items"]) == (200, 92, [])


def _seed(channel: str, days: dict[date, dict[str, int]]) -> None:
    """Risk facts as the SLA monitor writes them: one ADD per fact."""
    for day, facts in days.items():
        for fact, n in facts.items():
            for _ in range(n):
                sla_table.record_risk(channel, day, fact)  # type: ignore[arg-type]


def _risk(api: Api, channel: str) -> list[dict[str, Any]]:
    answer = api.get(f"/v1/channels/{channel}/risk")
    assert answer.status == 200, answer.body
    measures: list[dict[str, Any]] = answer.body["measures"]
    return measures


def test_ozon_risk_is_the_seller_cancellations_of_14_days_against_4_percent(world: tuple[LocalHub, Api]) -> None:
    hub, api = world
    today = hub.clock.now().date()
    _seed(
        "ozon",
        {
            today: {"accepted": 40, "seller_cancelled": 1},
            today - timedelta(days=13): {"accepted": 60, "seller_cancelled": 3},
            today - timedelta(days=14): {"accepted": 10, "seller_cancelled": 10},  # outside the window
        },
    )
    [at_four] = _risk(api, "ozon")
    assert (at_four["seller_cancelled"], at_four["accepted"], at_four["share"]) == (4, 100, 0.04)
    assert (at_four["threshold"], at_four["over_threshold"], at_four["band"]) == (0.04, False, "green")
    assert at_four["window"] == {"from": (today - timedelta(days=13)).isoformat(), "to": today.isoformat()}
    assert at_four["source"].startswith("https://docs.ozon.com/")

    _seed("ozon", {today: {"seller_cancelled": 1}})
    [above] = _risk(api, "ozon")
    assert (above["share"], above["over_threshold"], above["band"]) == (0.05, True, "blue")
    answer = api.get("/v1/channels/ozon/risk").body
    assert (answer["kind"], answer["risk_scale"], answer["note"]) == ("ozon", True, None)


def test_market_risk_grades_late_shipments_of_7_days_on_its_bands(world: tuple[LocalHub, Api]) -> None:
    hub, api = world
    today = hub.clock.now().date()
    _seed("yandex", {today - timedelta(days=6): {"shipped": 100, "shipped_late": 3, "accepted": 100}})
    late, cancelled = _risk(api, "yandex")
    assert (late["measure"], late["share"], late["band"], late["over_threshold"]) == (
        "late_shipment_share",
        0.03,
        "index 95-100",
        False,
    )
    assert (cancelled["measure"], cancelled["share"], cancelled["band"]) == (
        "seller_cancelled_share",
        0.0,
        "index 95-100",
    )
    _seed("yandex", {today: {"shipped_late": 1}})
    late, _ = _risk(api, "yandex")
    assert (late["share"], late["band"], late["over_threshold"]) == (0.04, "index 80-94", True)


def test_a_channel_with_no_risk_scale_says_so_and_an_unknown_one_is_404(world: tuple[LocalHub, Api]) -> None:
    api = world[1]
    answer = api.get("/v1/channels/shop2/risk")
    assert answer.status == 200
    assert answer.body["risk_scale"] is False and "no marketplace risk scale" in answer.body["note"]
    assert [(m["measure"], m["share"]) for m in answer.body["measures"]] == [
        ("seller_cancelled_share", None),
        ("late_shipment_share", None),
    ]
    missing = api.get("/v1/channels/nope/risk")
    assert (missing.status, missing.body["error"]) == (404, "not_found")


# ------------------------------------------------------------------ the due list


def _due(api: Api, before: datetime, statuses: str, **more: Any) -> Answer:
    query = f"due_before={quote(utc_text(before))}&status={statuses}"
    return api.get("/v1/orders", "&".join([query, *(f"{k}={v}" for k, v in more.items())]))


def _ozon_posting(hub: LocalHub, api: Api, number: str, ship_by: datetime) -> str:
    shipment_date = ship_by.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ozon(hub, "ozon_new_posting.json", posting_number=number, shipment_date=shipment_date).status == 200
    order_id = order_id_for("ozon", number)
    api.wait_for(order_id, "reserved")
    return order_id


def _courier(api: Api) -> str:
    answer = api.post("/v1/orders", courier_order(f"due-{next(numbers)}", lines=LINE))
    assert answer.status == 201, answer.body
    order_id: str = answer.body["order_id"]
    api.wait_for(order_id, "reserved")
    return order_id


def test_the_due_list_is_soonest_first_with_the_marketplace_order_near_its_ship_by_on_top(
    world: tuple[LocalHub, Api],
) -> None:
    hub, api = world
    couriers = [_courier(api) for _ in range(3)]
    now = hub.clock.now()
    posting = _ozon_posting(hub, api, "90000001-0001-1", (now + timedelta(hours=6)).replace(microsecond=0))
    monitor(hub, hub.clock.now() + timedelta(minutes=3))  # plans every entry: the due list
    horizon = hub.clock.now() + timedelta(days=15)  # courier's reserved: 14 days

    listed = _due(api, horizon, "reserved", limit=100)
    assert listed.status == 200, listed.body
    ours = [item for item in listed.body["items"] if item["order_id"] in {posting, *couriers}]
    assert [item["order_id"] for item in ours] == [posting, *couriers]  # placed in this order, equal KPIs
    due = [utc_moment(item["due_at"]) for item in listed.body["items"]]
    assert due == sorted(due) and all(moment < horizon for moment in due)
    assert all(item["status"] == "reserved" for item in listed.body["items"])
    assert ours[0]["channel"] == "ozon" and utc_moment(ours[0]["due_at"]) == utc_moment(api.order(posting)["ship_by"])
    # Before the courier orders' deadline: the marketplace order alone of ours.
    soon = _due(api, now + timedelta(days=1), "reserved", limit=100).body["items"]
    assert posting in [item["order_id"] for item in soon] and not {*couriers} & {item["order_id"] for item in soon}

    # An order that moved on is dropped at once (the monitor takes its entry off at its next run) and listed
    # under its new status once the monitor has planned it; two statuses merge in deadline order.
    moved = couriers[0]
    api.event(moved, "confirm")
    api.wait_for(moved, "confirmed")
    assert moved not in [item["order_id"] for item in _due(api, horizon, "reserved", limit=100).body["items"]]
    assert _due(api, horizon, "confirmed", channel="web").body["items"] == []
    monitor(hub, hub.clock.now() + timedelta(minutes=4))
    both = _due(api, horizon + timedelta(days=1), "reserved,confirmed", limit=100).body["items"]
    mine = [(item["order_id"], item["status"]) for item in both if item["order_id"] in {posting, *couriers}]
    assert mine == [(posting, "reserved"), (couriers[1], "reserved"), (couriers[2], "reserved"), (moved, "confirmed")]
    on_ozon = _due(api, horizon, "reserved", channel="ozon", limit=100).body["items"]
    assert [item["order_id"] for item in on_ozon] == [posting]


def test_the_due_list_pages_with_a_signed_cursor_and_refuses_a_tampered_one(world: tuple[LocalHub, Api]) -> None:
    hub, api = world
    for _ in range(3):
        _courier(api)
    monitor(hub, hub.clock.now() + timedelta(minutes=3))
    horizon = hub.clock.now() + timedelta(days=15)
    everything = [item["order_id"] for item in _due(api, horizon, "reserved", limit=100).body["items"]]
    assert len(everything) >= 3
    paged: list[str] = []
    cursor = None
    while True:
        page = _due(api, horizon, "reserved", limit=2, **({"cursor": cursor} if cursor else {}))
        assert page.status == 200, page.body
        paged += [item["order_id"] for item in page.body["items"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    assert paged == everything

    first = _due(api, horizon, "reserved", limit=1).body["next_cursor"]
    payload, _, signature = first.partition(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**data, "s": "0"}).encode()).decode().rstrip("=")
    for bad, statuses, before in (
        (f"{forged}.{signature}", "reserved", horizon),  # altered position, old signature
        (first[:-2] + "xx", "reserved", horizon),  # altered signature
        (first, "reserved,confirmed", horizon),  # signed for another list
        (first, "reserved", horizon + timedelta(seconds=1)),
        ("not-a-cursor", "reserved", horizon),
    ):
        answer = _due(api, before, statuses, cursor=bad)
        assert (answer.status, answer.body["error"]) == (422, "validation_error"), bad
        assert answer.body["details"] == [{"loc": ["query", "cursor"], "msg": "invalid cursor"}]


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("due_before=2026-12-01T10:00:00&status=reserved", ["query", "due_before"]),  # no offset
        ("due_before=soon&status=reserved", ["query", "due_before"]),
        ("due_before=0001-01-01T00:00:00%2B01:00&status=reserved", ["query", "due_before"]),  # before year 1 in UTC
        ("due_before=2026-12-01T10:00:00Z", ["query", "status"]),
        ("due_before=2026-12-01T10:00:00Z&status=nope", ["query", "status", "nope"]),
        ("due_before=2026-12-01T10:00:00Z&status=reserved,delivered", ["query", "status", "delivered"]),
        ("due_before=2026-12-01T10:00:00Z&status=" + ",".join(f"s{n}" for n in range(11)), ["query", "status"]),
        ("status=reserved,confirmed,packed,shipped", ["query", "status"]),  # one status only, as before
    ],
)
def test_a_due_list_not_asked_right_is_refused_with_where(
    world: tuple[LocalHub, Api], query: str, where: list[str]
) -> None:
    answer = world[1].get("/v1/orders", query)
    assert (answer.status, answer.body["error"]) == (422, "validation_error"), answer.body
    assert where in [detail["loc"] for detail in answer.body["details"]]


def test_the_plain_list_answers_as_before(world: tuple[LocalHub, Api]) -> None:
    api = world[1]
    order_id = _courier(api)
    listed = api.get("/v1/orders", "status=reserved&channel=web&limit=100").body
    assert order_id in [item["order_id"] for item in listed["items"]]
    assert all("due_at" not in item for item in listed["items"])
    assert api.get("/v1/orders", "status=reserved,confirmed").body["items"] == []  # no such status: as before
