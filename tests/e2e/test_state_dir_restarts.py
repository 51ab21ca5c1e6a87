"""`oms-hub local --state-dir DIR` as a user runs it: a real process, stopped with SIGTERM (or killed) and
started again on the same directory."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.cli_hub import ORDER, available, client_for, seed_tshirts, start_cli_hub, stop, wait_for_status
from tests.support.waiting import wait_until


def test_orders_and_stock_survive_a_restart_and_the_open_order_moves_on(tmp_path: Path) -> None:
    state = tmp_path / "state"
    # No periodic snapshot in this run: what the restart finds was saved by the SIGTERM stop.
    process, url = start_cli_hub("--no-demo", "--state-dir", str(state), "--save-every", "3600")
    try:
        with client_for(url) as client:
            seed_tshirts(client, on_hand=5)
            created = client.post(
                "/v1/orders",
                json={**ORDER, "external_id": "restart-1", "lines": [{"sku": "TSHIRT-M", "qty": 2, "price": 999}]},
            )
            assert created.status_code == 201, created.text
            order = created.json()
            assert order["status"] == "reserved"
            wait_until(lambda: available(client) == 3, what="the stock stream's figures")
    finally:
        stop(process)
    assert (state / "hub-state.json").is_file()

    process, url = start_cli_hub("--no-demo", "--state-dir", str(state))
    try:
        with client_for(url) as client:
            again = client.get(f"/v1/orders/{order['order_id']}")
            assert again.status_code == 200
            assert {k: again.json()[k] for k in ("status", "lines", "allocations", "timeline")} == {
                k: order[k] for k in ("status", "lines", "allocations", "timeline")
            }
            assert available(client) == 3
            assert [c["channel_id"] for c in client.get("/v1/channels").json()["items"]] == ["site"]

            # The same order sent again after the restart: the one recorded before, nothing reserved twice.
            duplicate = client.post(
                "/v1/orders",
                json={**ORDER, "external_id": "restart-1", "lines": [{"sku": "TSHIRT-M", "qty": 2, "price": 999}]},
            )
            assert duplicate.status_code == 200, duplicate.text
            assert duplicate.json()["order_id"] == order["order_id"]
            assert available(client) == 3

            # Its lifecycle was resumed: it takes its next event and goes on to the end.
            for event in ["confirm", "pick", "pack", "ship", "deliver"]:
                answer = client.post(f"/v1/orders/{order['order_id']}/events", json={"event": event})
                assert answer.status_code == 202, answer.text
                wait_for_status(client, order["order_id"], answer.json()["next_status"])
            assert wait_for_status(client, order["order_id"], "delivered")["timeline"][-1]["event"] == "deliver"
            assert available(client) == 3  # 5 on hand, 2 delivered
    finally:
        stop(process)

    # The delivered order is what a third start finds.
    process, url = start_cli_hub("--no-demo", "--state-dir", str(state))
    try:
        with client_for(url) as client:
            assert client.get(f"/v1/orders/{order['order_id']}").json()["status"] == "delivered"
            assert available(client) == 3
    finally:
        stop(process)

    # Without --state-dir the hub is in memory, as before: empty.
    process, url = start_cli_hub("--no-demo")
    try:
        with client_for(url) as client:
            assert client.get(f"/v1/orders/{order['order_id']}").status_code == 404
            assert client.get("/v1/orders").json()["items"] == []
    finally:
        stop(process)


def test_a_killed_hub_keeps_what_it_had_saved(tmp_path: Path) -> None:
    state = tmp_path / "state"
    process, url = start_cli_hub("--no-demo", "--state-dir", str(state), "--save-every", "0.2")
    try:
        with client_for(url) as client:
            seed_tshirts(client, on_hand=7)
            order = client.post("/v1/orders", json={**ORDER, "external_id": "killed-1"}).json()
            time.sleep(1.5)  # several snapshot periods
    finally:
        process.kill()  # SIGKILL: no stop, no last snapshot
        process.communicate(timeout=30)
    process, url = start_cli_hub("--no-demo", "--state-dir", str(state))
    try:
        with client_for(url) as client:
            assert client.get(f"/v1/orders/{order['order_id']}").json()["status"] == "reserved"
            # The stock stream may not have delivered the seeding and the reservation before the kill
            # (its batching window is 1 s): what it had not is delivered after the restart.
            wait_until(lambda: available(client) == 6, what="the stock stream's figures")
            answer = client.post(f"/v1/orders/{order['order_id']}/events", json={"event": "cancel"})
            assert answer.status_code == 202, answer.text
            wait_for_status(client, order["order_id"], "cancelled")
            wait_until(lambda: available(client) == 7, what="the stock stream's figures")
    finally:
        stop(process)


def test_demo_data_is_seeded_once_and_never_over_persisted_data(tmp_path: Path) -> None:
    state = tmp_path / "state"
    process, url = start_cli_hub("--state-dir", str(state))
    try:
        with client_for(url) as client:
            assert len(client.get("/v1/locations").json()["items"]) == 3  # the demo, into an empty state dir
            # Far more than the demo ever puts there (at most 60 + 8 + 8): a re-seed would show.
            changed = client.put(
                "/v1/stock/msk-wh-1", json={"mode": "delta", "items": [{"sku": "SKU-00001", "on_hand": 1000}]}
            )
            assert changed.status_code == 200, changed.text
            wait_until(lambda: available(client, "web", "SKU-00001") > 800, what="the stock stream's figures")
            offered = available(client, "web", "SKU-00001")
    finally:
        stop(process)

    for args in ([], ["--no-demo"]):  # a restart with or without --no-demo finds the saved data as it was
        process, url = start_cli_hub("--state-dir", str(state), *args)
        try:
            with client_for(url) as client:
                assert available(client, "web", "SKU-00001") == offered
                assert len(client.get("/v1/locations").json()["items"]) == 3
        finally:
            stop(process)
