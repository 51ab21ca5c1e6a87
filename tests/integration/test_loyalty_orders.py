"""Loyalty points on a local hub: orders carrying a loyalty card placed over HTTP as a shop does, the
loyalty use cases called with the order as the lifecycle's actions call them, against a fake Loymax-like
provider on 127.0.0.1 that keeps the card's balance. Points are held, written off per the channel,
accrued and given back pro rata; a repeat moves no point twice; an outage is transient and retried with
the same operation; a refusal is permanent with the provider's reason; bad loyalty input is a 422 that
writes nothing; and no log line carries the card number."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from common import config, secrets
from loyalty.adapters import loymax
from loyalty.adapters.loymax import Loymax, token_parameter
from loyalty.domain.results import LoyaltyResult
from loyalty.use_cases import points
from oms_local.runtime import LocalHub
from orders.domain.models import order_id_for
from tests.fakes.loymax import TOKEN, Failure, FakeLoymax, served
from tests.support.api import Api
from tests.support.builders import courier_order, warehouse_and_store
from tests.support.loyalty import CARD, LINES

MASKED = "************5678"


@pytest.fixture
def provider() -> Iterator[FakeLoymax]:
    with served({CARD: 1000}) as fake:
        yield fake


@pytest.fixture
def shop(provider: FakeLoymax, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The hub's loyalty provider is the fake; channel web writes off on delivery and accrues 5 %."""
    # The hub's loyalty actions see the template's empty LOYALTY_URL (loyalty off) and leave these orders
    # to the use cases called here (tests/integration/test_loyalty_actions.py runs them through the actions).
    monkeypatch.setattr(loymax, "_connected", lambda _url, token: Loymax(provider.url, token))
    with LocalHub() as hub:
        config.settings.cache_clear()
        secrets.put_secret(token_parameter(), TOKEN)
        api = warehouse_and_store(Api(hub))
        channel(api, write_off_on="delivered", accrual_rate=0.05)
        yield api
    config.settings.cache_clear()


def channel(api: Api, **loyalty: Any) -> None:
    answer = api.put("/v1/channels/web", {"kind": "web", "name": "Site", "loyalty": loyalty})
    assert answer.status == 200, answer.body


def channel_loyalty(api: Api) -> dict[str, Any]:
    [web] = api.get("/v1/channels").body["items"]
    return dict(web["loyalty"])


def placed(api: Api, external_id: str = "web-1001", **loyalty: Any) -> dict[str, Any]:
    answer = api.post("/v1/orders", courier_order(external_id, lines=LINES, loyalty={"card": CARD, **loyalty}))
    assert answer.status == 201, answer.body
    return api.order(answer.body["order_id"])


def test_an_order_with_a_card_is_accepted_and_shows_its_points_with_the_card_masked(shop: Api) -> None:
    order = placed(shop, redeem_points=498)
    assert order["loyalty"] == {
        "card": MASKED,
        "redeem_points": 498,
        "held": 0,
        "written_off": 0,
        "accrued": 0,
        "returned": 0,
        "taken_back": 0,
    }
    assert CARD not in str(shop.get("/v1/orders").body)
    assert channel_loyalty(shop) == {"write_off_on": "delivered", "accrual_rate": 0.05}
    no_card = shop.post("/v1/orders", courier_order("web-1002"))
    assert no_card.status == 201 and shop.order(no_card.body["order_id"]).get("loyalty") is None


def test_points_are_held_given_back_written_off_and_accrued_pro_rata(shop: Api, provider: FakeLoymax) -> None:
    order = placed(shop, redeem_points=498)
    assert points.hold(order, "hold_points:reserved:1").as_record() == {
        "operation": "hold",
        "outcome": "done",
        "points": 498,
        "balance": 502,
    }
    # A short pick of one SKU-A (1990.00 of 4980.00) gives back 199.2 points, rounded down, from the hold.
    short = points.give_back(order, "give_back_points:short_pick:1", {"SKU-A": 1})
    assert (short.outcome, short.points) == ("done", 199)
    paid = points.write_off(order, "write_off_points:paid:1", on="paid")
    assert (paid.outcome, paid.reason) == ("skipped", "the channel writes points off on delivery")
    assert points.write_off(order, "write_off_points:delivered:1", on="delivered").points == 299
    # Kept 2990.00 of which 299 in points: 2691.00 paid, 5 % of it is 134.55.
    assert points.accrue(order, "accrue_points:delivered:1").points == 134
    # SKU-B returned: 2990.00 of 4980.00 removed in all is 299 points, 199 of them given back already; the
    # money paid for what is kept is 1990.00 - 199 = 1791.00 of the 2691.00 accrued on: 89 of 134 stay.
    returned = points.give_back(order, "give_back_points:returned:1", {"SKU-B": 1})
    assert (returned.outcome, returned.points, returned.taken_back) == ("done", 100, 45)

    assert shop.order(order["order_id"])["loyalty"] == {
        "card": MASKED,
        "redeem_points": 498,
        "held": 498,
        "written_off": 299,
        "accrued": 134,
        "returned": 299,
        "taken_back": 45,
    }
    assert [request["call"] for request in provider.requests] == [
        "hold",
        "cancel",
        "confirm",
        "accrue",
        "refund",
        "cancel_accrual",
    ]
    assert provider.balances[CARD] == 1000 - 498 + 199 + 100 + 134 - 45
    assert returned.balance == provider.balances[CARD]
    assert provider.purchases[order["order_id"]].written_off == 299 - 100
    assert {request["body"]["operation_id"] for request in provider.requests} == {
        f"{order['order_id']}:hold:hold_points:reserved:1",
        f"{order['order_id']}:give_back:give_back_points:short_pick:1",
        f"{order['order_id']}:write_off:write_off_points:delivered:1",
        f"{order['order_id']}:accrue:accrue_points:delivered:1",
        f"{order['order_id']}:give_back:give_back_points:returned:1",
        f"{order['order_id']}:take_back:give_back_points:returned:1#accrual",
    }


def test_a_cancel_gives_back_everything_held_and_a_repeat_moves_nothing_twice(shop: Api, provider: FakeLoymax) -> None:
    order = placed(shop, redeem_points=333)
    points.hold(order, "hold_points:reserved:1")
    assert points.hold(order, "hold_points:reserved:1").points == 333  # the same action again: its result
    assert points.hold(order, "hold_points:reserved:2").reason == "the points are held already"
    cancelled = points.give_back(order, "give_back_points:cancelled:1")
    assert (cancelled.outcome, cancelled.points) == ("done", 333)
    again = points.give_back(order, "give_back_points:cancelled:1")
    assert (again.outcome, again.points) == ("done", 333)
    twice = points.give_back(order, "give_back_points:returned:1", {"SKU-A": 2, "SKU-B": 1})
    assert (twice.outcome, twice.reason) == ("skipped", "these units were given back for already")
    assert [request["call"] for request in provider.requests] == ["hold", "cancel"]
    assert provider.balances[CARD] == 1000
    assert shop.order(order["order_id"])["loyalty"]["returned"] == 333


@pytest.mark.parametrize(
    "removals",
    [
        [{"SKU-A": 2, "SKU-B": 1}] * 4,  # the same units removed four times at once: given back for once
        [{"SKU-A": 1}, {"SKU-A": 1}, {"SKU-B": 1}, {"SKU-A": 1}],  # every unit, in parts, at once
    ],
)
def test_give_backs_at_the_same_time_give_back_no_more_than_was_held(
    shop: Api, provider: FakeLoymax, removals: list[dict[str, int]]
) -> None:
    order = placed(shop, redeem_points=100)
    points.hold(order, "hold_points:reserved:1")
    start = threading.Barrier(len(removals))

    def give_back(n: int) -> LoyaltyResult:
        start.wait()
        return points.give_back(order, f"give_back_points:returned:{n}", removals[n])

    with ThreadPoolExecutor(len(removals)) as pool:
        results = list(pool.map(give_back, range(len(removals))))
    assert {result.outcome for result in results} <= {"done", "skipped"}
    assert sum(result.points for result in results) == 100
    assert shop.order(order["order_id"])["loyalty"]["returned"] == 100
    assert sum(body["points"] for body in provider.operations("cancel")) == 100
    assert provider.balances[CARD] == 1000


def test_a_return_whose_accrual_cannot_be_taken_back_now_is_retried_and_done_once(
    shop: Api, provider: FakeLoymax
) -> None:
    order = placed(shop)  # a card to accrue on, no points redeemed
    assert points.accrue(order, "accrue_points:delivered:1").points == 249  # 5 % of 4980.00
    provider.fail_next(Failure(http_status=503), times=3)
    failed = points.give_back(order, "give_back_points:returned:1", {"SKU-B": 1})
    assert (failed.outcome, failed.points, failed.taken_back) == ("transient_failure", 0, 0)
    retried = points.give_back(order, "give_back_points:returned:1", {"SKU-B": 1})
    # 3980.00 of the 4980.00 accrued on is still paid for: 199 of 249 points stay.
    assert (retried.outcome, retried.reason, retried.taken_back) == ("done", None, 50)
    assert [body["points"] for body in provider.operations("cancel_accrual")] == [50]
    assert provider.balances[CARD] == 1000 + 249 - 50
    assert shop.order(order["order_id"])["loyalty"]["taken_back"] == 50


def test_an_outage_is_transient_and_the_retry_sends_the_same_operation_once(shop: Api, provider: FakeLoymax) -> None:
    order = placed(shop, redeem_points=100)
    provider.fail_next(Failure(http_status=503), times=3)
    failed = points.hold(order, "hold_points:reserved:1")
    assert (failed.outcome, failed.points) == ("transient_failure", 0)
    assert shop.order(order["order_id"])["loyalty"]["held"] == 0  # the order shows what the provider confirmed
    waiting = points.give_back(order, "give_back_points:cancelled:1")
    assert (waiting.outcome, waiting.reason) == ("transient_failure", "the hold is not confirmed by the provider yet")

    provider.fail_next(Failure(delay_s=1.0))  # done by the provider, its answer lost to the client's timeout
    impatient = Loymax(provider.url, TOKEN, timeout=0.5, max_backoff=0.05)
    retried = points.hold(order, "hold_points:reserved:1", provider=impatient)
    assert (retried.outcome, retried.points) == ("done", 100)
    assert len(provider.operations("hold")) == 1 and provider.balances[CARD] == 900
    assert shop.order(order["order_id"])["loyalty"]["held"] == 100


@pytest.mark.parametrize(
    ("balance", "reason"),
    [(None, "loymax refused hold: card_not_found"), (50, "loymax refused hold: not_enough_points")],
)
def test_a_refusal_is_permanent_with_the_providers_reason(
    shop: Api, provider: FakeLoymax, balance: int | None, reason: str
) -> None:
    provider.balances.pop(CARD)
    if balance is not None:
        provider.balances[CARD] = balance
    order = placed(shop, redeem_points=100)
    refused = points.hold(order, "hold_points:reserved:1")
    assert (refused.outcome, refused.reason) == ("permanent_failure", reason)
    assert shop.order(order["order_id"])["loyalty"]["held"] == 0
    nothing = points.give_back(order, "give_back_points:cancelled:1")
    assert (nothing.outcome, nothing.reason) == ("skipped", "no points are redeemed")


def test_without_the_providers_token_an_operation_fails_for_good_and_moves_nothing(
    shop: Api, provider: FakeLoymax
) -> None:
    order = placed(shop, redeem_points=100)
    boto3.client("ssm").delete_parameter(Name=token_parameter())
    secrets.forget()
    refused = points.hold(order, "hold_points:reserved:1")
    assert (refused.outcome, refused.reason) == ("permanent_failure", "no loymax token is configured")
    assert provider.requests == []
    secrets.put_secret(token_parameter(), TOKEN)  # the operator's fix: the same action again holds the points
    assert points.hold(order, "hold_points:reserved:1").points == 100


def test_without_a_card_or_points_or_a_rate_nothing_is_asked(shop: Api, provider: FakeLoymax) -> None:
    no_card = shop.order(shop.post("/v1/orders", courier_order("web-1002")).body["order_id"])
    assert points.hold(no_card, "k").reason == "the order carries no loyalty card"
    assert points.hold(placed(shop), "k").reason == "no points to redeem"
    channel(shop, accrual_rate=0)
    assert points.accrue(placed(shop, "web-1003"), "k").reason == "the channel accrues no points"
    assert provider.requests == []


def test_a_channel_writing_off_on_payment_does_it_once(shop: Api, provider: FakeLoymax) -> None:
    channel(shop, write_off_on="paid")
    order = placed(shop, redeem_points=200)
    points.hold(order, "hold_points:reserved:1")
    assert points.write_off(order, "write_off_points:paid:1", on="paid").points == 200
    delivered = points.write_off(order, "write_off_points:delivered:1", on="delivered")
    assert (delivered.outcome, delivered.reason) == ("skipped", "the points are written off already")
    assert [request["call"] for request in provider.requests] == ["hold", "confirm"]


@pytest.mark.parametrize(
    "loyalty",
    [
        {"card": "7000\n1234"},
        {"card": "7" * 33},
        {"card": "123"},
        {"card": CARD, "redeem_points": -1},
        {"card": CARD, "redeem_points": "10"},
        {"card": CARD, "redeem_points": 1.5},
        {"card": CARD, "redeem_points": True},
        {"card": CARD, "redeem_points": 4981},  # more than the order's total
        {"card": CARD, "redeem_points": 10_000_001},
        {"card": CARD, "points": 10},
        {"redeem_points": 10},
        "7000123412345678",
    ],
)
def test_bad_loyalty_input_is_refused_and_nothing_is_written(shop: Api, loyalty: Any) -> None:
    before = shop.stock("SKU-A", "wh-1")
    answer = shop.post("/v1/orders", courier_order("web-1009", lines=LINES, loyalty=loyalty))
    assert answer.status == 422, answer.body
    assert "loyalty" in str(answer.body)
    assert shop.get(f"/v1/orders/{order_id_for('web', 'web-1009')}").status == 404
    assert shop.stock("SKU-A", "wh-1") == before


@pytest.mark.parametrize("loyalty", [{"write_off_on": "shipped"}, {"accrual_rate": 1.5}, {"accrual_rate": "0.1"}])
def test_bad_channel_loyalty_settings_are_refused(shop: Api, loyalty: dict[str, Any]) -> None:
    answer = shop.put("/v1/channels/web", {"kind": "web", "name": "Site", "loyalty": loyalty})
    assert answer.status == 422, answer.body
    assert channel_loyalty(shop) == {"write_off_on": "delivered", "accrual_rate": 0.05}


def test_no_log_line_carries_the_card_number(shop: Api, provider: FakeLoymax, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # the functions' level; the SDK's DEBUG dumps hold whole requests
    order = placed(shop, redeem_points=100)
    points.hold(order, "hold_points:reserved:1")
    provider.balances.pop(CARD)  # the provider's refusal names the card in its message
    points.accrue(order, "accrue_points:delivered:1")
    logged = " ".join(json.dumps(record.__dict__, default=str) for record in caplog.records)
    assert "loyalty operation" in logged and MASKED in logged
    assert CARD not in logged
