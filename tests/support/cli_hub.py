"""`oms-hub local` as a user runs it: its own process, announced URL, spoken to over real HTTP."""

from __future__ import annotations

import os
import re
import socket
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cli_hub(*args: str) -> tuple[subprocess.Popen[str], str]:
    """`oms-hub local` with `args` on a free port; the process and the URL it announced."""
    port = free_port()
    env = {**os.environ, "OMS_API_KEY": KEY, "OMS_LOG_LEVEL": "WARNING"}
    cli = Path(sys.executable).parent / "oms-hub"
    process = subprocess.Popen(
        [str(cli), "local", "--port", str(port), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    seen = []
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


def wait_for_status(client: httpx.Client, order_id: str, status: str) -> dict[str, Any]:
    """The order once a GET shows `status` with no event being applied (the contract's 5 seconds)."""
    deadline = time.monotonic() + 5
    while True:
        order = client.get(f"/v1/orders/{order_id}").json()
        if order["status"] == status and not order.get("pending_event"):
            return order
        assert time.monotonic() < deadline, order
        time.sleep(0.05)
