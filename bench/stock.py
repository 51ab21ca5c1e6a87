"""Inventory figures: a 100,000-row ERP import through the real CLI, availability over 300 locations.

Called by bench/run.py (`make bench`); alone: `python bench/stock.py [rows]`.

- stock_import_*: the hub runs in this process (moto, its event sources running) behind a real HTTP
  server on 127.0.0.1; the file is sent by `oms-hub stock import` in a child process, so its peak
  memory is the importer's own (the child's max RSS), not the emulator's 100,000 stored rows. A first
  import and then an update of the same SKUs; DynamoDB requests are counted here, by operation.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import uvicorn

from oms_local.runtime import LocalHub
from oms_local.server import build_app

IMPORT_ROWS = 100_000
LOCATIONS = 300
SKUS = 100
AVAILABILITY_RUNS = 2  # each way warmed before each run; the figures are the last run's

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


def _write_csv(path: Path, rows: int, shift: int = 0) -> None:
    """`rows` SKUs of one location; another `shift` gives the same SKUs other figures (an ERP's next file)."""
    with path.open("w") as out:
        out.write("sku,on_hand,expected_at\n")
        for n in range(rows):
            out.write(f"SKU-{n:06d},{(n + shift) % 40},{'2026-12-24' if (n + shift) % 40 == 0 else ''}\n")


def _dynamodb(calls: list[Any]) -> Counter[str]:
    return Counter(call.operation for call in calls if call.service == "dynamodb")


def stock_import(calls: Any, emit: Emit, note: Note, rows: int) -> None:
    """Two imports of `rows` rows, with the hub's event sources running as a user runs it: a first import
    (no row exists yet) and the next file of the same SKUs (every row exists and changes). Each is timed
    until the CLI ends, then until the stock stream's reader has caught up with what it wrote."""
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
        server, url = _serve(hub)
        try:
            hub.settle()
            reader = hub.stream_reader("StockChangesFunction")
            for case, shift in (("first", 0), ("update", 1)):
                csv_path = Path(tmp) / f"stock-{case}.csv"
                _write_csv(csv_path, rows, shift)
                calls.take()
                invocations, records = reader.invocations, reader.records
                run = run_cli(["stock", "import", str(csv_path), "--location", "wh-1"], url, hub.api_key)
                hub.settle(timeout=3600)
                caught_up = time.monotonic() - run.started
                taken = calls.take()
                made = _dynamodb([call for call in taken if call.thread != reader.thread_id])
                stream_calls = Counter(
                    f"{call.service}.{call.operation}" for call in taken if call.thread == reader.thread_id
                )
                name = "stock_import" if case == "first" else "stock_import_update"
                emit(f"{name}_rows_per_s", rows / run.seconds, "rows/s")
                emit(f"{name}_dynamodb_requests_per_row", sum(made.values()) / rows, "requests")
                emit(f"{name}_catch_up_s", caught_up - run.seconds, "s")
                if case == "first":
                    emit("stock_import_peak_mb", run.peak_kb / 1024, "MB")
                note(f"{case} import of {rows} rows: {run.output}; DynamoDB requests: {dict(sorted(made.items()))}")
                note(
                    f"{case} import: the stock stream's reader took {reader.records - records} row changes in "
                    f"{reader.invocations - invocations} invocations, caught up {caught_up - run.seconds:.1f} s "
                    f"after the import ended; its requests: {dict(sorted(stream_calls.items()))}"
                )
        finally:
            server.should_exit = True
    note(
        "before (one conditional UpdateItem per row, bench/RESULTS.md): 70.8 rows/s, 1.0025 DynamoDB requests "
        "per row; now every 100 rows are one BatchGetItem and one TransactWriteItems of conditional Puts"
    )


@dataclass(frozen=True)
class _CliRun:
    started: float
    seconds: float
    peak_kb: int
    output: str


def run_cli(arguments: list[str], url: str, api_key: str) -> _CliRun:
    """`oms-hub <arguments> --url URL` in a child process, timed, with the child's own peak memory."""
    cli = Path(sys.executable).parent / "oms-hub"
    started = time.monotonic()
    child = subprocess.Popen(
        [str(cli), *arguments, "--url", url],
        env={**os.environ, "OMS_API_KEY": api_key},
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
        raise RuntimeError(f"{' '.join(arguments[:2])} failed: {out}{err[-2000:]}")
    return _CliRun(started, seconds, peak_kb, out.strip())


def availability(calls: Any, emit: Emit, note: Note) -> None:
    """Before: the stock rows read and the rules applied at each request (one Query per SKU, what the GET
    did before the figures); after: the GET of the stock stream's figures. Interleaved, in one run."""
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
        hub.settle()
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
            for loc in locations  # location by location, as each store's import would write them
            for sku in skus
        ]
        calls.install()
        set_up = time.monotonic()
        for start in range(0, len(items), 25):
            ddb.batch_write_item(RequestItems={table: items[start : start + 25]})
        written = time.monotonic()
        hub.settle(timeout=3600)  # the set-up's rows reach the figures before anything is measured
        built = time.monotonic()
        reader = hub.stream_reader("StockChangesFunction")
        figures_table = os.environ["AVAILABILITY_TABLE"]
        figures_calls = Counter(
            call.operation
            for call in calls.take()
            if call.thread == reader.thread_id and figures_table in call.request.get("RequestItems", {})
        )
        query = f"channel=ozon&skus={','.join(skus)}"
        timings: dict[str, list[float]] = {"stock_rows": [], "figures": []}
        made: dict[str, Counter[str]] = {}
        answers: dict[str, Any] = {}
        ways: dict[str, Callable[[], list[dict[str, Any]]]] = {
            "stock_rows": lambda: _from_stock_rows("ozon", skus),
            "figures": lambda: _get_availability(hub, query, api),
        }
        for _ in range(AVAILABILITY_RUNS):
            for way, read in ways.items():
                read()  # warm: the other way can take longer than the config cache keeps the channel
                calls.take()
                started = time.perf_counter()
                answers[way] = read()
                timings[way].append((time.perf_counter() - started) * 1000)
                made[way] = _dynamodb(calls.take())
        if answers["stock_rows"] != answers["figures"]:
            raise RuntimeError("the figures' answer differs from the stock rows'")
    emit("availability_ms_per_100_skus_before", timings["stock_rows"][-1], "ms")
    emit("availability_ms_per_100_skus", timings["figures"][-1], "ms")
    emit("availability_dynamodb_requests_per_100_skus_before", sum(made["stock_rows"].values()), "requests")
    emit("availability_dynamodb_requests_per_100_skus", sum(made["figures"].values()), "requests")
    emit("availability_figures_requests_per_stock_row_change", sum(figures_calls.values()) / len(items), "requests")
    note(
        f"availability: {SKUS} SKUs x {LOCATIONS} locations, warm, same answer both ways; before (stock rows read "
        f"and rules applied per request, as the GET did): {dict(made['stock_rows'])}; after (the stream's "
        f"figures): {dict(made['figures'])}; first SKU offers {answers['figures'][0]['available']}, second "
        f"{answers['figures'][1]['available']}"
    )
    note(
        f"availability figures kept by the stock stream for {len(items)} row changes: {dict(figures_calls)} "
        f"on AvailabilityTable ({reader.invocations} invocations); rows written in {written - set_up:.0f} s, "
        f"figures caught up {built - written:.0f} s later"
    )


def _get_availability(hub: LocalHub, query: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = hub.http("GET", "/v1/availability", query=query, headers=headers)
    if answer.status != 200:
        raise RuntimeError(f"availability answered {answer.status}: {answer.body[:300]!r}")
    items: list[dict[str, Any]] = json.loads(answer.body)["items"]
    return items


def _from_stock_rows(channel_id: str, skus: list[str]) -> list[dict[str, Any]]:
    """What GET /v1/availability computed at each request before the figures: the channel's active
    locations' stock rows (one Query per SKU at 300 locations), the rules applied in process."""
    from inventory.adapters import stock_table
    from inventory.domain.availability import availability as apply_rules
    from reference import config_table

    channel = config_table.channel(channel_id)
    if channel is None:
        raise RuntimeError(f"no channel {channel_id}")
    active = [loc.location_id for loc in config_table.locations().values() if loc.active]
    rows = stock_table.stock_rows(skus, [loc for loc in active if loc not in channel.rules.excluded_locations])
    return [item.model_dump(mode="json", exclude_none=True) for item in apply_rules(skus, rows, active, channel.rules)]


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
