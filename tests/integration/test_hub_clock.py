"""The local hub's clock (common.clock through LocalHub(clock_speed=...), `hub.clock.advance`): KPIs, the
times the lifecycle writes, schedules and a restarted state dir all follow it."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from common.clock import utc_moment
from oms_local.runtime import LocalHub
from tests.support import builders
from tests.support.api import Api
from tests.support.workflows import place, walk

TEN_MINUTES = 600


def _held_order(api: Api, external_id: str) -> str:
    order_id = place(api, "reserve_in_store", external_id, payment={"method": "on_pickup"})
    walk(api, order_id, [("confirm", "held")])
    return order_id


def _hub_seconds_held(order: dict[str, Any]) -> float:
    """Hub seconds between entering `held` and leaving it, from the times the lifecycle wrote."""
    times = {entry["status"]: utc_moment(entry["at"]) for entry in order["timeline"]}
    return (times["expired"] - times["held"]).total_seconds()


def test_at_speed_600_a_ten_minute_kpi_runs_out_in_about_a_second() -> None:
    with LocalHub(clock_speed=600, state_timeouts={"ReserveInStoreLifecycle": {"Held": TEN_MINUTES}}) as hub:
        api = builders.every_method_shop(Api(hub))
        order_id = _held_order(api, "fast-hold")
        began = time.monotonic()
        order = api.wait_for(order_id, "expired", timeout=20)
        real = time.monotonic() - began
        assert api.stock("SKU-A", "store-1") == {"on_hand": 5, "reserved": 0, "available": 5}
    assert order["timeline"][-1]["source"] == "deadline"
    # The status times are hub times: the stay lasted the KPI on the hub clock, a 600th of it for real.
    assert _hub_seconds_held(order) >= TEN_MINUTES
    assert real < 10, real  # about 1 s; the margin is for a busy machine


def test_advancing_the_clock_runs_out_a_waiting_kpi_at_once() -> None:
    with LocalHub() as hub:  # speed 1: held's KPI is the workflow's own 48 hours
        api = builders.every_method_shop(Api(hub))
        order_id = _held_order(api, "jumped-hold")
        hub.clock.advance(timedelta(hours=47))
        time.sleep(0.3)
        assert api.order(order_id)["status"] == "held"  # not yet run out
        hub.clock.advance(timedelta(hours=1, minutes=1))
        order = api.wait_for(order_id, "expired", timeout=10)
    assert order["timeline"][-1]["source"] == "deadline"
    assert _hub_seconds_held(order) >= 48 * 3600


def _count_sweeps(hub: LocalHub) -> threading.Semaphore:
    """Released at every run of the hold sweeper (its schedule: rate(5 minutes))."""
    sweeps = threading.Semaphore(0)
    sweeper = hub._handlers["HoldSweeperFunction"]

    def counted(event: dict[str, Any], context: object) -> object:
        sweeps.release()
        return sweeper(event, context)

    hub._handlers["HoldSweeperFunction"] = counted
    return sweeps


def test_schedules_fire_at_hub_time_rates() -> None:
    with LocalHub(clock_speed=1500) as hub:  # the sweeper's 5 minutes: 0.2 s real
        sweeps = _count_sweeps(hub)
        began = hub.clock.now()
        hub.start_clock()
        time.sleep(hub.clock.real_seconds_until(began + timedelta(hours=1)))
        fired = _drain(sweeps)
        expected = (hub.clock.now() - began) / timedelta(minutes=5)
    # Each firing is at its 5 hub minutes (12 in the hour, in 2.4 s real); a busy machine may skip some
    # (as a late EventBridge does not replay them), it never fires more.
    assert expected / 3 <= fired <= expected + 1, (fired, expected)


def test_an_advance_past_several_firings_fires_a_schedule_once() -> None:
    with LocalHub() as hub:
        sweeps = _count_sweeps(hub)
        hub.start_clock()
        time.sleep(0.2)
        assert _drain(sweeps) == 0  # speed 1: its first run is 5 minutes away
        hub.clock.advance(timedelta(hours=1))  # twelve of its times passed
        assert sweeps.acquire(timeout=10)
        time.sleep(0.5)
        assert _drain(sweeps) == 0


def _drain(semaphore: threading.Semaphore) -> int:
    count = 0
    while semaphore.acquire(timeout=0):
        count += 1
    return count


def test_a_restarted_hub_never_shows_an_earlier_time_whatever_its_speed(tmp_path: Path) -> None:
    with LocalHub(state_dir=tmp_path, clock_speed=600) as hub:
        hub.clock.advance(timedelta(days=3))
        time.sleep(0.2)
        last_seen = hub.clock.now()
    with LocalHub(state_dir=tmp_path) as hub:
        assert hub.clock.speed == 1
        assert hub.clock.now() >= last_seen
        assert hub.clock.now() - last_seen < timedelta(minutes=5)  # it goes on from there, not further
