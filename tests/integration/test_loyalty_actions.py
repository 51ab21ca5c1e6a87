"""The loyalty actions end to end: orders with a loyalty card over HTTP, the real state machines announcing
their statuses, OrderActionsFunction calling a fake Loymax-like provider on 127.0.0.1 (every request held
to its shape). What the provider received is asserted, and what the order shows (`loyalty`, `actions`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from common import secrets
from common.config import settings
from loyalty.adapters.loymax import token_parameter
from oms_local.runtime import LocalHub
from tests.fakes.loymax import TOKEN, Failure, FakeLoymax, served
from tests.support.api import Api
from tests.support.builders import courier_order, warehouse_and_store
from tests.support.loyalty import CARD, LINES
from tests.support.partners import queue_depth
from tests.support.waiting import wait_until
from tests.support.workflows import action, walk

STEPS = [
    ("confirm", "confirmed"),
    ("pick", "picked"),
    ("pack", "packed"),
    ("ship", "shipped"),
    ("deliver", "delivered"),
]


@pytest.fixture
def provider() -> Iterator[FakeLoymax]:
    with served({CARD: 1000}) as fake:
        yield fake


@pytest.fixture
def shop(provider: FakeLoymax) -> Iterator[Api]:
    """LOYALTY_URL at the fake (set as the stack's parameter sets it), the actions' first backoff at 1 s;
    channel web writes points off on delivery and accrues 5 %."""
    with LocalHub() as hub:
        os.environ["LOYALTY_URL"] = provider.url  # the hub restores it on exit
        os.environ["ACTIONS_BACKOFF_SECONDS"] = "1"
        settings.cache_clear()
        secrets.put_secret(token_parameter(), TOKEN)
        api = warehouse_and_store(Api(hub))
        answer = api.put(
            "/v1/channels/web",
            {"kind": "web", "name": "Site", "loyalty": {"write_off_on": "delivered", "accrual_rate": 0.05}},
        )
        assert answer.status == 200, answer.body
        yield api
    os.environ.pop("ACTIONS_BACKOFF_SECONDS", None)
    settings.cache_clear()


def placed(api: Api, external_id: str, **extra: Any) -> str:
    body = courier_order(external_id, lines=LINES, loyalty={"card": CARD, "redeem_points": 498}, **extra)
    answer = api.post("/v1/orders", body)
    assert answer.status == 201, answer.body
    return str(answer.body["order_id"])


def test_points_are_held_a_short_pick_given_back_written_off_and_accrued_on_delivery(
    shop: Api, provider: FakeLoymax
) -> None:
    order_id = placed(shop, "web-loyal-1")
    assert action(shop, order_id, "loyalty_hold")["result"]["points"] == 498
    walk(shop, order_id, [("confirm", "confirmed"), ("pick", "picked")])
    [location] = {a["location_id"] for a in shop.order(order_id)["allocations"] if a["sku"] == "SKU-A"}
    short = {"location_id": location, "lines": [{"sku": "SKU-A", "missing": 1}]}
    assert shop.post(f"/v1/orders/{order_id}/short-picks", short).status == 200
    walk(shop, order_id, [("pack", "packed"), ("ship", "shipped"), ("deliver", "delivered")])
    # The short pick's SKU-A (1990.00 of 4980.00) is worth 199 of the points: given back before the write-off.
    assert action(shop, order_id, "loyalty_write_off")["result"]["points"] == 299
    # Kept 2990.00 of which 299 in points: 5 % of the 2691.00 paid is 134.
    assert action(shop, order_id, "loyalty_accrue")["result"]["points"] == 134
    order = shop.order(order_id)
    assert {a["name"]: a["status"] for a in order["actions"]} == {
        "loyalty_hold": "done",
        "create_shipment": "skipped",  # no CDEK account: ship did not wait for it
        "loyalty_write_off": "done",
        "loyalty_accrue": "done",
    }
    assert order["loyalty"] | {"card": "masked"} == {
        "card": "masked",
        "redeem_points": 498,
        "held": 498,
        "written_off": 299,
        "accrued": 134,
        "returned": 199,
        "taken_back": 0,
    }
    assert [request["call"] for request in provider.requests] == ["hold", "cancel", "confirm", "accrue"]
    assert provider.balances[CARD] == 1000 - 498 + 199 + 134
    assert [e["note"].split(":")[0] for e in order["timeline"] if e["source"] == "actions"] == [
        "loyalty_hold (reserved #1, attempt 1)",
        "loyalty_write_off (delivered #1, attempt 1)",
        "loyalty_accrue (delivered #1, attempt 1)",
    ]


def test_a_cancel_gives_every_point_back_and_an_order_without_a_card_is_skipped(
    shop: Api, provider: FakeLoymax
) -> None:
    order_id = placed(shop, "web-loyal-2")
    action(shop, order_id, "loyalty_hold")
    walk(shop, order_id, [("confirm", "confirmed"), ("cancel", "cancelled")])
    assert action(shop, order_id, "loyalty_give_back")["result"]["points"] == 498
    assert shop.order(order_id)["loyalty"]["returned"] == 498
    assert provider.balances[CARD] == 1000
    plain = shop.post("/v1/orders", courier_order("web-plain-1")).body["order_id"]
    assert action(shop, plain, "loyalty_hold", "skipped")["result"] == {"skipped": "the order carries no loyalty card"}
    assert not [e for e in shop.order(plain)["timeline"] if e["source"] == "actions"]
    assert [request["call"] for request in provider.requests] == ["hold", "cancel"]


def test_a_provider_outage_is_retried_and_holds_the_points_once(shop: Api, provider: FakeLoymax) -> None:
    provider.fail_next(Failure(http_status=503), times=3)  # the first attempt's three tries
    order_id = placed(shop, "web-loyal-3")
    retrying = action(shop, order_id, "loyalty_hold", "retrying")
    assert "503" in retrying["last_error"] or "loymax" in retrying["last_error"]
    done = action(shop, order_id, "loyalty_hold")
    assert (done["attempts"], done["result"]["points"]) == (2, 498)
    assert shop.order(order_id)["loyalty"]["held"] == 498
    holds = [request for request in provider.requests if request["call"] == "hold"]
    assert len(holds) == 4 and len({h["body"]["operation_id"] for h in holds}) == 1
    assert provider.balances[CARD] == 1000 - 498


def returned(api: Api, order_id: str, return_id: str, sku: str, expect: int = 201) -> None:
    body = {"return_id": return_id, "reason": "did not fit", "location_id": "wh-1", "lines": [{"sku": sku, "qty": 1}]}
    answer = api.post(f"/v1/orders/{order_id}/returns", body)
    assert answer.status == expect, answer.body


def give_backs(api: Api, order_id: str, count: int) -> list[dict[str, Any]]:
    """The order's give-backs for returns once `count` of them are done."""
    found: list[dict[str, Any]] = []

    def done() -> bool:
        found[:] = [
            a
            for a in api.order(order_id)["actions"]
            if a["name"] == "loyalty_give_back" and a["status"] == "done" and "return_id" in (a["result"] or {})
        ]
        return len(found) >= count

    wait_until(done, 20, f"{count} returns given back")
    return found


def test_returns_after_delivery_give_back_their_points_pro_rata_once_each(shop: Api, provider: FakeLoymax) -> None:
    order_id = placed(shop, "web-loyal-4")
    action(shop, order_id, "loyalty_hold")
    walk(shop, order_id, STEPS)
    action(shop, order_id, "loyalty_write_off")
    assert action(shop, order_id, "loyalty_accrue")["result"]["points"] == 224  # 5 % of 4980.00 - 498
    returned(shop, order_id, "ret-1", "SKU-A")
    [first] = give_backs(shop, order_id, 1)
    # One SKU-A of 1990.00 of 4980.00: 199 of the 498 points refunded; the accrual shrinks with the money paid.
    assert (first["result"]["return_id"], first["result"]["points"]) == ("ret-1", 199)
    assert first["result"]["taken_back"] == 224 - 134  # the accrual left: 224 x 2691 / 4482
    returned(shop, order_id, "ret-1", "SKU-A", expect=200)  # the same return again: announced again, no give-back
    returned(shop, order_id, "ret-2", "SKU-B")
    given = give_backs(shop, order_id, 2)
    assert [(g["result"]["return_id"], g["attempts"]) for g in given] == [("ret-1", 1), ("ret-2", 1)]
    assert given[1]["result"]["points"] == 100  # SKU-B's 1000.00 of 4980.00 is worth 100 points
    wait_until(lambda: queue_depth(shop.hub, "OrderActionsQueue") == 0, 15, "every announcement taken")
    order = shop.order(order_id)
    # Kept one SKU-A (1990.00, 199 of it in points): the accrual left is 224 x 1791 / 4482, 89.
    assert (order["loyalty"]["returned"], order["loyalty"]["taken_back"]) == (299, 224 - 89)
    calls = [request["call"] for request in provider.requests]
    assert calls == ["hold", "confirm", "accrue", "refund", "cancel_accrual", "refund", "cancel_accrual"]
    notes = [e["note"].split(":")[0] for e in order["timeline"] if e["source"] == "actions"][-2:]
    assert notes == ["loyalty_give_back (return ret-1, attempt 1)", "loyalty_give_back (return ret-2, attempt 1)"]
