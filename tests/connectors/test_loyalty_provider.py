"""The Loymax-like connector against the fake provider on 127.0.0.1 (balances per card, each operation_id
done once): what is sent, the provider's dedupe of a repeated operation, and how failures are classified
(5xx, 429 and timeouts retried then transient; 4xx permanent with the provider's reason, never the card)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from loyalty.adapters.loymax import Loymax
from loyalty.domain.results import LoyaltyRefused, LoyaltyTransient
from tests.fakes.loymax import TOKEN, Failure, FakeLoymax
from tests.fakes.server import serve

CARD = "7000123412345678"
FAST = {"timeout": 0.5, "max_backoff": 0.05}


@pytest.fixture
def fake() -> Iterator[tuple[FakeLoymax, str]]:
    provider = FakeLoymax(balances={CARD: 500})
    with serve(provider.app()) as url:
        yield provider, url


def test_points_are_held_confirmed_and_given_back_as_the_provider_counts_them(fake: tuple[FakeLoymax, str]) -> None:
    provider, url = fake
    client = Loymax(url, TOKEN, **FAST)
    held = client.call("hold", "ord_1", "ord_1:hold:k1", CARD, 120, Decimal("1990.50"))
    assert (held.points, held.balance, held.repeated) == (120, 380, False)
    assert provider.requests[0] == {
        "call": "hold",
        "purchase_id": "ord_1",
        "body": {"operation_id": "ord_1:hold:k1", "card": CARD, "points": 120, "amount": 1990.5},
    }
    client.call("cancel", "ord_1", "ord_1:give_back:k2", CARD, 20)
    client.call("confirm", "ord_1", "ord_1:write_off:k3", CARD, 100)
    refunded = client.call("refund", "ord_1", "ord_1:give_back:k4", CARD, 40)
    assert refunded.balance == 500 - 120 + 20 + 40
    assert (provider.purchases["ord_1"].held, provider.purchases["ord_1"].written_off) == (0, 60)


def test_a_repeated_operation_is_done_once_and_answered_as_the_first(fake: tuple[FakeLoymax, str]) -> None:
    provider, url = fake
    client = Loymax(url, TOKEN, **FAST)
    first = client.call("hold", "ord_1", "ord_1:hold:k1", CARD, 120, Decimal(1000))
    again = client.call("hold", "ord_1", "ord_1:hold:k1", CARD, 120, Decimal(1000))
    assert (again.points, again.balance, again.repeated) == (first.points, first.balance, True)
    assert provider.balances[CARD] == 380
    assert len(provider.operations("hold")) == 1


def test_a_timeout_whose_operation_went_through_is_not_done_twice_by_the_retry(fake: tuple[FakeLoymax, str]) -> None:
    provider, url = fake
    provider.fail_next(Failure(delay_s=1.0))  # the provider does it, the answer comes too late
    answer = Loymax(url, TOKEN, **FAST).call("accrue", "ord_1", "ord_1:accrue:k", CARD, 50, Decimal(1000))
    assert len(provider.requests) == 2
    assert provider.balances[CARD] == 550
    assert answer.points == 50


@pytest.mark.parametrize("failure", [Failure(http_status=503), Failure(http_status=429), Failure(delay_s=2.0)])
def test_a_5xx_a_429_or_a_timeout_is_retried(fake: tuple[FakeLoymax, str], failure: Failure) -> None:
    provider, url = fake
    provider.fail_next(failure)
    Loymax(url, TOKEN, **FAST).call("hold", "ord_1", "ord_1:hold:k", CARD, 10, Decimal(100))
    assert len(provider.requests) == 2
    assert provider.balances[CARD] == 490


@pytest.mark.parametrize("failure", [Failure(http_status=502), Failure(http_status=429), Failure(delay_s=2.0)])
def test_an_outage_after_every_retry_is_transient(fake: tuple[FakeLoymax, str], failure: Failure) -> None:
    provider, url = fake
    provider.fail_next(failure, times=3)
    with pytest.raises(LoyaltyTransient):
        Loymax(url, TOKEN, attempts=3, **FAST).call("hold", "ord_1", "ord_1:hold:k", CARD, 10, Decimal(100))
    assert len(provider.requests) == 3
    assert provider.done == {}


@pytest.mark.parametrize(
    ("card", "points", "reason"),
    [
        ("7000999999999999", 10, "card_not_found"),
        (CARD, 501, "not_enough_points"),
    ],
)
def test_a_refusal_is_permanent_with_the_providers_reason_and_without_the_card(
    fake: tuple[FakeLoymax, str], card: str, points: int, reason: str
) -> None:
    provider, url = fake
    with pytest.raises(LoyaltyRefused) as refused:
        Loymax(url, TOKEN, **FAST).call("hold", "ord_1", "ord_1:hold:k", card, points, Decimal(1000))
    assert str(refused.value) == f"loymax refused hold: {reason}"
    assert len(provider.requests) == 1  # not retried
    assert provider.balances[CARD] == 500


def test_confirming_more_than_is_held_is_refused(fake: tuple[FakeLoymax, str]) -> None:
    _, url = fake
    with pytest.raises(LoyaltyRefused, match="nothing_held"):
        Loymax(url, TOKEN, **FAST).call("confirm", "ord_1", "ord_1:write_off:k", CARD, 10)


def test_an_operation_id_reused_for_another_operation_is_a_conflict(fake: tuple[FakeLoymax, str]) -> None:
    provider, url = fake
    client = Loymax(url, TOKEN, **FAST)
    client.call("hold", "ord_1", "ord_1:hold:k", CARD, 10, Decimal(100))
    with pytest.raises(LoyaltyRefused, match="operation_conflict"):
        client.call("hold", "ord_1", "ord_1:hold:k", CARD, 20, Decimal(100))
    assert provider.balances[CARD] == 490


def test_a_wrong_token_is_permanent(fake: tuple[FakeLoymax, str]) -> None:
    provider, url = fake
    with pytest.raises(LoyaltyRefused, match="unauthorized"):
        Loymax(url, "not-the-token", **FAST).call("hold", "ord_1", "ord_1:hold:k", CARD, 10, Decimal(100))
    assert len(provider.requests) == 1
    assert provider.done == {}
