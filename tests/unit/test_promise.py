"""Delivery promise, pure: working time in the location's own zone, cut-off, transit, DST, both sides of UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.promise import WEEKDAYS, Promise, Transit, delivery_window, processing_starts, quote, ready_at
from reference.models import Carrier, DeliveryMethod, Location

WEEKDAYS_10_19 = {day: {"opens": "10:00", "closes": "19:00"} for day in ("mon", "tue", "wed", "thu", "fri")}


def _location(
    zone: str, hours: dict | None = None, minutes: int = 120, cutoff: str | None = None, location_id: str = "loc"
) -> Location:
    return Location(
        location_id=location_id,
        name=location_id,
        kind="store",
        capabilities=["courier"],
        timezone=zone,
        working_hours=hours or {},
        processing_minutes=minutes,
        cutoff=cutoff,
    )


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_moscow_store_before_and_after_its_cutoff_on_a_friday() -> None:
    store = _location("Europe/Moscow", WEEKDAYS_10_19, minutes=120, cutoff="16:00")
    assert ready_at(store, _utc("2026-01-09T12:30")) == _utc("2026-01-09T14:30")  # Fri 15:30 MSK -> 17:30
    assert ready_at(store, _utc("2026-01-09T13:00")) == _utc("2026-01-12T09:00")  # 16:00 MSK: Mon 12:00
    assert ready_at(store, _utc("2026-01-09T15:30")) == _utc("2026-01-12T09:00")  # work spans no closed day


def test_work_left_at_closing_time_continues_at_the_next_opening() -> None:
    store = _location("Europe/Moscow", WEEKDAYS_10_19, minutes=120)
    assert ready_at(store, _utc("2026-01-09T15:00")) == _utc("2026-01-12T08:00")  # Fri 18:00: 1 h + Mon 1 h


def test_vladivostok_saturday_morning_is_still_friday_in_utc() -> None:
    store = _location("Asia/Vladivostok", WEEKDAYS_10_19, minutes=60)
    placed = _utc("2026-01-09T20:00")  # Friday in UTC, Saturday 06:00 in Vladivostok (UTC+10): closed
    ready = ready_at(store, placed)
    assert ready == _utc("2026-01-12T01:00")  # Monday 11:00 local, still Monday 01:00 UTC
    window = delivery_window([store], placed, Transit(1, 2))
    assert (window.earliest, window.latest) == (date(2026, 1, 13), date(2026, 1, 14))


def test_the_same_instant_is_a_different_date_in_kaliningrad_and_moscow() -> None:
    placed = _utc("2026-03-10T21:30")  # 23:30 in Kaliningrad (UTC+2), 00:30 next day in Moscow (UTC+3)
    kaliningrad = delivery_window([_location("Europe/Kaliningrad", minutes=10)], placed, Transit(1, 1))
    moscow = delivery_window([_location("Europe/Moscow", minutes=10)], placed, Transit(1, 1))
    assert kaliningrad.ready_at == moscow.ready_at == _utc("2026-03-10T21:40")
    assert kaliningrad.earliest == date(2026, 3, 11) and moscow.earliest == date(2026, 3, 12)


def test_a_cutoff_in_a_zone_west_of_utc_reads_local_time() -> None:
    store = _location("America/New_York", WEEKDAYS_10_19, minutes=60, cutoff="15:00")
    # Monday 02:00 UTC is Sunday 21:00 in New York: past the cut-off, and Monday is the next working day.
    assert processing_starts(store, _utc("2026-01-05T02:00")) == _utc("2026-01-05T05:00")
    assert ready_at(store, _utc("2026-01-05T02:00")) == _utc("2026-01-05T16:00")


def test_round_the_clock_work_across_a_dst_jump_counts_real_minutes() -> None:
    # Berlin skips 02:00-03:00 on 2026-03-29 and repeats 02:00-03:00 on 2026-10-25.
    warehouse = _location("Europe/Berlin", minutes=180)
    assert ready_at(warehouse, _utc("2026-03-28T23:30")) == _utc("2026-03-29T02:30")
    assert ready_at(warehouse, _utc("2026-10-24T23:30")) == _utc("2026-10-25T02:30")


def test_working_hours_are_local_on_both_sides_of_a_dst_change() -> None:
    store = _location("Europe/Berlin", WEEKDAYS_10_19, minutes=60)
    assert ready_at(store, _utc("2026-03-27T08:00")) == _utc("2026-03-27T10:00")  # CET: opens 09:00 UTC
    assert ready_at(store, _utc("2026-03-30T07:00")) == _utc("2026-03-30T09:00")  # CEST: opens 08:00 UTC


def test_an_order_split_over_locations_is_ready_when_the_last_one_is() -> None:
    fast, slow = (
        _location("Europe/Moscow", minutes=10, location_id="fast"),
        _location("Asia/Vladivostok", minutes=600, location_id="slow"),
    )
    window = delivery_window([fast, slow], _utc("2026-01-09T12:00"), Transit(2, 3))
    assert window.ready_at == _utc("2026-01-09T22:00")
    assert (window.earliest, window.latest) == (date(2026, 1, 12), date(2026, 1, 13))  # Sat 08:00 local + 2..3


CARRIERS = [
    Carrier(
        carrier_id="slowpost", name="Post", delivery_methods=["courier", "post"], transit_days={"min": 3, "max": 7}
    ),
    Carrier(carrier_id="fast", name="Fast", delivery_methods=["courier"], transit_days={"min": 1, "max": 2}),
    Carrier(
        carrier_id="off", name="Off", delivery_methods=["courier"], transit_days={"min": 0, "max": 0}, active=False
    ),
]


def test_a_quote_uses_the_fastest_active_carrier_and_no_carrier_for_a_pickup_at_the_store() -> None:
    store = _location("Europe/Moscow", minutes=60, location_id="store-1")
    placed = _utc("2026-01-09T09:00")
    courier = quote(DeliveryMethod.courier, [store], CARRIERS, placed, None)
    assert isinstance(courier, Promise) and courier.carrier_id == "fast"
    assert (courier.earliest, courier.latest) == (date(2026, 1, 10), date(2026, 1, 11))
    assert courier.ready_at == "2026-01-09T10:00:00.000Z"
    pickup = quote(DeliveryMethod.click_collect, [store], CARRIERS, placed, "store-1")
    assert isinstance(pickup, Promise) and pickup.carrier_id is None and pickup.earliest == date(2026, 1, 9)
    elsewhere = quote(DeliveryMethod.click_collect, [store], CARRIERS, placed, "store-2")
    assert elsewhere == "no active carrier is configured for click_collect"
    assert quote(DeliveryMethod.post, [], CARRIERS, placed, None) == "no location can take the whole cart"


# ------------------------------------------------------------------ properties against a minute-by-minute oracle

ZONES = [
    "UTC",
    "Europe/Moscow",
    "Asia/Vladivostok",
    "Europe/Kaliningrad",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Asia/Kolkata",
]


@st.composite
def locations(draw: st.DrawFn) -> Location:
    round_the_clock = draw(st.booleans())
    hours = {}
    if not round_the_clock:
        for day in draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True)):
            opens = draw(st.integers(0, 21))
            hours[day] = {
                "opens": time(opens).isoformat(),
                "closes": time(draw(st.integers(opens + 2, 23))).isoformat(),
            }
    cutoff = draw(st.none() | st.integers(0, 23).map(lambda h: time(h).isoformat()))
    return _location(draw(st.sampled_from(ZONES)), hours, draw(st.integers(0, 480)), cutoff)


# Minute-aligned instants around DST changes, month ends and year ends.
placements = st.datetimes(min_value=datetime(2025, 12, 25), max_value=datetime(2026, 11, 5)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
)


def _oracle(location: Location, placed: datetime) -> datetime:
    """Walk real minutes and count those inside the local working hours."""
    zone = ZoneInfo(location.timezone)
    local = placed.astimezone(zone)
    moment = placed
    if location.cutoff is not None and local.time() >= location.cutoff:
        moment = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)

    def working(instant: datetime) -> bool:
        wall = instant.astimezone(zone)
        hours = location.working_hours.get(WEEKDAYS[wall.weekday()])
        return not location.working_hours or (hours is not None and hours.opens <= wall.time() < hours.closes)

    done = 0
    while True:
        if working(moment):
            if done == location.processing_minutes:
                return moment
            done += 1
            if done == location.processing_minutes:
                return moment + timedelta(minutes=1)
        moment += timedelta(minutes=1)


@settings(max_examples=80, deadline=None)
@given(location=locations(), placed=placements)
def test_ready_at_counts_exactly_the_working_minutes(location: Location, placed: datetime) -> None:
    assert ready_at(location, placed) == _oracle(location, placed)


@settings(max_examples=150, deadline=None)
@given(location=locations(), first=placements, later=st.integers(0, 3 * 24 * 60))
def test_a_later_order_is_never_promised_earlier(location: Location, first: datetime, later: int) -> None:
    second = first + timedelta(minutes=later)
    assert first <= ready_at(location, first) <= ready_at(location, second)
    window = delivery_window([location], first, Transit(1, 3))
    assert window.latest - window.earliest == timedelta(days=2)
    assert window.earliest - window.ready_at.astimezone(ZoneInfo(location.timezone)).date() == timedelta(days=1)


@pytest.mark.parametrize("zone", ZONES)
def test_an_order_placed_at_local_midnight_on_a_working_day_waits_for_the_opening(zone: str) -> None:
    store = _location(zone, {"wed": {"opens": "09:00", "closes": "18:00"}}, minutes=30)
    midnight = datetime(2026, 6, 3, tzinfo=ZoneInfo(zone))  # a Wednesday
    assert ready_at(store, midnight).astimezone(ZoneInfo(zone)) == datetime(2026, 6, 3, 9, 30, tzinfo=ZoneInfo(zone))
