"""Sourcing rules, pure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from common.models import DeliveryMethod, Location
from orders.domain.sourcing import candidate_locations, plan_reservations


def _location(location_id: str, kind: str, *methods: str, active: bool = True) -> Location:
    return Location(location_id=location_id, name=location_id, kind=kind, capabilities=list(methods), active=active)


LOCATIONS = {loc.location_id: loc for loc in [
    _location("store-b", "store", "courier", "reserve_in_store"),
    _location("wh-z", "warehouse", "courier"),
    _location("store-a", "store", "courier", "click_collect"),
    _location("store-paused", "store", "courier", active=False),
]}


def test_candidates_prefer_the_chosen_location_then_warehouses_and_skip_paused_or_incapable() -> None:
    assert candidate_locations(LOCATIONS, DeliveryMethod.courier, None) == ["wh-z", "store-a", "store-b"]
    assert candidate_locations(LOCATIONS, DeliveryMethod.courier, "store-b") == ["store-b", "wh-z", "store-a"]
    assert candidate_locations(LOCATIONS, DeliveryMethod.click_collect, "store-a") == ["store-a"]
    assert candidate_locations(LOCATIONS, DeliveryMethod.reserve_in_store, "store-a") == []
    assert candidate_locations(LOCATIONS, DeliveryMethod.post, None) == []


def test_one_location_takes_the_whole_order_when_it_can() -> None:
    plan = plan_reservations({"A": 2, "B": 1}, ["wh", "s1"], {("A", "wh"): 5, ("A", "s1"): 5, ("B", "s1"): 1})
    assert [(a.sku, a.location_id, a.qty) for a in plan.allocations] == [("A", "s1", 2), ("B", "s1", 1)]
    assert plan.shortages == []


def test_skus_split_over_locations_only_when_no_single_one_has_all() -> None:
    plan = plan_reservations({"A": 2, "B": 1}, ["wh", "s1"], {("A", "wh"): 5, ("B", "s1"): 1})
    assert [(a.sku, a.location_id, a.qty) for a in plan.allocations] == [("A", "wh", 2), ("B", "s1", 1)]


def test_a_short_sku_takes_what_the_best_location_has() -> None:
    plan = plan_reservations({"A": 5}, ["wh", "s1"], {("A", "wh"): 1, ("A", "s1"): 3})
    assert [(a.location_id, a.qty) for a in plan.allocations] == [("s1", 3)]
    assert [(s.sku, s.missing) for s in plan.shortages] == [("A", 2)]
    nothing = plan_reservations({"A": 5}, [], {})
    assert nothing.allocations == [] and [(s.sku, s.missing) for s in nothing.shortages] == [("A", 5)]


@given(
    wanted=st.dictionaries(st.sampled_from("ABCD"), st.integers(1, 20), min_size=1),
    stock=st.dictionaries(st.tuples(st.sampled_from("ABCD"), st.sampled_from(["l1", "l2", "l3"])),
                          st.integers(-3, 25)),
)
def test_a_plan_never_takes_more_than_is_free_and_accounts_for_every_unit(wanted, stock) -> None:
    plan = plan_reservations(wanted, ["l1", "l2", "l3"], stock)
    for allocation in plan.allocations:
        assert 0 < allocation.qty <= stock.get((allocation.sku, allocation.location_id), 0)
    for sku, qty in wanted.items():
        reserved = sum(a.qty for a in plan.allocations if a.sku == sku)
        missing = sum(s.missing for s in plan.shortages if s.sku == sku)
        assert reserved + missing == qty and missing >= 0
