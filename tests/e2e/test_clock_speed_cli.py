"""`oms-hub local --clock-speed N` as a user runs it: the banner says so and the hub's times run N times as fast."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from common.clock import utc_moment
from tests.support.builders import courier_order
from tests.support.cli_hub import KEY, oms_hub, start_cli_hub


def test_a_hub_at_clock_speed_60_says_so_and_serves_on_its_fast_clock() -> None:
    printed: list[str] = []
    process, url = start_cli_hub("--clock-speed", "60", printed=printed)
    try:
        assert "clock at 60x real time" in printed[-1], printed
        with httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=30) as client:
            order = courier_order("fast-clock-1", lines=[{"sku": "SKU-00001", "qty": 1, "price": 1990}])
            answer = client.post("/v1/orders", json=order)
            real_now = datetime.now(UTC)
            assert answer.status_code == 201, answer.text
    finally:
        process.terminate()
        process.wait(timeout=20)
    # The demo data took seconds to load after the clock started: a minute of hub time per real second.
    assert utc_moment(answer.json()["created_at"]) - real_now > timedelta(seconds=30)


def test_a_clock_speed_that_is_not_above_zero_is_refused() -> None:
    for speed in ("0", "-2", "nan"):
        refused = oms_hub("local", "--clock-speed", speed, "--no-demo")
        assert refused.returncode == 2, refused
        assert "--clock-speed must be a number above 0" in refused.stderr
