"""Sourcing rules, pure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from planning.sourcing import (
    CustomerPlace,
    Rule,
    candidate_locations,
    explain,
    haversine_km,
    plan_reservations,
    rank_candidates,
)
from reference.models import DeliveryMethod, Location


def _location(location_id: str, kind: str, *methods: str, active: bool = True, **where: object) -> Location:
    return Location(
        location_id=location_id, name=location_id, kind=kind, capabilities=list(methods), active=active, **where
    )


LOCATIONS = {
    loc.location_id: loc
    for loc in [
        _location("store-b", "store", "courier", "reserve_in_store"),
        _location("wh-z", "warehouse", "courier"),
        _location("store-a", "store", "courier", "click_collect"),
        _location("store-paused", "store", "courier", active=False),
    ]
}


def test_candidates_prefer_the_chosen_location_then_warehouses_and_skip_paused_or_incapable() -> None:
    assert candidate_locations(LOCATIONS, DeliveryMethod.courier, None) == ["wh-z", "store-a", "store-b"]
    assert candidate_locations(LOCATIONS, DeliveryMethod.courier, "store-b") == ["store-b", "wh-z", "store-a"]
    assert candidate_locations(LOCATIONS, DeliveryMethod.click_collect, "store-a") == ["store-a"]
    assert candidate_locations(LOCATIONS, DeliveryMethod.reserve_in_store, "store-a") == []
    assert candidate_locations(LOCATIONS, DeliveryMethod.post, None) == []


def test_one_location_takes_the_whole_order_when_it_can() -> None:
    plan = plan_reservations(
        {"A": 2, "B": 1}, ["wh", "s1"], {("A", "wh"): 5, ("A", "s1"): 5, ("B", "s1"): 1}, allow_split=False
    )
    assert [(a.sku, a.location_id, a.qty) for a in plan.allocations] == [("A", "s1", 2), ("B", "s1", 1)]
    assert plan.shortages == []


def test_skus_split_over_locations_only_when_no_single_one_has_all() -> None:
    plan = plan_reservations({"A": 2, "B": 1}, ["wh", "s1"], {("A", "wh"): 5, ("B", "s1"): 1}, allow_split=True)
    assert [(a.sku, a.location_id, a.qty) for a in plan.allocations] == [("A", "wh", 2), ("B", "s1", 1)]


def test_a_short_sku_takes_what_the_best_location_has() -> None:
    plan = plan_reservations({"A": 5}, ["wh", "s1"], {("A", "wh"): 1, ("A", "s1"): 3}, allow_split=True)
    assert [(a.location_id, a.qty) for a in plan.allocations] == [("s1", 3)]
    assert [(s.sku, s.missing) for s in plan.shortages] == [("A", 2)]
    nothing = plan_reservations({"A": 5}, [], {}, allow_split=True)
    assert nothing.allocations == [] and [(s.sku, s.missing) for s in nothing.shortages] == [("A", 5)]


@given(
    wanted=st.dictionaries(st.sampled_from("ABCD"), st.integers(1, 20), min_size=1),
    stock=st.dictionaries(st.tuples(st.sampled_from("ABCD"), st.sampled_from(["l1", "l2", "l3"])), st.integers(-3, 25)),
    allow_split=st.booleans(),
)
def test_a_plan_never_takes_more_than_is_free_and_accounts_for_every_unit(wanted, stock, allow_split) -> None:
    plan = plan_reservations(wanted, ["l1", "l2", "l3"], stock, allow_split=allow_split)
    if not allow_split:
        assert len(plan.locations()) <= 1
    for allocation in plan.allocations:
        assert 0 < allocation.qty <= stock.get((allocation.sku, allocation.location_id), 0)
    for sku, qty in wanted.items():
        reserved = sum(a.qty for a in plan.allocations if a.sku == sku)
        missing = sum(s.missing for s in plan.shortages if s.sku == sku)
        assert reserved + missing == qty and missing >= 0


# Moscow, Tverskaya 7 and three locations at known distances from it.
TVERSKAYA = CustomerPlace(lat=55.7576, lon=37.6130, city="Moscow")
CITY = {
    loc.location_id: loc
    for loc in [
        _location("wh-podolsk", "warehouse", "courier", lat=55.4312, lon=37.5453, city="Podolsk"),
        _location("store-arbat", "store", "courier", lat=55.7520, lon=37.5925, city="Moscow"),
        _location("store-nocoords", "store", "courier", city="Moscow"),
        _location("store-spb", "store", "courier", lat=59.9343, lon=30.3351, city="Saint Petersburg"),
        _location("store-closed", "store", "courier", lat=55.7577, lon=37.6131, city="Moscow", active=False),
    ]
}


def test_haversine_matches_known_distances() -> None:
    assert abs(haversine_km(55.7558, 37.6173, 59.9343, 30.3351) - 634) < 3  # Moscow - Saint Petersburg
    assert haversine_km(10, 20, 10, 20) == 0
    assert abs(haversine_km(0, 179.5, 0, -179.5) - 111.2) < 0.5  # across the antimeridian


def test_candidates_are_ranked_by_distance_then_city_then_kind_and_paused_ones_never_appear() -> None:
    ranked = rank_candidates(CITY, DeliveryMethod.courier, None, TVERSKAYA)
    assert [c.location_id for c in ranked] == ["store-arbat", "wh-podolsk", "store-spb", "store-nocoords"]
    assert 1.0 < ranked[0].distance_km < 1.8 and ranked[-1].distance_km is None
    # No customer coordinates: same city first, then warehouses before stores, then id.
    assert candidate_locations(CITY, DeliveryMethod.courier, None, CustomerPlace(city=" moscow ")) == [
        "store-arbat",
        "store-nocoords",
        "wh-podolsk",
        "store-spb",
    ]
    assert candidate_locations(CITY, DeliveryMethod.courier, None) == [
        "wh-podolsk",
        "store-arbat",
        "store-nocoords",
        "store-spb",
    ]
    # The customer's chosen location always comes first.
    assert candidate_locations(CITY, DeliveryMethod.courier, "store-spb", TVERSKAYA)[0] == "store-spb"


def test_the_nearest_location_with_every_line_wins_and_the_reason_says_so() -> None:
    ranked = rank_candidates(CITY, DeliveryMethod.courier, None, TVERSKAYA)
    ids = [c.location_id for c in ranked]
    stock = {
        ("A", "store-arbat"): 1,
        ("A", "wh-podolsk"): 9,
        ("B", "wh-podolsk"): 9,
        ("A", "store-spb"): 9,
        ("B", "store-spb"): 9,
    }
    plan = plan_reservations({"A": 2, "B": 1}, ids, stock, allow_split=False)
    assert plan.rule is Rule.single_location and plan.locations() == ["wh-podolsk"]
    reason = explain(plan, ranked, "web")
    assert reason.startswith("wh-podolsk has every line; the nearest such location (") and " km)" in reason


def test_without_split_the_order_stays_whole_where_most_units_are() -> None:
    stock = {("A", "l1"): 2, ("B", "l2"): 1, ("A", "l2"): 1}
    plan = plan_reservations({"A": 2, "B": 1}, ["l1", "l2"], stock, allow_split=False)
    assert plan.rule is Rule.single_location_short
    assert [(a.sku, a.location_id, a.qty) for a in plan.allocations] == [("A", "l1", 2)]  # tie: better rank
    assert [(s.sku, s.missing) for s in plan.shortages] == [("B", 1)]
    assert "does not allow split" in explain(
        plan,
        rank_candidates({i: _location(i, "store", "courier") for i in ("l1", "l2")}, DeliveryMethod.courier, None),
        "web",
    )
    none = plan_reservations({"A": 2}, ["l1"], {}, allow_split=False)
    assert none.rule is Rule.no_stock and none.allocations == [] and none.locations() == []


def test_a_split_prefers_locations_already_used() -> None:
    stock = {("A", "l1"): 5, ("B", "l2"): 5, ("C", "l1"): 5, ("C", "l2"): 5}
    plan = plan_reservations({"A": 1, "B": 1, "C": 1}, ["l2", "l1"], stock, allow_split=True)
    assert plan.rule is Rule.split
    assert [(a.sku, a.location_id) for a in plan.allocations] == [("A", "l1"), ("B", "l2"), ("C", "l1")]
