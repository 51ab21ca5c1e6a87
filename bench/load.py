"""The embedded hub under load: `oms-hub local` in a child process, driven over real HTTP on 127.0.0.1.

Called by bench/run.py (`make bench`); alone: `python bench/load.py [--orders N] [--sequential N]`.

- load_*: the child is the real CLI (demo data, schedules on). The bench stocks ten SKUs deep at the
  warehouse, then 8 concurrent clients (httpx, one thread each) post 2-line courier orders until N are
  open (each one's lifecycle waits for `confirm`), then one client posts more, one at a time. Threads and
  RSS are the child's own (/proc), from before the load to after it, once the lifecycles are parked;
  then the child's CPU share while nothing is asked of it.
- flat_*: the intake in process (LocalHub.http), median latency with 1,000 stock rows and again after
  99,000 more were written (set-up, not measured), in one hub.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

Emit = Callable[[str, float, str], None]

ORDERS = 10_000  # open orders driven by the concurrent clients
SEQUENTIAL = 200  # orders posted one at a time after them
MOTO_SHARE = 20  # the run on moto's own interpreter (the figures before the runtime's patches) takes 1/20
CLIENTS = 8
SKUS = [f"SKU-{n:05d}" for n in range(1, 11)]  # demo SKUs, stocked deep enough for every order
WAREHOUSE = "msk-wh-1"
API_KEY = "bench-load-key"
FLAT_SMALL, FLAT_LARGE, FLAT_ORDERS = 1_000, 100_000, 30
IDLE_SECONDS = 10.0
TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _order(rng: random.Random, external_id: str) -> bytes:
    first, second = rng.sample(SKUS, 2)
    return json.dumps(
        {
            "channel": "web",
            "external_id": external_id,
            "customer": {"name": "Load Customer"},
            "lines": [{"sku": first, "qty": 1, "price": 10}, {"sku": second, "qty": 2, "price": 5}],
            "delivery": {"method": "courier", "address": "Tverskaya 1, Moscow"},
            "payment": {"method": "prepaid"},
        }
    ).encode()


# `oms-hub local` as moto runs executions: the runtime's interpreter patches (one thread per execution,
# one program per definition, kept service clients) left out, for the figures before them.
MOTO_EXECUTIONS = (
    "from oms_local import moto_patches, cli\n"
    "moto_patches._patch_interpreter_threads = moto_patches._patch_execution_start = lambda: None\n"
    "moto_patches.sdk_clients.patch = lambda: None\n"
    "raise SystemExit(cli.main())"
)


class Child:
    """`oms-hub local` on a free port, and what /proc says about it."""

    def __init__(self, moto_executions: bool = False) -> None:
        self.url = f"http://127.0.0.1:{_free_port()}"
        cli = Path(sys.executable).parent / "oms-hub"
        env = {**os.environ, "OMS_API_KEY": API_KEY, "OMS_LOG_LEVEL": "WARNING"}
        port = self.url.rsplit(":", 1)[1]
        command = [sys.executable, "-c", MOTO_EXECUTIONS, "local"] if moto_executions else [str(cli), "local"]
        self.process = subprocess.Popen(
            [*command, "--port", port], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def wait_ready(self, client: httpx.Client, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oms-hub local exited: {self.process.stderr.read()[-2000:]!r}")  # type: ignore[union-attr]  # PIPE set above
            try:
                # The demo data is loaded before serving: its web channel is listed once the hub is up.
                answer = client.get(f"{self.url}/v1/channels", headers={"x-api-key": API_KEY})
                if answer.status_code == 200 and '"web"' in answer.text:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise TimeoutError("oms-hub local did not start")

    def status(self, field: str) -> int:
        """A number from /proc/<pid>/status (Threads, VmRSS in kB)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise KeyError(field)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime

    def settled_threads(self, timeout: float = 600) -> int:
        """The child's thread count once it stops changing (the last lifecycles reach their wait)."""
        deadline, last = time.monotonic() + timeout, -1
        while time.monotonic() < deadline:
            now = self.status("Threads")
            if now == last:
                return now
            last = now
            time.sleep(2)
        return last

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _post_orders(client: httpx.Client, url: str, names: list[str], seed: int) -> tuple[list[float], int]:
    """Post one order per name in turn; the latencies (s) and how many were accepted as open orders."""
    rng = random.Random(seed)  # noqa: S311 - reproducible order mix, nothing secret
    latencies, accepted = [], 0
    headers = {"x-api-key": API_KEY, "content-type": "application/json"}
    for name in names:
        started = time.perf_counter()
        answer = client.post(f"{url}/v1/orders", content=_order(rng, name), headers=headers)
        latencies.append(time.perf_counter() - started)
        if answer.status_code == 201 and answer.json().get("status") == "reserved":
            accepted += 1
        else:
            print(f"# load: order {name} answered {answer.status_code}: {answer.text[:200]}", flush=True)
    return latencies, accepted


def _concurrently(url: str, names: list[str]) -> tuple[list[float], int, float]:
    shares = [names[n::CLIENTS] for n in range(CLIENTS)]
    results: list[tuple[list[float], int]] = [([], 0)] * CLIENTS

    def client_run(n: int) -> None:
        with httpx.Client(timeout=120) as client:
            results[n] = _post_orders(client, url, shares[n], seed=n)

    threads = [threading.Thread(target=client_run, args=(n,)) for n in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return [latency for lat, _ in results for latency in lat], sum(accepted for _, accepted in results), seconds


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def load(emit: Emit, orders: int, sequential: int, moto_executions: bool = False) -> None:
    """The load figures; with `moto_executions`, named *_moto: the same load on moto's own interpreter."""
    child = Child(moto_executions)
    suffix = "_moto" if moto_executions else ""
    try:
        with httpx.Client(timeout=120) as client:
            child.wait_ready(client)
            headers = {"x-api-key": API_KEY, "content-type": "application/json"}
            stock = {"mode": "delta", "items": [{"sku": sku, "on_hand": 10_000_000} for sku in SKUS]}
            answer = client.put(f"{child.url}/v1/stock/{WAREHOUSE}", content=json.dumps(stock), headers=headers)
            answer.raise_for_status()
            warm, _ = _post_orders(client, child.url, [f"warm-{n}" for n in range(20)], seed=99)
        threads_before, rss_before = child.settled_threads(), child.status("VmRSS")
        latencies, accepted, seconds = _concurrently(child.url, [f"load-{n}" for n in range(orders)])
        with httpx.Client(timeout=120) as client:
            started = time.perf_counter()
            one_by_one, accepted_one_by_one = _post_orders(
                client, child.url, [f"seq-{n}" for n in range(sequential)], seed=1000
            )
            sequential_seconds = time.perf_counter() - started
        open_orders = accepted + accepted_one_by_one
        threads_after, rss_after = child.settled_threads(), child.status("VmRSS")
        cpu, idle_started = child.cpu_seconds(), time.monotonic()
        time.sleep(IDLE_SECONDS)
        idle = (child.cpu_seconds() - cpu) / (time.monotonic() - idle_started)
    finally:
        child.stop()
    figures = {
        "load_orders_per_s_8_clients": (accepted / seconds, "orders/s"),
        "load_orders_per_s_sequential": (accepted_one_by_one / sequential_seconds, "orders/s"),
        **{
            f"load_latency_{name}_ms": (_percentile(latencies, share) * 1000, "ms")
            for name, share in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))
        },
        "load_latency_max_ms": (max(latencies) * 1000, "ms"),
        "load_sequential_latency_p50_ms": (statistics.median(one_by_one) * 1000, "ms"),
        "load_open_orders": (open_orders, "orders"),
        "load_threads_per_open_order": ((threads_after - threads_before) / open_orders, "threads"),
        "load_rss_mb_per_open_order": ((rss_after - rss_before) / 1024 / open_orders, "MB"),
        "load_rss_mb": (rss_after / 1024, "MB"),
        "load_idle_cpu_cores_with_open_orders": (idle, "cores"),
    }
    for name, (value, unit) in figures.items():
        emit(f"{name}{suffix}", value, unit)
    print(
        f"# load{suffix}: {orders} orders from {CLIENTS} clients in {seconds:.1f} s, then {sequential} one at a "
        f"time in {sequential_seconds:.1f} s; warm-up median {statistics.median(warm) * 1000:.0f} ms; child threads "
        f"{threads_before} -> {threads_after}, RSS {rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MB",
        flush=True,
    )


def _stock_rows(start: int, count: int) -> None:
    """`count` more rows of one unit each, straight into the stock table and left out of its stream:
    set-up, not measured (announcing 99,000 rows to the stream's consumers takes minutes)."""
    import boto3
    from moto.dynamodb.models import dynamodb_backends

    from oms_local.moto_patches import moto_lock
    from oms_local.template import ACCOUNT

    ddb, table_name = boto3.client("dynamodb"), os.environ["STOCK_TABLE"]
    locations = ["msk-store-tverskaya", "spb-store-nevsky"]
    rows = [
        {
            "PutRequest": {
                "Item": {
                    "sku": {"S": f"FILL-{n:06d}"},
                    "location_id": {"S": locations[n % 2]},
                    "on_hand": {"N": "1"},
                    "reserved": {"N": "0"},
                    "available": {"N": "1"},
                }
            }
        }
        for n in range(start, start + count)
    ]
    with moto_lock:  # no other write happens meanwhile, so none of theirs goes unannounced
        table = dynamodb_backends[ACCOUNT][os.environ["AWS_DEFAULT_REGION"]].get_table(table_name)
        shard, table.stream_shard = table.stream_shard, None
        try:
            for first in range(0, len(rows), 25):
                ddb.batch_write_item(RequestItems={table_name: rows[first : first + 25]})
        finally:
            table.stream_shard = shard


def _intake_median_ms(hub: Any, label: str) -> float:
    rng = random.Random(label)  # noqa: S311 - reproducible order mix, nothing secret
    headers = {"x-api-key": hub.api_key, "content-type": "application/json"}
    latencies = []
    for n in range(FLAT_ORDERS):
        started = time.perf_counter()
        answer = hub.http("POST", "/v1/orders", headers=headers, body=_order(rng, f"{label}-{n}"))
        latencies.append(time.perf_counter() - started)
        if answer.status != 201:
            raise RuntimeError(f"intake answered {answer.status}: {answer.body[:300]!r}")
    return statistics.median(latencies) * 1000


def flat_with_size(emit: Emit) -> None:
    from oms_local import demo
    from oms_local.runtime import LocalHub

    with LocalHub() as hub:
        loaded = demo.load(hub)["stock_rows"]
        stock = {"mode": "delta", "items": [{"sku": sku, "on_hand": 10_000_000} for sku in SKUS]}
        headers = {"x-api-key": hub.api_key, "content-type": "application/json"}
        hub.http("PUT", f"/v1/stock/{WAREHOUSE}", headers=headers, body=json.dumps(stock).encode())
        hub.settle(timeout=600)
        _stock_rows(0, FLAT_SMALL - loaded)
        _intake_median_ms(hub, "warm")
        small = _intake_median_ms(hub, "small")
        started = time.monotonic()
        _stock_rows(FLAT_SMALL - loaded, FLAT_LARGE - FLAT_SMALL)
        filled = time.monotonic() - started
        large = _intake_median_ms(hub, "large")
    emit("flat_intake_ms_1000_rows", small, "ms")
    emit("flat_intake_ms_100000_rows", large, "ms")
    emit("flat_intake_ratio", large / small, "x")
    print(f"# flat: medians of {FLAT_ORDERS} intakes; writing 99,000 more rows took {filled:.0f} s", flush=True)


def main(emit: Emit, orders: int = ORDERS, sequential: int = SEQUENTIAL) -> None:
    started = time.monotonic()
    # moto's interpreter first, on a twentieth of the orders: three threads and about 0.7 MB each.
    load(emit, max(orders // MOTO_SHARE, CLIENTS), max(sequential // 2, 1), moto_executions=True)
    load(emit, orders, sequential)
    flat_with_size(emit)
    print(f"# load bench took {time.monotonic() - started:.0f} s", flush=True)


def _emit(name: str, value: float, unit: str) -> None:
    print(f"{name} {round(value, 6):g} {unit}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=ORDERS, help=f"open orders from 8 clients (default {ORDERS})")
    parser.add_argument("--sequential", type=int, default=SEQUENTIAL, help="orders one at a time afterwards")
    args = parser.parse_args()
    os.environ.setdefault("OMS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "OmsHub")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # their JSON would land among the figures
    main(_emit, args.orders, args.sequential)
