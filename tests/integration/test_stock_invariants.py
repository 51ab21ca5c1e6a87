"""Stock invariants under any interleaving of imports, orders (with duplicates), cancels and shipments.

A hypothesis state machine drives the hub over HTTP (real DynamoDB transactions and ASL in moto)
and, after every step, once the lifecycles have settled, checks the ground truth in the tables:
    on_hand >= reserved >= 0 and available == on_hand - reserved at every SKU x location;
    reserved == the sum of held reservations there;
    an order's held reservations cover exactly its allocations while it is reserved or on hold.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import boto3
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from oms_local.runtime import LocalHub
from orders.domain.workflow import workflow
from tests.conftest import Api, courier_order

SKUS = ["A", "B"]
LOCATIONS = ["wh-1", "store-1"]
EXTERNAL_IDS = [f"o-{n}" for n in range(6)]  # a small pool, so the same order is posted again


class StockUnderLoad(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.hub = LocalHub(retry_time_scale=0.001)
        self.hub.start()
        self.api = Api(self.hub)
        self.orders: dict[str, str] = {}  # external_id -> order_id

    @initialize()
    def reference_data(self) -> None:
        self.api.put("/v1/channels/web", {"kind": "web", "name": "Site"})
        for loc in LOCATIONS:
            kind = "warehouse" if loc.startswith("wh") else "store"
            self.api.put(f"/v1/locations/{loc}", {"name": loc, "kind": kind, "capabilities": ["courier"]})
            self.api.put(f"/v1/stock/{loc}", {"items": [{"sku": sku, "on_hand": 3} for sku in SKUS]})

    def teardown(self) -> None:
        self.hub.stop()

    @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCATIONS), delta=st.integers(-3, 6))
    def import_delta(self, sku: str, loc: str, delta: int) -> None:
        answer = self.api.put(f"/v1/stock/{loc}", {"mode": "delta", "items": [{"sku": sku, "on_hand": delta}]})
        assert answer.status == 200 and answer.body["updated"] + len(answer.body["errors"]) == 1

    @rule(external_id=st.sampled_from(EXTERNAL_IDS),
          lines=st.dictionaries(st.sampled_from(SKUS), st.integers(1, 4), min_size=1))
    def place_order(self, external_id: str, lines: dict[str, int]) -> None:
        body = courier_order(external_id, lines=[{"sku": s, "qty": q, "price": 1} for s, q in lines.items()])
        answer = self.api.post("/v1/orders", body)
        assert answer.status == (200 if external_id in self.orders else 201), answer.body
        self.orders[external_id] = answer.body["order_id"]

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def operator_event(self, data: st.DataObject) -> None:
        """An event the order's status allows (refused events are covered elsewhere): each one moves stock
        or status, so every example reaches cancels and shipments with reservations held."""
        order_id = self.orders[data.draw(st.sampled_from(sorted(self.orders)))]
        self._settle(order_id)
        allowed = sorted(workflow("courier").transitions.get(self.api.order(order_id)["status"], {}))
        if not allowed:
            return
        event = data.draw(st.sampled_from(allowed))
        answer = self.api.post(f"/v1/orders/{order_id}/events", {"event": event})
        assert answer.status == 202, answer.body

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def ship_whole_order(self, data: st.DataObject) -> None:
        """The warehouse's usual run: a reserved order confirmed, picked, packed and shipped in one go."""
        order_id = self.orders[data.draw(st.sampled_from(sorted(self.orders)))]
        self._settle(order_id)
        if self.api.order(order_id)["status"] != "reserved":
            return
        for event in ("confirm", "pick", "pack", "ship"):
            assert self.api.post(f"/v1/orders/{order_id}/events", {"event": event}).status == 202

    def _settle(self, order_id: str) -> None:
        """Until the lifecycle has applied the last accepted event (its next wait clears pending_event)."""
        deadline = time.monotonic() + 5
        while self.api.order(order_id).get("pending_event"):
            assert time.monotonic() < deadline
            time.sleep(0.02)

    @invariant()
    def stock_adds_up(self) -> None:
        for order_id in self.orders.values():
            self._settle(order_id)
        ddb = boto3.client("dynamodb")
        stock = {(i["sku"]["S"], i["location_id"]["S"]): {k: int(i[k]["N"]) for k in ("on_hand", "reserved", "available")}
                 for i in ddb.scan(TableName=os.environ["STOCK_TABLE"], ConsistentRead=True)["Items"]}
        held: Counter[tuple[str, str]] = Counter()
        held_by_order: dict[str, Counter[tuple[str, str]]] = {}
        for r in ddb.scan(TableName=os.environ["RESERVATIONS_TABLE"], ConsistentRead=True)["Items"]:
            if r["state"]["S"] == "held":
                key = (r["sku"]["S"], r["location_id"]["S"])
                held[key] += int(r["qty"]["N"])
                held_by_order.setdefault(r["order_id"]["S"], Counter())[key] += int(r["qty"]["N"])
        for key, row in stock.items():
            assert row["on_hand"] >= row["reserved"] >= 0, (key, row)
            assert row["available"] == row["on_hand"] - row["reserved"], (key, row)
            assert row["reserved"] == held[key], (key, row, held[key])
        for order_id in self.orders.values():
            order = self.api.order(order_id)
            expected = Counter({(a["sku"], a["location_id"]): a["qty"] for a in order["allocations"]})
            if order["status"] in ("reserved", "on_hold", "confirmed", "picked", "packed"):
                assert held_by_order.get(order_id, Counter()) == expected, (order_id, order["status"])
            else:
                assert not held_by_order.get(order_id), (order_id, order["status"])


StockUnderLoad.TestCase.settings = settings(max_examples=8, stateful_step_count=12, deadline=None,
                                            suppress_health_check=list(HealthCheck))
test_stock_invariants_hold_under_any_interleaving = StockUnderLoad.TestCase
