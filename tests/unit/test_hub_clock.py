"""The hub clock: hub time = start + real elapsed * speed, moved on by advance, installed per process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from common import clock
from common.clock import HubClock

START = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


class RealTime:
    """The `time` module as the clock reads it (monotonic), moved by the test."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def monotonic(self) -> float:
        return self.seconds


@pytest.fixture
def real(monkeypatch: pytest.MonkeyPatch) -> RealTime:
    fake = RealTime()
    monkeypatch.setattr("common.clock.time", fake)
    return fake


@pytest.fixture
def installed() -> Iterator[None]:
    yield
    clock.use(None)


@pytest.mark.parametrize(("speed", "real_seconds", "hub_seconds"), [(1, 7.5, 7.5), (60, 1, 60), (600, 2.5, 1500)])
def test_hub_time_runs_speed_times_as_fast_as_real_time(
    real: RealTime, speed: float, real_seconds: float, hub_seconds: float
) -> None:
    hub = HubClock(speed, start=START)
    assert hub.now() == START
    real.seconds += real_seconds
    assert hub.now() == START + timedelta(seconds=hub_seconds)


def test_a_fractional_speed_slows_the_hub_down(real: RealTime) -> None:
    hub = HubClock(0.5, start=START)
    real.seconds += 10
    assert hub.now() == START + timedelta(seconds=5)


def test_advance_moves_hub_time_on_at_once_and_keeps_the_speed(real: RealTime) -> None:
    hub = HubClock(10, start=START)
    hub.advance(timedelta(hours=2))
    assert hub.now() == START + timedelta(hours=2)
    real.seconds += 3
    assert hub.now() == START + timedelta(hours=2, seconds=30)


def test_real_seconds_until_a_hub_moment_is_its_distance_over_the_speed(real: RealTime) -> None:
    hub = HubClock(600, start=START)
    assert hub.real_seconds_until(START + timedelta(minutes=10)) == pytest.approx(1.0)
    assert hub.real_seconds_until(START - timedelta(minutes=1)) == 0.0
    hub.advance(timedelta(minutes=9))
    assert hub.real_seconds_until(START + timedelta(minutes=10)) == pytest.approx(0.1)


def test_the_clock_never_goes_back(real: RealTime) -> None:
    hub = HubClock(1, start=START)
    with pytest.raises(ValueError, match="does not go back"):
        hub.advance(timedelta(seconds=-1))
    assert hub.now() == START


@pytest.mark.parametrize("speed", [0, -1, float("inf"), float("nan")])
def test_a_speed_that_is_not_above_zero_is_refused(speed: float) -> None:
    with pytest.raises(ValueError, match="above 0"):
        HubClock(speed)


def test_watchers_are_woken_by_every_advance_until_they_unwatch(real: RealTime) -> None:
    hub = HubClock(1, start=START)
    woken = threading.Event()
    hub.watch(woken.set)
    hub.advance(timedelta(minutes=1))
    assert woken.is_set()
    woken.clear()
    hub.unwatch(woken.set)
    hub.advance(timedelta(minutes=1))
    assert not woken.is_set()


def test_current_reads_the_installed_clock_and_the_system_clock_without_one(real: RealTime, installed: None) -> None:
    before = datetime.now(UTC)
    assert before <= clock.current() <= datetime.now(UTC)
    clock.use(HubClock(60, start=START))
    real.seconds += 2
    assert clock.current() == START + timedelta(minutes=2)
    assert clock.utc_now() == "2026-12-03T08:02:00.000Z"
    clock.use(None)
    assert clock.current() > before
