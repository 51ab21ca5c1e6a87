"""`oms-hub local --state-dir DIR` as a user runs it: a real process, stopped with SIGTERM and started again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.cli_hub import KEY, ORDER, ROOT, start_cli_hub, wait_for_status
from tests.support.waiting import wait_until


def _stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, as a service manager stops it; the rest of its output."""
    process.terminate()
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=30)


def _available(client: httpx.Client, channel: str = "site", sku: str = "TSHIRT-M") -> int:
    answer = client.get("/v1/availability", params={"channel": channel, "skus": sku})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"][0]["available"]


def _seed(client: httpx.Client, on_hand: int) -> None:
    """A warehouse, the `site` channel and `on_hand` units of TSHIRT-M there."""
    assert (
        client.put(
            "/v1/locations/wh", json={"name": "WH", "kind": "warehouse", "capabilities": ["courier"]}
        ).status_code
        == 200
    )
    assert client.put("/v1/channels/site", json={"kind": "web", "name": "Site"}).status_code == 200
    assert (
        client.put(
            "/v1/stock/wh", json={"mode": "snapshot", "items": [{"sku": "TSHIRT-M", "on_hand": on_hand}]}
        ).status_code
        == 200
    )


def _run_failing(*args: str) -> subprocess.CompletedProcess[str]:
    """`oms-hub local` that must refuse to start: it exits by itself (a timeout here means it served)."""
    cli = Path(sys.executable).parent / "oms-hub"
    return subprocess.run(
        [str(cli), "local", "--port", "1", *args],
        check=False,  # the caller reads the exit status
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "OMS_API_KEY": KEY, "OMS_LOG_LEVEL": "WARNING"},
        timeout=90,
    )


def test_orders_and_stock_survive_a_restart_and_the_open_order_moves_on(tmp_path: Path) -> None:
    state = tmp_path / "state"
    # No periodic snapshot in this run: what the restart finds was saved by the SIGTERM stop.
    process, url = start_cli_hub("--no-demo", "--state-dir", str(state), "--save-every", "3600")
    try:
        with _client(url) as client:
            _seed(client, on_hand=5)
            created = client.post(
                "/v1/orders",
                json={**ORDER, "external_id": "restart-1", "lines": [{"sku": "TSHIRT-M", "qty": 2, "price": 999}]},
            )
            assert created.status_code == 201, created.text
            order = created.json()
            assert order["status"] == "reserved"
            wait_until(lambda: _available(client) == 3, what="the stock stream's figures")
    finally:
        _stop(process)
    assert (state / "hub-state.json").is_file()

    process, url = start_cli_hub("--no-demo", "--state-dir", str(state))
    try:
        with _client(url) as client:
            again = client.get(f"/v1/orders/{order['order_id']}")
            assert again.status_code == 200
            assert {k: again.json()[k] for k in ("status", "lines", "allocations", "timeline")} == {
                k: order[k] for k in ("status", "lines", "allocations", "timeline")
            }
            assert _available(client) == 3
            assert [c["channel_id"] for c in client.get("/v1/channels").json()["items"]] == ["site"]

            # The same order sent again after the restart: the one recorded before, nothing reserved twice.
            duplicate = client.post(
                "/v1/orders",
                json={**ORDER, "external_id": "restart-1", "lines": [{"sku": "TSHIRT-M", "qty": 2, "price": 999}]},
            )
            assert duplicate.status_code == 200, duplicate.text
            assert duplicate.json()["order_id"] == order["order_id"]
            assert _available(client) == 3

            # Its lifecycle was resumed: it takes its next event and goes on to the end.
            for event in ["confirm", "pick", "pack", "ship", "deliver"]:
                answer = client.post(f"/v1/orders/{order['order_id']}/events", json={"event": event})
                assert answer.status_code == 202, answer.text
                wait_for_status(client, order["order_id"], answer.json()["next_status"])
            assert wait_for_status(client, order["order_id"], "delivered")["timeline"][-1]["event"] == "deliver"
            assert _available(client) == 3  # 5 on hand, 2 delivered
    finally:
        _stop(process)

    # The delivered order is what a third start finds.
    process, url = start_cli_hub("--no-demo", "--state-dir", str(state))
    try:
        with _client(url) as client:
            assert client.get(f"/v1/orders/{order['order_id']}").json()["status"] == "delivered"
            assert _available(client) == 3
    finally:
        _stop(process)

    # Without --state-dir the hub is in memory, as before: empty.
    process, url = start_cli_hub("--no-demo")
    try:
        with _client(url) as client:
            assert client.get(f"/v1/orders/{order['order_id']}").status_code == 404
            assert client.get("/v1/orders").json()["items"] == []
    finally:
        _stop(process)


def test_a_killed_hub_keeps_what_it_had_saved(tmp_path: Path) -> None:
    state = tmp_path / "state"
    process, url = start_cli_hub("--no-demo", "--state-dir", str(state), "--save-every", "0.2")
    try:
        with _client(url) as client:
            _seed(client, on_hand=7)
            order = client.post("/v1/orders", json={**ORDER, "external_id": "killed-1"}).json()
            time.sleep(1.5)  # several snapshot periods
    finally:
        process.kill()  # SIGKILL: no stop, no last snapshot
        process.communicate(timeout=30)
    process, url = start_cli_hub("--no-demo", "--state-dir", str(state))
    try:
        with _client(url) as client:
            assert client.get(f"/v1/orders/{order['order_id']}").json()["status"] == "reserved"
            assert _available(client) == 6
            answer = client.post(f"/v1/orders/{order['order_id']}/events", json={"event": "cancel"})
            assert answer.status_code == 202, answer.text
            wait_for_status(client, order["order_id"], "cancelled")
            wait_until(lambda: _available(client) == 7, what="the stock stream's figures")
    finally:
        _stop(process)


def test_demo_data_is_seeded_once_and_never_over_persisted_data(tmp_path: Path) -> None:
    state = tmp_path / "state"
    process, url = start_cli_hub("--state-dir", str(state))
    try:
        with _client(url) as client:
            assert len(client.get("/v1/locations").json()["items"]) == 3  # the demo, into an empty state dir
            # Far more than the demo ever puts there (at most 60 + 8 + 8): a re-seed would show.
            changed = client.put(
                "/v1/stock/msk-wh-1", json={"mode": "delta", "items": [{"sku": "SKU-00001", "on_hand": 1000}]}
            )
            assert changed.status_code == 200, changed.text
            wait_until(lambda: _available(client, "web", "SKU-00001") > 800, what="the stock stream's figures")
            offered = _available(client, "web", "SKU-00001")
    finally:
        _stop(process)

    for args in ([], ["--no-demo"]):  # a restart with or without --no-demo finds the saved data as it was
        process, url = start_cli_hub("--state-dir", str(state), *args)
        try:
            with _client(url) as client:
                assert _available(client, "web", "SKU-00001") == offered
                assert len(client.get("/v1/locations").json()["items"]) == 3
        finally:
            _stop(process)


def test_unreadable_state_is_a_clear_error_and_is_left_as_it_was(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    broken = state / "hub-state.json"
    broken.write_text('{"format": "oms-hub-local-state", "version": 1, "tables": {"OrdersTable": [')
    failed = _run_failing("--no-demo", "--state-dir", str(state))
    assert failed.returncode == 2, failed.stdout + failed.stderr
    assert str(broken) in failed.stderr and "not a readable hub state" in failed.stderr
    assert "serving" not in failed.stdout
    assert broken.read_text().endswith('"OrdersTable": [')  # not replaced by an empty snapshot

    broken.write_text(
        json.dumps(
            {
                "format": "oms-hub-local-state",
                "version": 1,
                "secrets": {},
                "tables": {"OrdersTable": [{"no_key": {"S": "x"}}]},
            }
        )
    )
    failed = _run_failing("--no-demo", "--state-dir", str(state))
    assert failed.returncode == 2 and "OrdersTable row 0 cannot be restored" in failed.stderr, failed.stderr

    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    failed = _run_failing("--no-demo", "--state-dir", str(not_a_dir))
    assert failed.returncode == 2 and "cannot be created" in failed.stderr, failed.stderr


def test_a_second_hub_on_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    process, url = start_cli_hub("--no-demo", "--state-dir", str(state))
    try:
        failed = _run_failing("--no-demo", "--state-dir", str(state))
        assert failed.returncode == 2 and "in use by another oms-hub local" in failed.stderr, failed.stderr
        assert httpx.get(f"{url}/v1/orders", headers={"x-api-key": KEY}).status_code == 200
    finally:
        _stop(process)


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_save_every_must_be_positive(tmp_path: Path, value: str) -> None:
    failed = _run_failing("--state-dir", str(tmp_path), "--save-every", value)
    assert failed.returncode == 2 and "--save-every" in failed.stderr
