"""The loyalty points arithmetic (loyalty.domain.points): holds, write-offs, accruals, and give-backs pro rata
to the value removed, never more than was redeemed, all of it once every unit is gone, nothing twice."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from loyalty.domain import points
from loyalty.domain.results import LoyaltyResult
from orders.domain.loyalty import LoyaltyIn, masked_card, new_record, shown_loyalty

Lines = list[tuple[str, int, Decimal]]


def record_of(lines: Lines, redeem: int) -> dict[str, Any]:
    return new_record(LoyaltyIn(card="7000123412345678", redeem_points=redeem), lines)


def settled(record: dict[str, Any], key: str, operation: str, planned: points.Planned) -> None:
    """The operation as the use case records it once the provider confirmed it."""
    done: dict[str, Any] = {"operation": operation, "points": planned.points, "state": "done"}
    if planned.removed is not None:
        done["removed"] = dict(planned.removed)
    if planned.amount is not None:
        done["amount"] = planned.amount
    record["operations"][key] = done


def held_record(lines: Lines, redeem: int) -> dict[str, Any]:
    record = record_of(lines, redeem)
    settled(record, "hold", "hold", points.hold(record))
    return record


prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
line_sets = st.lists(st.tuples(st.integers(1, 20), prices), min_size=1, max_size=5).map(
    lambda drawn: [(f"SKU-{i}", qty, price) for i, (qty, price) in enumerate(drawn)]
)


def total(lines: Lines) -> Decimal:
    return sum((price * qty for _, qty, price in lines), start=Decimal(0))


@st.composite
def orders_and_removals(draw: st.DrawFn) -> tuple[Lines, int, list[dict[str, int]]]:
    lines = draw(line_sets)
    redeem = draw(st.integers(0, int(total(lines))))
    removal = st.dictionaries(st.sampled_from([sku for sku, _, _ in lines] + ["NOT-ORDERED"]), st.integers(1, 25))
    return lines, redeem, draw(st.lists(removal, max_size=8))


@given(orders_and_removals())
def test_give_backs_never_exceed_what_was_held_and_each_is_the_removed_value_share(
    drawn: tuple[Lines, int, list[dict[str, int]]],
) -> None:
    lines, redeem, removals = drawn
    record = held_record(lines, redeem)
    removed: dict[str, int] = {}
    units = {sku: qty for sku, qty, _ in lines}
    given_back = 0
    for n, removal in enumerate(removals):
        planned = points.give_back(record, removal)
        assert planned.points >= 0
        for sku, qty in removal.items():
            if sku in units:
                removed[sku] = min(units[sku], removed.get(sku, 0) + qty)
        settled(record, f"give_back:{n}", "give_back", planned)
        given_back += planned.points
        value = sum((Fraction(price) * removed.get(sku, 0) for sku, _, price in lines), start=Fraction(0))
        assert given_back == math.floor(redeem * value / Fraction(total(lines)))
        assert given_back <= redeem
    assert shown_loyalty(record)["returned"] == given_back


@given(line_sets, st.data())
def test_everything_removed_gives_back_everything_held_whatever_the_parts(lines: Lines, data: st.DataObject) -> None:
    redeem = data.draw(st.integers(1, max(1, int(total(lines)))))
    record = held_record(lines, redeem)
    for sku, qty, _ in lines:
        first = data.draw(st.integers(0, qty))
        for n, part in enumerate((first, qty - first)):
            settled(record, f"give_back:{sku}:{n}", "give_back", points.give_back(record, {sku: part}))
    assert shown_loyalty(record)["returned"] == redeem
    assert points.give_back(record, {sku: qty for sku, qty, _ in lines}).points == 0


def test_a_line_returned_twice_gives_back_nothing_the_second_time() -> None:
    record = held_record([("A", 2, Decimal("100.00")), ("B", 1, Decimal("200.00"))], 100)
    first = points.give_back(record, {"A": 2})
    assert (first.points, first.removed) == (50, {"A": 2})
    settled(record, "return:1", "give_back", first)
    again = points.give_back(record, {"A": 2})
    assert (again.points, again.removed, again.reason) == (0, None, "these units were given back for already")


def test_a_third_of_an_order_is_a_third_of_its_points_exactly_not_a_point_short() -> None:
    record = held_record([("A", 3, Decimal("33.33"))], 99)
    assert points.give_back(record, {"A": 1}).points == 33


def test_the_share_is_measured_against_the_value_at_intake_per_unit_of_a_sku() -> None:
    record = held_record([("A", 1, Decimal("10.00")), ("A", 1, Decimal("30.00")), ("B", 2, Decimal("30.00"))], 10)
    # A's two units are worth 40.00 in all: one of them 20.00 of the 100.00 the points were redeemed on.
    assert points.give_back(record, {"A": 1}).points == 2


def test_a_hold_is_made_once_and_not_at_all_without_points() -> None:
    record = held_record([("A", 1, Decimal("500.00"))], 120)
    assert (points.hold(record).points, points.hold(record).reason) == (0, "the points are held already")
    nothing = record_of([("A", 1, Decimal("500.00"))], 0)
    assert points.hold(nothing) == points.Planned(0, "no points to redeem")


def test_the_write_off_takes_what_is_still_held_once() -> None:
    record = held_record([("A", 4, Decimal("25.00"))], 40)
    settled(record, "short_pick", "give_back", points.give_back(record, {"A": 1}))
    write_off = points.write_off(record)
    assert write_off.points == 30
    settled(record, "paid", "write_off", write_off)
    assert points.write_off(record) == points.Planned(0, "the points are written off already")
    assert shown_loyalty(record) | {"card": ""} == {
        "card": "",
        "redeem_points": 40,
        "held": 40,
        "written_off": 30,
        "accrued": 0,
        "returned": 10,
        "taken_back": 0,
    }


def test_nothing_is_given_back_or_written_off_before_the_hold_is_confirmed() -> None:
    record = record_of([("A", 1, Decimal("100.00"))], 50)
    record["operations"]["hold"] = {"operation": "hold", "points": 50, "state": "planned"}
    assert points.give_back(record, {"A": 1}) == points.Planned(0, "no points are redeemed", {"A": 1})
    assert points.write_off(record) == points.Planned(0, "no points are held")


def test_a_refused_operation_moves_nothing() -> None:
    record = record_of([("A", 1, Decimal("100.00"))], 50)
    record["operations"]["hold"] = {"operation": "hold", "points": 50, "state": "refused"}
    assert points.hold(record).points == 50
    assert shown_loyalty(record)["held"] == 0


def test_accrual_is_the_rate_of_the_money_paid_for_what_was_kept_rounded_down() -> None:
    record = held_record([("A", 1, Decimal("1000.00")), ("B", 1, Decimal("999.99"))], 200)
    settled(record, "return", "give_back", points.give_back(record, {"B": 1}))
    # B took 99 of the 200 points back (99.99 rounded down); A, kept, was paid 1000.00 - 101 = 899.00: 44.95.
    assert points.accrual(record, Decimal("0.05")).points == 44
    settled(record, "delivered", "accrue", points.accrual(record, Decimal("0.05")))
    assert points.accrual(record, Decimal("0.05")) == points.Planned(0, "the points are accrued already")
    assert points.accrual(record_of([("A", 1, Decimal("9.99"))], 0), Decimal("0.1")) == points.Planned(
        0, "nothing to accrue"
    )


@given(line_sets, st.decimals(min_value=0, max_value=1, places=4))
def test_accrual_never_exceeds_the_rate_of_the_order_value(lines: Lines, rate: Decimal) -> None:
    record = held_record(lines, int(total(lines)) // 2)
    accrued = points.accrual(record, rate).points
    assert 0 <= accrued <= rate * total(lines)


def delivered(lines: Lines, redeem: int, rate: str) -> dict[str, Any]:
    record = held_record(lines, redeem)
    settled(record, "delivered", "write_off", points.write_off(record))
    settled(record, "accrued", "accrue", points.accrual(record, Decimal(rate)))
    return record


def test_a_return_after_delivery_takes_back_the_accrual_on_the_money_no_longer_paid() -> None:
    record = delivered([("A", 1, Decimal("1000.00")), ("B", 1, Decimal("1000.00"))], 200, "0.1")
    assert shown_loyalty(record)["accrued"] == 180  # 10 % of 1800.00
    settled(record, "return", "give_back", points.give_back(record, {"B": 1}))
    # 900.00 paid for A now, of the 1800.00 accrued on: 90 of the 180 points stay.
    assert points.take_back(record) == points.Planned(90)
    settled(record, "return#accrual", "take_back", points.take_back(record))
    assert points.take_back(record) == points.Planned(0, "the accrual stands")
    assert points.take_back(record_of([("A", 1, Decimal(1))], 0)) == points.Planned(0, "no points were accrued")


@given(orders_and_removals(), st.decimals(min_value=Decimal("0.0001"), max_value=1, places=4))
def test_what_is_taken_back_never_exceeds_what_was_accrued_and_is_all_of_it_once_all_is_returned(
    drawn: tuple[Lines, int, list[dict[str, int]]], rate: Decimal
) -> None:
    lines, redeem, removals = drawn
    record = delivered(lines, redeem, str(rate))
    accrued = shown_loyalty(record)["accrued"]
    for n, removal in enumerate([*removals, {sku: qty for sku, qty, _ in lines}]):
        settled(record, f"give_back:{n}", "give_back", points.give_back(record, removal))
        taken = points.take_back(record)
        assert taken.points >= 0
        settled(record, f"give_back:{n}#accrual", "take_back", taken)
        assert shown_loyalty(record)["taken_back"] <= accrued
    assert shown_loyalty(record)["taken_back"] == accrued


def test_cards_are_masked_to_their_last_four_and_short_ones_entirely() -> None:
    assert masked_card("7000123412345678") == "************5678"
    assert masked_card("ABC-1234") == "****1234"
    assert masked_card("1234567") == "*******"
    assert (
        shown_loyalty(record_of([("A", 1, Decimal("1.00"))], 1))["card"] == "7000123412345678"
    )  # masked by the read model


def test_a_result_as_its_action_record() -> None:
    assert LoyaltyResult("hold", "done", points=120, balance=380).as_record() == {
        "operation": "hold",
        "outcome": "done",
        "points": 120,
        "balance": 380,
    }
    assert LoyaltyResult("accrue", "skipped", "the channel accrues no points").as_record() == {
        "operation": "accrue",
        "outcome": "skipped",
        "reason": "the channel accrues no points",
        "points": 0,
    }
