"""Per workflow (scenario): state transitions, Lambda invocations and cost per order, happy path.

Called from bench/run.py on its hub (demo data loaded); counts the same way as its courier figures
(execution history, hooked AWS calls) and prices them with its list prices.
"""

from __future__ import annotations

import json
import os
from typing import Any

import run as base  # bench/run.py (this directory is on sys.path when it runs)

from oms_local import demo

# Happy path of each scenario: delivery method, events in order, final status.
SCENARIOS: dict[str, tuple[str, list[str], str]] = {
    "courier": ("courier", ["confirm", "pick", "pack", "ship", "deliver"], "delivered"),
    "pickup_point": ("pickup_point", ["confirm", "pick", "pack", "ship", "arrive", "collect"], "collected"),
    "post": ("post", ["confirm", "pick", "pack", "ship", "arrive", "deliver"], "delivered"),
    "ship_from_store": ("ship_from_store", ["confirm", "pick", "pack", "ship", "deliver"], "delivered"),
    "click_collect": ("click_collect", ["confirm", "pick", "ready", "collect"], "collected"),
    "reserve_in_store": ("reserve_in_store", ["confirm", "sell"], "sold"),
    "marketplace": ("marketplace", ["pack", "ship", "deliver"], "delivered"),
}
STORE, WAREHOUSE = "msk-store-tverskaya", "msk-wh-1"


class ScenarioBench(base.Bench):
    """The run's Bench, ordering with one delivery method and following that workflow's machine."""

    def __init__(self, hub: Any, calls: Any, workflow: str, method: str) -> None:
        super().__init__(hub, calls)
        self.method = method
        self.executions = (os.environ["LIFECYCLE_ARN_PREFIX"] + workflow).replace(":stateMachine:", ":execution:")

    def create_order(self, external_id: str) -> tuple[int, dict[str, Any]]:
        sku = self._in_stock_at_store()
        delivery = {"method": self.method, "address": "Tverskaya 1, Moscow", "location_id": STORE}
        answer = self.post(
            "/v1/orders",
            {
                "channel": "web",
                "external_id": external_id,
                "customer": {"name": "Bench Customer"},
                "lines": [{"sku": sku, "qty": 1, "price": 10}],
                "delivery": delivery,
                "payment": {"method": "prepaid"},
            },
        )
        order = json.loads(answer.body)
        if answer.status != 201 or order.get("status") != "reserved":
            raise RuntimeError(f"order {external_id} was not reserved: {answer.status} {answer.body[:300]!r}")
        return answer.status, order

    def _in_stock_at_store(self) -> str:
        """A SKU both the store and the warehouse have (store scenarios reserve at one, shipping at the other)."""
        with self.calls.muted():
            answer = self.hub.http(
                "GET",
                "/v1/availability",
                query="channel=web&skus=" + ",".join(demo.demo_skus()[:60]),
                headers=self.headers,
            )
        for item in json.loads(answer.body)["items"]:
            free = {loc["location_id"]: loc["available"] for loc in item["locations"]}
            if free.get(STORE, 0) >= 3 and free.get(WAREHOUSE, 0) >= 3:
                sku: str = item["sku"]
                return sku
        raise RuntimeError("no demo SKU with stock at the store")


def report(bench: Any) -> None:
    for workflow, (method, events, final) in SCENARIOS.items():
        scenario = ScenarioBench(bench.hub, bench.calls, workflow, method)
        run = base.lifecycle(scenario, f"bench-workflow-{workflow}", events, final)
        base.emit(f"workflow_{workflow}_state_transitions_per_order", run.transitions, "transitions")
        base.emit(f"workflow_{workflow}_lambda_invocations_per_order", run.lambda_invocations, "invocations")
        base.emit(f"workflow_{workflow}_cost_per_1000_orders_usd", sum(base.cost_parts(run).values()), "usd")
    base.note(
        "per workflow, happy path: " + "; ".join(f"{w}: {' '.join(e)} -> {f}" for w, (_, e, f) in SCENARIOS.items())
    )
    base.note(
        "one order line; transitions, invocations and cost counted and priced as the courier figures; "
        "on-entry actions (OrderStatusEntered on the bus) are states too, so they are in the transitions"
    )
