"""A channel's figures, pure: the raw figures a stream batch sets, the basis, and the recompute from them."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from inventory.domain.availability import StockRow, availability
from inventory.domain.channel_figures import (
    LocationStock,
    basis,
    decode,
    encode,
    latest_rows,
    merged,
    offer,
    rules_digest,
)
from reference.models import ChannelRules, LocationRules, SkuRules


def _row(sku: str, loc: str, available: int, at: str, expected_at: str | None = None) -> dict[str, object]:
    return {"sku": sku, "location_id": loc, "available": available, "updated_at": at, "expected_at": expected_at}


def test_the_last_write_of_a_row_in_a_batch_is_its_figure_and_a_deleted_row_is_none() -> None:
    rows = latest_rows(
        [
            (None, _row("A", "l1", 5, "t1")),
            (_row("A", "l1", 5, "t1"), _row("A", "l1", 3, "t2", "2026-12-24")),
            (_row("B", "l1", 1, "t1"), None),
        ]
    )
    assert rows == {"A": {"l1": LocationStock(3, "2026-12-24", "t2")}, "B": {"l1": None}}


def test_figures_are_set_not_added_and_an_older_write_never_replaces_a_newer_one() -> None:
    held = {"l1": LocationStock(5, None, "t2"), "l2": LocationStock(1, None, "t1")}
    changes = {
        "l1": LocationStock(9, None, "t1"),
        "l2": LocationStock(4, None, "t3"),
        "l3": LocationStock(2, None, "t1"),
    }
    once = merged(held, changes)
    assert once == {
        "l1": LocationStock(5, None, "t2"),
        "l2": LocationStock(4, None, "t3"),
        "l3": LocationStock(2, None, "t1"),
    }
    assert merged(once, changes) == once  # delivered again: the same figures
    assert merged(once, {"l2": None}) == {"l1": once["l1"], "l3": once["l3"]}


def test_encoding_is_canonical_and_round_trips() -> None:
    stock = {"l2": LocationStock(1, "2026-12-24", "t1"), "l1": LocationStock(0, None, "t2")}
    assert encode(stock) == encode(dict(reversed(stock.items())))
    assert decode(encode(stock)) == stock


def test_the_basis_follows_the_rules_and_the_active_locations_the_sku_has_rows_at() -> None:
    stock = {"l1": LocationStock(4, None, "t"), "l2": LocationStock(6, None, "t")}
    digest = rules_digest(ChannelRules())
    now = basis(digest, stock, {"l1", "l2"})
    assert basis(digest, stock, {"l1", "l2", "elsewhere"}) == now  # a location without a row changes nothing
    assert basis(digest, stock, {"l1"}) != now  # l2 paused
    assert basis(rules_digest(ChannelRules(safety_stock=1)), stock, {"l1", "l2"}) != now
    assert rules_digest(ChannelRules(stock_share=0.5)) == rules_digest(ChannelRules(stock_share=0.5))


def test_the_offer_from_the_figures_applies_the_rules_over_the_active_locations() -> None:
    stock = {
        "l1": LocationStock(4, None, "t"),
        "l2": LocationStock(6, None, "t"),
        "l3": LocationStock(0, "2026-12-24", "t"),
        "paused": LocationStock(50, None, "t"),
    }
    rules = ChannelRules(safety_stock=1, excluded_locations=["l2"])
    result = offer("A", stock, rules, {"l1", "l2", "l3"})
    assert result.available == 3
    assert [(loc.location_id, loc.available) for loc in result.locations] == [("l1", 3), ("l3", 0)]


_stock = st.dictionaries(
    st.sampled_from(["l1", "l2", "l3", "l4"]),
    st.builds(
        LocationStock,
        st.integers(-3, 60),
        st.sampled_from([None, "2026-12-24", "2027-01-05"]),
        st.just("t"),
    ),
)
_rules = st.builds(
    ChannelRules,
    safety_stock=st.integers(0, 5),
    stock_share=st.sampled_from([1.0, 0.9, 0.5, 0.29]),
    max_units=st.none() | st.integers(0, 40),
    max_share=st.none() | st.sampled_from([0.5, 0.8]),
    min_presentable=st.integers(0, 10),
    excluded_locations=st.lists(st.sampled_from(["l1", "l2", "l3", "l4"]), max_size=2, unique=True),
    locations=st.dictionaries(st.sampled_from(["l1", "l2"]), st.builds(LocationRules, safety_stock=st.integers(0, 3))),
    skus=st.dictionaries(st.just("A"), st.builds(SkuRules, max_units=st.none() | st.integers(0, 20))),
)


@given(_stock, _rules, st.sets(st.sampled_from(["l1", "l2", "l3", "l4"])))
def test_the_offer_from_the_figures_is_the_offer_from_the_stock_rows(
    stock: dict[str, LocationStock], rules: ChannelRules, active: set[str]
) -> None:
    rows = {
        ("A", loc): StockRow(row.free, date.fromisoformat(row.expected_at) if row.expected_at else None)
        for loc, row in stock.items()
    }
    assert offer("A", stock, rules, active) == availability(["A"], rows, active, rules)[0]
