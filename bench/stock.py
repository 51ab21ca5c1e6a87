"""Inventory figures: a 100,000-row ERP import through the real CLI, availability over 300 locations.

Called by bench/run.py (`make bench`); alone: `python bench/stock.py [rows]`.

- stock_import_*: the hub runs in this process (moto) behind a real HTTP server on 127.0.0.1; the file
  is sent by `oms-hub stock import` in a child process, so its peak memory is the importer's own
  (the child's max RSS), not the emulator's 100,000 stored rows. DynamoDB requests are counted here.
- availability_*: a channel with every kind of rule over 300 locations; 100 SKUs stocked at all of
  them (30,000 rows, written straight into the table: set-up, not measured); one GET for 100 SKUs.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import uvicorn

from oms_local.runtime import LocalHub
from oms_local.server import build_app

IMPORT_ROWS = 100_000
LOCATIONS = 300
SKUS = 100
AVAILABILITY_RUNS = 2  # the first reads the config too; the figures are the last run's

Emit = Callable[[str, float, str], None]
Note = Callable[[str], None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(hub: LocalHub) -> tuple[uvicorn.Server, str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(build_app(hub), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _high_water_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)


def _write_csv(path: Path, rows: int) -> None:
    with path.open("w") as out:
        out.write("sku,on_hand,expected_at\n")
        for n in range(rows):
            out.write(f"SKU-{n:06d},{n % 40},{'2026-12-24' if n % 40 == 0 else ''}\n")


def _dynamodb(calls: list[Any]) -> Counter[str]:
    return Counter(call.operation for call in calls if call.service == "dynamodb")


def stock_import(calls: Any, emit: Emit, note: Note, rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, LocalHub() as hub:
        calls.install()
        api = {"x-api-key": hub.api_key}
        hub.http(
            "PUT", "/v1/locations/wh-1", headers=api, body=json.dumps({"name": "DC", "kind": "warehouse"}).encode()
        )
        for channel in ("web", "ozon"):
            hub.http(
                "PUT",
                f"/v1/channels/{channel}",
                headers=api,
                body=json.dumps({"kind": channel, "name": channel, "rules": {"safety_stock": 2}}).encode(),
            )
        csv_path = Path(tmp) / "stock.csv"
        _write_csv(csv_path, rows)
        server, url = _serve(hub)
        try:
            calls.take()
            cli = Path(sys.executable).parent / "oms-hub"
            started = time.monotonic()
            child = subprocess.Popen(
                [str(cli), "stock", "import", str(csv_path), "--location", "wh-1", "--url", url],
                env={**os.environ, "OMS_API_KEY": hub.api_key},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            peak_kb = 0
            while child.poll() is None:  # VmHWM: the child's own high-water mark (ru_maxrss would count the fork)
                peak_kb = max(peak_kb, _high_water_kb(child.pid))
                time.sleep(0.2)
            out, err = child.communicate()
            seconds = time.monotonic() - started
            if child.returncode != 0:
                raise RuntimeError(f"stock import failed: {out}{err[-2000:]}")
            hub.settle(timeout=3600)  # the stock stream's reader announces what the import wrote
            announced = time.monotonic() - started
            reader = hub.stream_reader("StockChangesFunction")
            taken = calls.take()
            made = _dynamodb([call for call in taken if call.thread != reader.thread_id])
            stream_calls = Counter(
                f"{call.service}.{call.operation}" for call in taken if call.thread == reader.thread_id
            )
        finally:
            server.should_exit = True
    peak_mb = peak_kb / 1024
    emit("stock_import_rows_per_s", rows / seconds, "rows/s")
    emit("stock_import_peak_mb", peak_mb, "MB")
    emit("stock_import_dynamodb_requests", sum(made.values()), "requests")
    emit("stock_import_dynamodb_requests_per_row", sum(made.values()) / rows, "requests")
    emit("stock_changes_invocations", reader.invocations, "invocations")
    emit("stock_changes_aws_requests", sum(stream_calls.values()), "requests")
    emit("stock_changes_lag_s", announced - seconds, "s")
    note(f"stock import of {rows} rows: {out.strip()}")
    note(f"stock import DynamoDB requests: {dict(sorted(made.items()))}")
    note(
        f"stock stream reader: {reader.records} row changes in {reader.invocations} invocations; "
        f"its requests: {dict(sorted(stream_calls.items()))}; "
        f"announced {announced - seconds:.1f} s after the import ended"
    )
    note("rows/s is moto's: it parses every UpdateExpression again for each row; the counts are portable")


def availability(calls: Any, emit: Emit, note: Note) -> None:
    with LocalHub() as hub:
        api = {"x-api-key": hub.api_key}
        locations = [f"store-{n:03d}" for n in range(LOCATIONS)]
        for loc in locations:
            hub.http(
                "PUT",
                f"/v1/locations/{loc}",
                headers=api,
                body=json.dumps({"name": loc, "kind": "store", "capabilities": ["courier"]}).encode(),
            )
        skus = [f"SKU-{n:03d}" for n in range(SKUS)]
        rules = {
            "safety_stock": 1,
            "stock_share": 0.9,
            "max_share": 0.5,
            "min_presentable": 3,
            "excluded_locations": locations[:10],
            "locations": {locations[10]: {"safety_stock": 0}},
            "skus": {skus[0]: {"max_units": 5}},
        }
        hub.http(
            "PUT",
            "/v1/channels/ozon",
            headers=api,
            body=json.dumps({"kind": "ozon", "name": "Ozon", "rules": rules}).encode(),
        )
        ddb = boto3.client("dynamodb")
        table = os.environ["STOCK_TABLE"]
        items = [
            {
                "PutRequest": {
                    "Item": {
                        "sku": {"S": sku},
                        "location_id": {"S": loc},
                        "on_hand": {"N": "7"},
                        "reserved": {"N": "1"},
                        "available": {"N": "6"},
                    }
                }
            }
            for sku in skus
            for loc in locations
        ]
        for start in range(0, len(items), 25):
            ddb.batch_write_item(RequestItems={table: items[start : start + 25]})
        hub.settle(timeout=3600)  # the set-up's rows are announced before anything is measured
        calls.install()
        query = f"channel=ozon&skus={','.join(skus)}"
        timings, made = [], Counter[str]()
        for _ in range(AVAILABILITY_RUNS):
            calls.take()
            started = time.perf_counter()
            answer = hub.http("GET", "/v1/availability", query=query, headers=api)
            timings.append((time.perf_counter() - started) * 1000)
            made = _dynamodb(calls.take())
            if answer.status != 200:
                raise RuntimeError(f"availability answered {answer.status}: {answer.body[:300]!r}")
        body = json.loads(answer.body)
    emit("availability_ms_per_100_skus", timings[-1], "ms")
    emit("availability_dynamodb_requests_per_100_skus", sum(made.values()), "requests")
    note(
        f"availability: {SKUS} SKUs x {LOCATIONS} locations, warm; "
        f"requests: {dict(made)}; "
        f"first SKU offers {body['items'][0]['available']}, second {body['items'][1]['available']}"
    )


def main(calls: Any, emit: Emit, note: Note, rows: int = IMPORT_ROWS) -> None:
    availability(calls, emit, note)
    stock_import(calls, emit, note, rows)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    from run import AwsCalls
    from run import emit as emit_
    from run import note as note_

    os.environ.setdefault("OMS_LOG_LEVEL", "WARNING")
    main(AwsCalls(), emit_, note_, int(sys.argv[1]) if len(sys.argv) > 1 else IMPORT_ROWS)
