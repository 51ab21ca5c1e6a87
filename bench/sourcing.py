"""Sourcing figures: AWS calls of an intake that sources by distance, of a delivery promise, of a substitution.

Called by bench/run.py after its own figures, on the same hub with the demo data (three locations,
three carriers). Counts only, on the request's own thread, like run.py's intake figures.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from common import aws as function_clients
from reference import config_table

if TYPE_CHECKING:
    from run import Bench

TVERSKAYA = {"method": "courier", "address": "Tverskaya 7, Moscow", "city": "Moscow", "lat": 55.7576, "lon": 37.613}
CART = [{"sku": "SKU-00001", "qty": 1}, {"sku": "SKU-00002", "qty": 1}]


def _emit(name: str, value: float, unit: str) -> None:
    print(f"{name} {round(value, 6):g} {unit}", flush=True)


def _note(text: str) -> None:
    print(f"# {text}", flush=True)


def _ops(calls: list[Any]) -> str:
    return ", ".join(call.name for call in calls) or "none"


def _answer(bench: Bench, path: str, body: dict[str, Any], expect: int) -> dict[str, Any]:
    answer = bench.post(path, body)
    if answer.status != expect:
        raise RuntimeError(f"POST {path} answered {answer.status}: {answer.body[:300]!r}")
    parsed: dict[str, Any] = json.loads(answer.body)
    return parsed


def _order(external_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "channel": "web",
        "external_id": external_id,
        "customer": {"name": "Bench Customer"},
        "lines": lines,
        "delivery": TVERSKAYA,
        "payment": {"method": "prepaid"},
    }


def intake_with_coordinates(bench: Bench) -> None:
    calls = bench.calls
    calls.take()
    lines = [{**line, "price": 10} for line in CART]
    order = _answer(bench, "/v1/orders", _order("bench-sourced", lines), 201)
    own = calls.take_own()
    bench.wait_until_waiting(order["order_id"])
    calls.take()
    _emit("sourcing_intake_aws_calls_per_order", len(own), "calls")
    _note(f"intake with customer coordinates, nearest location and promise: {_ops(own)}")
    _note(
        f"sourced: {order['sourcing']['reason']}; promise {order['promise']['earliest']}..{order['promise']['latest']}"
    )


def promise(bench: Bench) -> None:
    calls = bench.calls
    body = {
        "channel": "web",
        "lines": CART,
        "destination": {"lat": 55.7576, "lon": 37.613, "city": "Moscow", "location_id": "msk-store-tverskaya"},
    }
    function_clients.reset()
    config_table.forget()  # a new container: channels, locations and carriers are read once
    calls.take()
    _answer(bench, "/v1/delivery-promise", body, 200)
    cold = calls.take_own()
    answer = _answer(bench, "/v1/delivery-promise", body, 200)
    warm = calls.take_own()
    _emit("promise_aws_calls_per_request", len(warm), "calls")
    _emit("promise_aws_calls_cold", len(cold), "calls")
    _emit("promise_methods_per_request", len(answer["options"]) + len(answer["unavailable"]), "methods")
    _note(
        f"promise warm (all {len(answer['options']) + len(answer['unavailable'])} methods, one stock read): "
        f"{_ops(warm)}"
    )
    _note(f"promise cold: {_ops(cold)}")


def substitution(bench: Bench) -> None:
    calls = bench.calls
    lines = [{"sku": "SKU-00001", "qty": 1, "price": 10}, {"sku": "SKU-00003", "qty": 10_000, "price": 1}]
    order = _answer(bench, "/v1/orders", _order("bench-substituted", lines), 201)
    bench.wait_until_waiting(order["order_id"])
    calls.take()
    done = _answer(
        bench,
        f"/v1/orders/{order['order_id']}/substitutions",
        {"sku": "SKU-00003", "replacement": {"sku": "SKU-00002", "qty": 1}, "actor": "bench"},
        200,
    )
    own = calls.take_own()
    bench.wait_until_waiting(order["order_id"])
    calls.take()
    if done["shortages"]:
        raise RuntimeError(f"substitution left shortages: {done['shortages']}")
    _emit("substitution_aws_calls", len(own), "calls")
    _note(f"substitution that completes the order and resumes it with reserve: {_ops(own)}")


def run(bench: Bench) -> None:
    intake_with_coordinates(bench)
    promise(bench)
    substitution(bench)
