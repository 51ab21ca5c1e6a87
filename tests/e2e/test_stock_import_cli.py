"""`oms-hub stock import` as an ERP operator runs it, against `oms-hub local` over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.cli_hub import KEY, ROOT, start_cli_hub
from tests.support.waiting import wait_until


def test_csv_import_with_progress_line_numbers_and_a_repeat_that_changes_nothing(tmp_path: Path) -> None:
    process, url = start_cli_hub("--no-demo")
    try:
        with httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=30) as client:
            assert client.put("/v1/locations/st-1", json={"name": "Store", "kind": "store"}).status_code == 200
            assert client.put("/v1/channels/web", json={"kind": "web", "name": "Site"}).status_code == 200
            path = tmp_path / "erp.csv"
            path.write_text("sku,on_hand\n" + "".join(f"E-{n},{n}\n" for n in range(1, 1_201)) + "E-X,many\n")
            command = [
                str(Path(sys.executable).parent / "oms-hub"),
                "stock",
                "import",
                str(path),
                "--location",
                "st-1",
                "--url",
                url,
            ]
            env = {**os.environ, "OMS_API_KEY": KEY}
            first = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            assert first.returncode == 1  # one row was not applied
            assert "line 1202: E-X: on_hand" in first.stderr and "erp.csv" in first.stderr  # the error, the bar
            assert "1201 rows, 1200 applied" in first.stdout
            again = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            assert "2 parts already applied before" in again.stdout

            def offered() -> list[int]:
                answer = client.get("/v1/availability", params={"channel": "web", "skus": "E-1,E-1200,E-X"}).json()
                return [item["available"] for item in answer["items"]]

            # Availability is the stock stream's figures: they follow the import once its reader catches up.
            wait_until(lambda: offered() == [1, 1200, 0], timeout=120, what="the imported stock offered")
            wrong_key = subprocess.run(
                command,
                check=False,
                cwd=ROOT,
                env={**env, "OMS_API_KEY": "nope"},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert wrong_key.returncode == 1 and "HTTP 401" in wrong_key.stderr
    finally:
        process.terminate()
        process.wait(timeout=20)
