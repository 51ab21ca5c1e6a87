"""Partner connector figures, counted (never timed): AWS calls per push, partner requests per poll and
per outbound batch against the minimum the partners' page limits allow, OAuth tokens per run.

Run by bench/run.py; prints `name value unit` lines like it.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from run import AwsCalls, emit, note, operations  # noqa: E402

from oms_local.runtime import LocalHub  # noqa: E402
from tests.fakes.partners import FakeCdek, FakeOzon, FakeWildberries, ozon_pushed  # noqa: E402
from tests.fakes.server import serve  # noqa: E402

TOKEN = "bench-ozon-token-1"  # noqa: S105 - the bench channel's made-up webhook token, not a secret
POSTINGS = 2500  # unfulfilled postings to reconcile: Ozon pages them by 1000
OPEN_TASKS = 2500  # Wildberries open assembly tasks whose status is polled: 1000 per request
CDEK_ORDERS = 100


def _push(hub: LocalHub, payload: dict[str, Any]) -> int:
    ozon_pushed(payload)  # the fake Ozon holds the posting the hub reads the prices from
    return hub.http(
        "POST",
        "/v1/webhooks/ozon",
        query=f"token={TOKEN}",
        body=json.dumps(payload).encode(),
        headers={"content-type": "application/json"},
    ).status


def _counted(calls: AwsCalls, action: Callable[[], Any]) -> list[Any]:
    calls.take()
    action()
    return calls.take_own()


def pushes() -> None:
    events = json.loads((ROOT / "tests/events/ozon_new_posting.json").read_text())
    cancelled = json.loads((ROOT / "tests/events/ozon_posting_cancelled.json").read_text())
    calls = AwsCalls()
    ozon_api = FakeOzon()
    with LocalHub() as hub, serve(ozon_api.app()) as ozon_url:
        headers = {"x-api-key": hub.api_key, "content-type": "application/json"}
        for path, body in [
            ("/v1/locations/wh-1", {"name": "W", "kind": "warehouse", "capabilities": ["marketplace"]}),
            ("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": 100}]}),
            (
                "/v1/channels/ozon",
                {
                    "kind": "ozon",
                    "name": "Ozon",
                    "secret": TOKEN,
                    "api_url": ozon_url,
                    "credentials": {"Client-Id": "836", "Api-Key": "ozon-key"},
                },
            ),
        ]:
            hub.http("PUT", path, headers=headers, body=json.dumps(body).encode())
        calls.install()
        _push(hub, {**events, "posting_number": "warm-up"})  # config and secret caches filled, as in a warm container
        new = _counted(calls, lambda: _push(hub, events))
        duplicate = _counted(calls, lambda: _push(hub, events))
        time.sleep(1)  # the lifecycle reaches its first wait
        cancel = _counted(calls, lambda: _push(hub, cancelled))
        time.sleep(1.5)  # the lifecycle's cancel step finishes before the hub stops
    emit("ozon_new_posting_aws_calls", len(new), "calls")
    # the warm-up and the new posting each read their posting once (its prices); the duplicate reads nothing
    emit("ozon_new_posting_partner_requests", len(ozon_api.calls("/v3/posting/fbs/get")) / 2, "requests")
    emit("ozon_duplicate_push_aws_calls", len(duplicate), "calls")
    emit("ozon_cancel_push_aws_calls", len(cancel), "calls")
    note(f"new posting (warm): {operations(new)}")
    note(f"duplicate: {operations(duplicate)}")
    note(f"cancellation: {operations(cancel)}")


def partner_requests() -> None:
    from datetime import UTC, datetime

    from partners.clients.cdek import CdekClient
    from partners.clients.ozon import OzonClient
    from partners.clients.wildberries import WildberriesClient

    ozon = FakeOzon()
    ozon.postings = [
        {
            "posting_number": f"p-{n}",
            "status": "awaiting_packaging",
            "products": [{"sku": 1, "offer_id": "SKU-A", "quantity": 1, "price": "1390.000000"}],
        }
        for n in range(POSTINGS)
    ]
    with serve(ozon.app()) as url:
        client = OzonClient(url, {"Client-Id": "836", "Api-Key": "ozon-key"})
        client.unfulfilled(datetime.now(UTC))
    emit("ozon_reconcile_requests", client.http.requests, f"requests for {POSTINGS} postings")
    emit("ozon_reconcile_requests_minimum", math.ceil(POSTINGS / OzonClient.PAGE), "requests")

    wb = FakeWildberries()
    wb.statuses = dict.fromkeys(range(OPEN_TASKS), ("confirm", "waiting"))
    with serve(wb.app()) as url:
        client_wb = WildberriesClient(url, {"token": "wb-token"})
        client_wb.statuses(list(range(OPEN_TASKS)))
    emit("wb_status_poll_requests", client_wb.http.requests, f"requests for {OPEN_TASKS} open tasks")
    emit("wb_status_poll_requests_minimum", math.ceil(OPEN_TASKS / 1000), "requests")

    cdek = FakeCdek()
    with serve(cdek.app()) as url:
        client_cdek = CdekClient(url, {"client_id": "cdek-id", "client_secret": "cdek-secret"})
        for n in range(CDEK_ORDERS):
            client_cdek.create_order(
                {  # an AddOrder as CDEK's spec has it (the fake checks)
                    "type": 2,
                    "number": f"ord_{n}",
                    "tariff_code": 136,
                    "shipment_point": "MSK123",
                    "delivery_point": "MSK456",
                    "recipient": {"name": "Anna", "phones": [{"number": "+79165551234"}]},
                    "packages": [{"number": "1", "weight": 500}],
                }
            )
    emit("cdek_tokens_per_100_orders", client_cdek.tokens_fetched, "tokens")
    note("partner requests counted by the clients (PartnerHttp.requests) against fake servers on 127.0.0.1")


def main() -> None:
    os.environ.setdefault("OMS_LOG_LEVEL", "WARNING")
    pushes()
    partner_requests()


if __name__ == "__main__":
    main()
