"""Availability rules, pure: each rule, their order, overrides, and that nothing goes negative."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from inventory.domain.availability import StockRow, availability, changes_channel, offered, sku_availability
from reference.models import ChannelRules, LocationRules, SkuRules


def _free(**by_location: int) -> dict[str, StockRow]:
    return {loc: StockRow(units) for loc, units in by_location.items()}


def test_safety_stock_then_share_rounded_down() -> None:
    rules = ChannelRules(safety_stock=2, stock_share=0.9)
    assert offered(12, rules) == 9  # (12 - 2) * 0.9
    assert offered(2, rules) == 0
    assert offered(-4, rules) == 0  # never negative, even from inconsistent input


def test_share_is_exact_in_decimal() -> None:
    assert offered(100, ChannelRules(stock_share=0.29)) == 29  # float would give 28.999... -> 28
    assert offered(10, ChannelRules(stock_share=0.7)) == 7


def test_inactive_locations_offer_nothing_and_unknown_skus_are_zero() -> None:
    stock = {("A", "l1"): StockRow(4), ("A", "l2"): StockRow(6)}
    items = availability(["A", "Z"], stock, ["l1"], ChannelRules())
    assert items[0].available == 4 and [loc.location_id for loc in items[0].locations] == ["l1"]
    assert items[1].available == 0 and items[1].locations == []


def test_sku_override_wins_over_location_override_which_wins_over_the_channel() -> None:
    rules = ChannelRules(
        safety_stock=1,
        stock_share=0.5,
        locations={"s1": LocationRules(safety_stock=0, stock_share=1)},
        skus={"A": SkuRules(stock_share=0.9)},
    )
    assert offered(10, rules, "B", "s2") == 4  # channel: (10 - 1) * 0.5
    assert offered(10, rules, "B", "s1") == 10  # location: (10 - 0) * 1
    assert offered(10, rules, "A", "s1") == 9  # location's safety stock, SKU's share
    assert offered(10, rules, "A", "s2") == 8  # channel's safety stock, SKU's share: 9 * 0.9 = 8.1


def test_excluded_locations_offer_nothing_and_do_not_count_for_the_share_cap() -> None:
    rules = ChannelRules(excluded_locations=["s2"], max_share=0.5)
    item = sku_availability("A", _free(s1=10, s2=90), rules)
    assert item.available == 5 and [loc.location_id for loc in item.locations] == ["s1"]


def test_allocation_cap_max_units_trims_the_smallest_offers_first() -> None:
    item = sku_availability("A", _free(s1=2, s2=10, s3=5), ChannelRules(max_units=12))
    assert item.available == 12
    assert {loc.location_id: loc.available for loc in item.locations} == {"s1": 0, "s2": 10, "s3": 2}


def test_allocation_cap_lowest_of_units_and_share_and_sku_override() -> None:
    stock = _free(s1=40, s2=60)
    assert sku_availability("A", stock, ChannelRules(max_units=50, max_share=0.3)).available == 30
    assert sku_availability("A", stock, ChannelRules(max_units=20, max_share=0.3)).available == 20
    rules = ChannelRules(max_units=20, skus={"A": SkuRules(max_units=70)})
    assert sku_availability("A", stock, rules).available == 70


def test_minimum_presentable_quantity_offers_nothing_below_it() -> None:
    rules = ChannelRules(min_presentable=5, skus={"B": SkuRules(min_presentable=1)})
    assert sku_availability("A", _free(s1=2, s2=2), rules).available == 0
    assert sku_availability("A", _free(s1=3, s2=2), rules).available == 5
    assert sku_availability("B", _free(s1=1), rules).available == 1


def test_rule_order_safety_share_cap_then_minimum() -> None:
    # per location: (10 - 2) * 0.5 = 4 and (30 - 2) * 0.5 = 14; cap 10 takes 8 from s1 then s2; 10 >= 6
    rules = ChannelRules(safety_stock=2, stock_share=0.5, max_units=10, min_presentable=6)
    item = sku_availability("A", _free(s1=10, s2=30), rules)
    assert (item.available, [loc.available for loc in item.locations]) == (10, [0, 10])


def test_expected_arrival_is_shown_while_nothing_is_offered() -> None:
    stock = {"s1": StockRow(0, date(2026, 12, 3)), "s2": StockRow(0, date(2026, 12, 1)), "s3": StockRow(0)}
    item = sku_availability("A", stock, ChannelRules())
    assert item.expected_at == date(2026, 12, 1)
    assert item.locations[0].expected_at == date(2026, 12, 3)
    assert sku_availability("A", {**stock, "s3": StockRow(1)}, ChannelRules()).expected_at is None


def test_a_change_matters_to_a_channel_only_when_its_offer_can_move() -> None:
    rules = ChannelRules(safety_stock=3, excluded_locations=["x"])
    assert not changes_channel(rules, "A", "s1", 1, 2)  # both under the safety stock
    assert changes_channel(rules, "A", "s1", 3, 5)
    assert not changes_channel(rules, "A", "x", 3, 50)  # excluded
    assert changes_channel(rules.model_copy(update={"max_share": 0.5}), "A", "s1", 1, 2)  # the cap counts free units


rule_sets = st.builds(
    ChannelRules,
    safety_stock=st.integers(0, 20),
    stock_share=st.decimals(0, 1, places=2).map(float),
    max_units=st.none() | st.integers(0, 200),
    max_share=st.none() | st.decimals(0, 1, places=2).map(float),
    min_presentable=st.integers(0, 30),
    excluded_locations=st.lists(st.sampled_from(["s1", "s2", "s3"])),
    skus=st.dictionaries(
        st.just("A"),
        st.builds(SkuRules, safety_stock=st.none() | st.integers(0, 20), max_units=st.none() | st.integers(0, 200)),
    ),
)


@given(rules=rule_sets, free=st.dictionaries(st.sampled_from(["s1", "s2", "s3"]), st.integers(-50, 500)))
def test_never_negative_never_above_free_and_the_total_adds_up(rules: ChannelRules, free: dict[str, int]) -> None:
    item = sku_availability("A", _free(**free), rules)
    assert item.available == sum(loc.available for loc in item.locations)
    for loc in item.locations:
        assert 0 <= loc.available <= max(free[loc.location_id], 0)
        assert loc.location_id not in rules.excluded_locations
    caps = [c for c in (rules.skus["A"].max_units if "A" in rules.skus else None,) if c is not None]
    if caps:
        assert item.available <= caps[0]
