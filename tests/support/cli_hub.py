"""`oms-hub local` as a user runs it: its own process, announced URL, spoken to over real HTTP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).parents[2]
KEY = "e2e-secret-key"
STARTUP_SECONDS = 90
ORDER = {
    "channel": "site",
    "customer": {"name": "Oleg"},
    "lines": [{"sku": "TSHIRT-M", "qty": 1, "price": 999}],
    "delivery": {"method": "courier", "address": "Kazan, Baumana 1"},
    "payment": {"method": "cod"},
}


def start_cli_hub(*args: str, printed: list[str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """`oms-hub local` with `args` on a port the system picks (--port 0); the process and the URL it
    announced (the lines it printed up to the announcement go to `printed`)."""
    env = {**os.environ, "OMS_API_KEY": KEY, "OMS_LOG_LEVEL": "WARNING"}
    cli = Path(sys.executable).parent / "oms-hub"
    process = subprocess.Popen(
        [str(cli), "local", "--port", "0", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    seen = printed if printed is not None else []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        found = re.search(r"http://[\d.]+:\d+", line)
        if found:
            return process, found.group(0)
    process.kill()
    raise AssertionError("oms-hub local did not announce its URL:\n" + "".join(seen))


def oms_hub(*args: str, key: str = KEY, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`oms-hub ARGS` as a user runs it, with `key` as $OMS_API_KEY; its exit status and output."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "oms-hub"), *args],
        check=False,  # the caller reads the exit status
        cwd=ROOT,
        env={**os.environ, "OMS_API_KEY": key},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for_status(client: httpx.Client, order_id: str, status: str) -> dict[str, Any]:
    """The order once a GET shows `status` with no event being applied (the contract's 5 seconds)."""
    deadline = time.monotonic() + 5
    while True:
        order = client.get(f"/v1/orders/{order_id}").json()
        if order["status"] == status and not order.get("pending_event"):
            return order
        assert time.monotonic() < deadline, order
        time.sleep(0.05)


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, as a service manager stops it; the rest of its output."""
    process.terminate()
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


def client_for(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=30)


def available(client: httpx.Client, channel: str = "site", sku: str = "TSHIRT-M") -> int:
    answer = client.get("/v1/availability", params={"channel": channel, "skus": sku})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"][0]["available"]


def seed_tshirts(client: httpx.Client, on_hand: int) -> None:
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


def run_failing(*args: str) -> subprocess.CompletedProcess[str]:
    """`oms-hub local` that must refuse to start: it exits by itself (a timeout here means it served)."""
    return oms_hub("local", "--port", "1", *args, timeout=90)
