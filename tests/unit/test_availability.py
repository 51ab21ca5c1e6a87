"""Availability rules, pure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from common.models import ChannelRules
from inventory.domain.availability import availability, offered


def test_safety_stock_then_share_rounded_down() -> None:
    rules = ChannelRules(safety_stock=2, stock_share=0.9)
    assert offered(12, rules) == 9  # (12 - 2) * 0.9
    assert offered(2, rules) == 0
    assert offered(-4, rules) == 0  # never negative, even from inconsistent input


def test_share_is_exact_in_decimal() -> None:
    assert offered(100, ChannelRules(stock_share=0.29)) == 29  # float would give 28.999... -> 28
    assert offered(10, ChannelRules(stock_share=0.7)) == 7


def test_inactive_locations_offer_nothing_and_unknown_skus_are_zero() -> None:
    stock = {("A", "l1"): 4, ("A", "l2"): 6}
    items = availability(["A", "Z"], stock, ["l1"], ChannelRules())
    assert items[0].available == 4 and [loc.location_id for loc in items[0].locations] == ["l1"]
    assert items[1].available == 0 and items[1].locations == []


@given(available=st.integers(-50, 10_000), safety=st.integers(0, 100),
       share=st.decimals(0, 1, places=2).map(float))
def test_offer_is_never_negative_nor_above_what_is_free(available: int, safety: int, share: float) -> None:
    result = offered(available, ChannelRules(safety_stock=safety, stock_share=share))
    assert 0 <= result <= max(available - safety, 0)
