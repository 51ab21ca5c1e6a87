"""`oms-hub local --state-dir DIR` refusing to start: unreadable state, a directory in use, a bad period."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.support.cli_hub import KEY, run_failing, start_cli_hub, stop


def test_unreadable_state_is_a_clear_error_and_is_left_as_it_was(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    broken = state / "hub-state.json"
    broken.write_text('{"format": "oms-hub-local-state", "version": 1, "tables": {"OrdersTable": [')
    failed = run_failing("--no-demo", "--state-dir", str(state))
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
    failed = run_failing("--no-demo", "--state-dir", str(state))
    assert failed.returncode == 2 and "OrdersTable row 0 cannot be restored" in failed.stderr, failed.stderr

    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    failed = run_failing("--no-demo", "--state-dir", str(not_a_dir))
    assert failed.returncode == 2 and "cannot be created" in failed.stderr, failed.stderr


def test_a_second_hub_on_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    process, url = start_cli_hub("--no-demo", "--state-dir", str(state))
    try:
        failed = run_failing("--no-demo", "--state-dir", str(state))
        assert failed.returncode == 2 and "in use by another oms-hub local" in failed.stderr, failed.stderr
        assert httpx.get(f"{url}/v1/orders", headers={"x-api-key": KEY}).status_code == 200
    finally:
        stop(process)


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_save_every_must_be_positive(tmp_path: Path, value: str) -> None:
    failed = run_failing("--state-dir", str(tmp_path), "--save-every", value)
    assert failed.returncode == 2 and "--save-every" in failed.stderr
