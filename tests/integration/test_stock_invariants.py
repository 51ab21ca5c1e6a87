"""Stock invariants under any interleaving of imports (snapshots, deltas, repeated batch ids, zeroing the
unlisted SKUs), orders (with duplicates, some holding for a short time), cancels, shipments and expiries.

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
from datetime import UTC, datetime

import boto3
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from oms_local.runtime import LocalHub
from orders.adapters.workflow_catalog import workflow
from orders.domain.workflow import EXPIRE
from tests.support.api import Api
from tests.support.builders import courier_order

SKUS = ["A", "B"]
LOCATIONS = ["wh-1", "store-1"]
EXTERNAL_IDS = [f"o-{n}" for n in range(6)]  # a small pool, so the same order is posted again
BATCH_IDS = ["b-1", "b-2", "b-3"]  # likewise: the same batch is sent again


class StockUnderLoad(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.hub = LocalHub(retry_time_scale=0.001)
        self.hub.start()
        self.api = Api(self.hub)
        self.orders: dict[str, str] = {}  # external_id -> order_id
        self.batches: dict[tuple[str, str], dict] = {}  # (location, batch id) -> the batch as first sent
        self.holding: set[str] = set()  # orders with a hold that has run out

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

    @rule(
        loc=st.sampled_from(LOCATIONS),
        batch_id=st.sampled_from(BATCH_IDS),
        mode=st.sampled_from(["snapshot", "delta"]),
        units=st.dictionaries(st.sampled_from(SKUS), st.integers(0, 6), min_size=1),
        negative=st.booleans(),
        zero_unlisted=st.booleans(),
    )
    def import_batch(
        self, loc: str, batch_id: str, mode: str, units: dict[str, int], negative: bool, zero_unlisted: bool
    ) -> None:
        """A batch with an id; an id seen before at this location is the ERP sending the same batch again."""
        sign = -1 if mode == "delta" and negative else 1
        body = self.batches.setdefault(
            (loc, batch_id),
            {
                "mode": mode,
                "batch_id": batch_id,
                "zero_unlisted": zero_unlisted and mode == "snapshot",
                "items": [{"sku": sku, "on_hand": sign * n} for sku, n in units.items()],
            },
        )
        repeated = "sent" in body
        body["sent"] = True
        before = self._stock()
        answer = self.api.put(f"/v1/stock/{loc}", {k: v for k, v in body.items() if k != "sent"})
        assert answer.status == 200 and answer.body["duplicate"] is repeated, answer.body
        if repeated:
            assert self._stock() == before, "a batch applied twice changed the stock"

    @rule(
        external_id=st.sampled_from(EXTERNAL_IDS),
        lines=st.dictionaries(st.sampled_from(SKUS), st.integers(1, 4), min_size=1),
        holds=st.booleans(),
    )
    def place_order(self, external_id: str, lines: dict[str, int], holds: bool) -> None:
        body = courier_order(external_id, lines=[{"sku": s, "qty": q, "price": 1} for s, q in lines.items()])
        if holds:  # an unpaid order: its hold runs out at once, the next sweep expires it
            body["hold_until"] = datetime.now(UTC).isoformat()
        answer = self.api.post("/v1/orders", body)
        assert answer.status == (200 if external_id in self.orders else 201), answer.body
        self.orders[external_id] = answer.body["order_id"]
        if answer.body.get("hold_expires_at"):
            self.holding.add(answer.body["order_id"])

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def operator_event(self, data: st.DataObject) -> None:
        """An event the order's status allows (refused events are covered elsewhere): each one moves stock
        or status, so every example reaches cancels and shipments with reservations held."""
        order_id = self.orders[data.draw(st.sampled_from(sorted(self.orders)))]
        self._settle(order_id)
        # `expire` is the sweeper's (the sweep rule sends it), not an API caller's.
        allowed = sorted(set(workflow("courier").transitions.get(self.api.order(order_id)["status"], {})) - {EXPIRE})
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

    @rule()
    def sweep(self) -> None:
        """Every settled order whose hold ran out and that is still reserved or on hold ends `expired`."""
        for order_id in self.orders.values():
            self._settle(order_id)
        due = {o for o in self.holding if self.api.order(o)["status"] in ("reserved", "on_hold")}
        outcome = self.hub.fire_schedules("HoldSweeperFunction.Sweep")["HoldSweeperFunction.Sweep"]
        assert (outcome["expired"], outcome["busy"]) == (len(due), 0), (outcome, due)
        for order_id in due:
            self.api.wait_for(order_id, "expired")

    def _stock(self) -> dict:
        for order_id in self.orders.values():
            self._settle(order_id)
        return {
            (i["sku"]["S"], i["location_id"]["S"]): (i["on_hand"]["N"], i["reserved"]["N"])
            for i in boto3.client("dynamodb").scan(TableName=os.environ["STOCK_TABLE"], ConsistentRead=True)["Items"]
        }

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
        stock = {
            (i["sku"]["S"], i["location_id"]["S"]): {k: int(i[k]["N"]) for k in ("on_hand", "reserved", "available")}
            for i in ddb.scan(TableName=os.environ["STOCK_TABLE"], ConsistentRead=True)["Items"]
        }
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


StockUnderLoad.TestCase.settings = settings(
    max_examples=8, stateful_step_count=12, deadline=None, suppress_health_check=list(HealthCheck)
)
test_stock_invariants_hold_under_any_interleaving = StockUnderLoad.TestCase
