"""The admin pages' answer times with 10,000 orders in the hub, each page through the local gateway as the
browser asks for it (session cookie, the AdminFunction handler, moto): p50 and p95 of 30 requests a page.

The orders are written straight into the orders table (copies of one order taken over HTTP, with their contact
lookups, spread over the statuses and both stores), because 10,000 intakes through moto's transactions take
longer than the bench should; no lifecycle runs for the copies. The orders table's stream delivers the writes
to StoreWorkFunction (the stores' queue entries) before the pages are timed. Prints `name value unit` lines.
Run: .venv/bin/python bench/admin_pages.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "OmsHub")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("OMS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", os.environ["OMS_LOG_LEVEL"])

from oms_local import demo  # after the environment above
from oms_local.cognito import PoolUser
from oms_local.runtime import LocalHub

sys.path.insert(0, str(Path(__file__).parents[1] / "functions"))

import boto3

from common.dynamo import batch_put, from_item
from orders.adapters import contact_lookup

ORDERS = 10_000
REQUESTS = 30
STORES = ("msk-store-tverskaya", "spb-store-nevsky")
# (status, workflow) of the copies, in proportion: most orders of a running hub have ended.
SPREAD = (
    *[("delivered", "courier")] * 12,
    ("cancelled", "courier"),
    ("reserved", "courier"),
    ("confirmed", "click_collect"),
    ("picked", "click_collect"),
    ("ready_for_pickup", "click_collect"),
    ("collected", "click_collect"),
    ("on_hold", "courier"),
    ("held", "reserve_in_store"),
)


def _emit(name: str, value: float, unit: str) -> None:
    print(f"{name} {round(value, 3):g} {unit}", flush=True)


def _fill(hub: LocalHub) -> str:
    """10,000 orders; returns the phone number 50 of them share."""
    headers = {"x-api-key": hub.api_key, "content-type": "application/json"}
    body = {
        "channel": "web",
        "external_id": "bench-admin-0",
        "customer": {"name": "Bench Customer", "phone": "+79990000000", "email": "bench@example.ru"},
        "lines": [{"sku": "SKU-00001", "qty": 1, "price": 990}],
        "delivery": {"method": "click_collect", "location_id": STORES[0]},
        "payment": {"method": "on_pickup"},
    }
    answer = hub.http("POST", "/v1/orders", headers=headers, body=json.dumps(body).encode())
    if answer.status != 201:
        raise RuntimeError(f"intake answered {answer.status}: {answer.body[:300]!r}")
    table = os.environ["ORDERS_TABLE"]
    item = boto3.resource("dynamodb").Table(table).get_item(Key={"pk": f"ORDER#{json.loads(answer.body)['order_id']}"})
    template = item["Item"]
    rows: list[dict[str, Any]] = []
    for n in range(1, ORDERS):
        status, flow = SPREAD[n % len(SPREAD)]
        store = STORES[n % 2]
        order_id = f"ord_bench{n:019d}"
        created = f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00.000Z"
        phone = "+79990000000" if n % 200 == 0 else f"+7999{n:07d}"
        order = {
            **template,
            "pk": f"ORDER#{order_id}",
            "order_id": order_id,
            "external_id": f"bench-admin-{n}",
            "status": status,
            "channel_status": f"web#{status}",
            "workflow": flow,
            "customer": {"name": "Bench Customer", "phone": phone},
            "delivery": {"method": "click_collect", "location_id": store},
            "allocations": [{"sku": "SKU-00001", "location_id": store, "qty": 1}],
            "timeline": [{**template["timeline"][0], "at": created, "status": status}],
            "created_at": created,
            "created_key": f"{created}#{order_id}",
        }
        rows.append(order)
        rows.extend(from_item(lookup["Put"]["Item"]) for lookup in contact_lookup.lookup_items(order))
    batch_put(boto3.client("dynamodb"), table, rows)
    return "+79990000000"


def _session(hub: LocalHub) -> dict[str, str]:
    roles = ("operator", "store_staff", "manager", "admin")
    user = PoolUser("bench-all", "Bench-password-1", roles, {"custom:location_ids": STORES[0]})
    hub.cognito.add_user(user)
    form = hub.http("GET", "/admin/login")
    token = form.body.decode().split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    sent = f"csrf_token={token}&username={user.username}&password={user.password}".encode()
    login = hub.http("POST", "/admin/login", headers={"cookie": form.headers["Set-Cookie"].split(";")[0]}, body=sent)
    if login.status != 303:
        raise RuntimeError(f"login answered {login.status}")
    return {"cookie": login.headers["Set-Cookie"].split(";")[0]}


def _timed(name: str, call: Callable[[], Any]) -> None:
    call()  # warm: the first request loads the page's modules and templates
    spent = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        answer = call()
        spent.append((time.perf_counter() - started) * 1000)
        if answer.status != 200:
            raise RuntimeError(f"{name} answered {answer.status}")
    spent.sort()
    _emit(f"admin_{name}_p50", statistics.median(spent), "ms")
    _emit(f"admin_{name}_p95", spent[int(0.95 * (len(spent) - 1))], "ms")


def main() -> None:
    with LocalHub() as hub:
        demo.load(hub)
        started = time.perf_counter()
        phone = _fill(hub)
        _emit("admin_orders_in_hub", ORDERS, "orders")
        _emit("admin_fill_seconds", time.perf_counter() - started, "s")
        started = time.perf_counter()
        hub.settle(timeout=1800)  # the orders' stream: the stores' queue entries (orders.domain.store_work)
        _emit("admin_store_work_settle_seconds", time.perf_counter() - started, "s")
        session = _session(hub)
        order_path = "/admin/orders/ord_bench" + f"{5:019d}"
        pages: dict[str, Callable[[], Any]] = {
            "search_by_phone": lambda: hub.http("GET", "/admin/orders", query=f"q={phone}", headers=session),
            "search_by_number": lambda: hub.http("GET", "/admin/orders", query="q=bench-admin-77", headers=session),
            "order_page": lambda: hub.http("GET", order_path, headers=session),
            "task_queue": lambda: hub.http("GET", "/admin/tasks", headers=session),
            "store_queue": lambda: hub.http("GET", "/admin/store/queue", headers=session),
            "dashboard": lambda: hub.http("GET", "/admin/dashboard", headers=session),
            "settings": lambda: hub.http("GET", "/admin/settings", headers=session),
        }
        for name, call in pages.items():
            _timed(name, call)
        # What one index Query (a page of 100 from a partition of 500) costs here, the pages paying it per Query:
        # the local runtime hands moto only the partition (oms_local.moto_patches._Partitions), and moto still
        # sorts the partition and sizes each whole item of the page (once, without copying it: _QueryCopies).
        query = {
            "TableName": os.environ["ORDERS_TABLE"],
            "IndexName": "ByStatus",
            "Limit": 100,
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": {"S": "confirmed"}},
        }
        _timed("moto_index_query", lambda: _Ok(boto3.client("dynamodb").query(**query)))


class _Ok:
    """A bare call timed like a page."""

    status = 200

    def __init__(self, _answer: object) -> None:
        pass


if __name__ == "__main__":
    main()
