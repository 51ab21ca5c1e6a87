"""The SLA monitor on a local hub: orders placed and moved over HTTP, the monitor run by its schedule
(SlaMonitorFunction.Scan) at a chosen time, as EventBridge would send it; what it did read back over HTTP
(tasks, orders), from the staff webhook receiver on 127.0.0.1 and from moto's tables.

Tier times come from the shipped workflows through the monitor's own resolver (Workflow.sla_for), so the
tests follow the YAML: ship_from_store's `confirmed` escalates to store_staff after 15 minutes and to
store_manager after 45, its `picked` first after 30."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from common.clock import utc_moment
from oms_local.runtime import LocalHub
from orders.adapters.workflow_catalog import catalog, workflow
from orders.domain.models import order_id_for
from sla_monitor.use_cases import monitor as use_case
from tests.fakes.staff_webhook import Answer, FakeStaffWebhook
from tests.support import builders
from tests.support.api import Api
from tests.support.aws_calls import dynamodb_calls
from tests.support.partners import ozon
from tests.support.sla import monitor, order_item, ozon_time, refuse_one_start, staff_webhook
from tests.support.workflows import place

SECRET = "whsec-monitor-0123456789"
LINE = [{"sku": "SKU-A", "qty": 1, "price": 100}]


@pytest.fixture
def served() -> Iterator[tuple[FakeStaffWebhook, str]]:
    with staff_webhook(SECRET) as receiver_and_url:
        yield receiver_and_url


@pytest.fixture
def receiver(served: tuple[FakeStaffWebhook, str]) -> FakeStaffWebhook:
    return served[0]


@pytest.fixture
def stores(api: Api, served: tuple[FakeStaffWebhook, str]) -> Api:
    """store-1 ships from store (20 x SKU-A); every role of the ladder has the receiver as its webhook."""
    builders.every_method_shop(api)
    assert api.put("/v1/stock/store-1", {"items": [{"sku": "SKU-A", "on_hand": 20}]}).status == 200
    hook = {"url": served[1], "secret": SECRET}
    for role in ("store_staff", "store_manager", "ops"):
        assert api.put(f"/v1/roles/{role}/contacts", {"emails": [], "webhook": hook}).status == 200
    return api


def since(order_id: str) -> datetime:
    return utc_moment(order_item(order_id)["status_since"]["S"])


def sla_tasks(api: Api, state: str = "open") -> list[dict[str, Any]]:
    return [t for t in api.get("/v1/tasks", f"state={state}&limit=100").body["items"] if t["kind"] == "sla"]


def store_order(api: Api, n: int, *events: tuple[str, str]) -> str:
    order_id = place(api, "ship_from_store", f"sla-{n}", lines=LINE)
    api.wait_for(order_id, "reserved")
    for event, status in events:
        api.event(order_id, event)
        api.wait_for(order_id, status)
    return order_id


CONFIRM, PICK = ("confirm", "confirmed"), ("pick", "picked")


def test_only_slow_orders_escalate_once_per_tier_to_the_role_at_their_store(
    hub: LocalHub, stores: Api, receiver: FakeStaffWebhook
) -> None:
    slow = [store_order(stores, n, CONFIRM) for n in range(2)]
    quick = [store_order(stores, n, CONFIRM, PICK) for n in range(2, 4)]
    sla = workflow("ship_from_store").sla_for("confirmed", "web", "store-1")
    assert sla is not None and sla.escalate[:2] == ((15 * 60, "store_staff"), (45 * 60, "store_manager"))
    entered = max(since(o) for o in slow + quick)

    monitor(hub, entered + timedelta(minutes=1))  # plans every new entry: nothing is due yet
    assert sla_tasks(stores) == [] and receiver.received == []

    # 20 minutes in: the slow ones are past their first rung; the quick ones' picked entry is not (30 min).
    # The run reads only what is due: the index gives the two slow orders and nothing else.
    with dynamodb_calls() as calls:
        monitor(hub, entered + timedelta(minutes=20))
    lanes = [c for c in calls if c.operation == "Query" and c.tables == [os.environ["ORDERS_TABLE"]]]
    assert len(lanes) == len(catalog().workflows)  # one Query a workflow, of its due orders only
    assert [c.keys for c in calls if c.operation == "BatchGetItem"] == [2]
    tasks = sla_tasks(stores)
    assert sorted(t["order_id"] for t in tasks) == sorted(slow)
    assert {(t["role"], t["location_id"], t["tier"], t["status"], t["notified"]) for t in tasks} == {
        ("store_staff", "store-1", "escalate_1", "confirmed", True)
    }
    assert sorted((p["order_id"], p["type"], p["role"], p["location_id"]) for p in receiver.received) == sorted(
        (o, "sla.escalated", "store_staff", "store-1") for o in slow
    )

    # The same time again, and again later before the next rung: nothing fires twice.
    monitor(hub, entered + timedelta(minutes=20))
    monitor(hub, entered + timedelta(minutes=25))
    assert len(receiver.received) == 2

    # Two runs at once past the second rung: store_manager is told once per order.
    both = [threading.Thread(target=monitor, args=(hub, entered + timedelta(minutes=46))) for _ in range(2)]
    for run in both:
        run.start()
    for run in both:
        run.join()
    managers = [p for p in receiver.received if p["role"] == "store_manager"]
    assert sorted(p["order_id"] for p in managers) == sorted(slow)
    assert {t["role"] for t in sla_tasks(stores) if t["order_id"] in quick} == {"store_staff"}  # picked, 30 min


def test_the_task_closes_at_the_next_run_after_the_order_moves_on(hub: LocalHub, stores: Api) -> None:
    order_id = store_order(stores, 1, CONFIRM)
    entered = since(order_id)
    monitor(hub, entered + timedelta(minutes=16))
    [task] = sla_tasks(stores)
    assert task["order_id"] == order_id

    stores.event(order_id, "pick")
    stores.wait_for(order_id, "picked")
    assert [t["task_id"] for t in sla_tasks(stores)] == [task["task_id"]]  # until the monitor looks
    monitor(hub, entered + timedelta(minutes=17))
    assert sla_tasks(stores) == []
    assert [t["task_id"] for t in sla_tasks(stores, "closed")] == [task["task_id"]]
    assert order_item(order_id)["sla"]["M"]["status"] == {"S": "picked"}


def test_a_finished_order_leaves_the_index_with_its_tasks_closed(hub: LocalHub, stores: Api) -> None:
    order_id = store_order(stores, 1, CONFIRM)
    entered = since(order_id)
    monitor(hub, entered + timedelta(minutes=16))
    stores.event(order_id, "cancel")
    stores.wait_for(order_id, "cancelled")
    monitor(hub, entered + timedelta(minutes=17))
    assert sla_tasks(stores) == []
    assert {"sla_lane", "sla_next_at"}.isdisjoint(order_item(order_id))
    assert monitor(hub, entered + timedelta(days=30)) == {}  # nothing due: nothing read


def test_a_failed_notification_is_sent_again_at_the_next_run(
    hub: LocalHub, stores: Api, receiver: FakeStaffWebhook
) -> None:
    order_id = store_order(stores, 1, CONFIRM)
    entered = since(order_id)
    receiver.answer_next(Answer(status=503))
    monitor(hub, entered + timedelta(minutes=16))
    [task] = sla_tasks(stores)
    assert (task["notified"], receiver.received) == (False, [])
    monitor(hub, entered + timedelta(minutes=17))
    assert [p["order_id"] for p in receiver.received] == [order_id]
    assert sla_tasks(stores)[0]["notified"] is True
    monitor(hub, entered + timedelta(minutes=18))
    assert len(receiver.received) == 1


def test_one_order_failing_does_not_stop_the_run_and_stays_due(
    hub: LocalHub, stores: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = store_order(stores, 1, CONFIRM), store_order(stores, 2, CONFIRM)
    entered = max(since(first), since(second))
    told = use_case.notify_role

    def failing_for_first(role: str, location_id: str | None, message: Any) -> bool:
        if message.order_id == first:
            raise RuntimeError("contacts unreadable")
        return told(role, location_id, message)

    monkeypatch.setattr(use_case, "notify_role", failing_for_first)
    outcome = monitor(hub, entered + timedelta(minutes=16))
    assert outcome["failed"] == 1
    assert [t["order_id"] for t in sla_tasks(stores)] == [second]
    monkeypatch.setattr(use_case, "notify_role", told)
    monitor(hub, entered + timedelta(minutes=17))
    assert sorted(t["order_id"] for t in sla_tasks(stores)) == sorted([first, second])


def test_a_run_short_of_time_leaves_the_rest_due_for_the_next_run(
    hub: LocalHub, stores: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = [store_order(stores, 20 + n, CONFIRM) for n in range(3)]
    entered = max(since(order_id) for order_id in ours)
    watch = use_case._watch

    def look_then_run_out_of_time(*args: Any) -> str:
        monkeypatch.setattr(use_case, "TIME_RESERVE_SECONDS", math.inf)  # the function's time is up after one
        return watch(*args)

    monkeypatch.setattr(use_case, "_watch", look_then_run_out_of_time)
    monkeypatch.setattr(use_case, "LOOKERS", 1)  # one look at a time: the time is up after exactly one
    outcome = monitor(hub, entered + timedelta(minutes=16))
    looked = sum(n for what, n in outcome.items() if what != "deferred")
    assert looked == 1 and outcome["deferred"] >= 2, outcome  # ours are due, with any other test's still due
    tasks = [t["order_id"] for t in sla_tasks(stores) if t["order_id"] in ours]
    assert len(tasks) <= 1  # the one look of the run may have been another test's older order
    monkeypatch.undo()
    assert "deferred" not in monitor(hub, entered + timedelta(minutes=17))
    assert sorted(t["order_id"] for t in sla_tasks(stores) if t["order_id"] in ours) == sorted(ours)


def test_a_run_looks_at_several_orders_at_once_and_tells_each_once(
    hub: LocalHub, stores: Api, receiver: FakeStaffWebhook
) -> None:
    """A look waits on the role's webhook (here 0.5 s an answer): the run does not wait for one before the next."""
    ours = [store_order(stores, 30 + n, CONFIRM) for n in range(4)]
    entered = max(since(order_id) for order_id in ours)
    receiver.answer_next(Answer(delay_s=0.5), times=20)
    outcome = monitor(hub, entered + timedelta(minutes=16))
    told = sorted(p["order_id"] for p in receiver.received if p["order_id"] in ours)
    assert told == sorted(ours) and "failed" not in outcome
    assert receiver.most_in_flight > 1
    monitor(hub, entered + timedelta(minutes=17))  # nothing more to tell them
    assert sorted(p["order_id"] for p in receiver.received if p["order_id"] in ours) == told


def test_a_lost_start_is_started_by_the_monitor(hub: LocalHub, stores: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Step Functions refuses the start once, after intake wrote the order (the caller sees a 503)."""
    refuse_one_start(monkeypatch)
    answer = stores.post("/v1/orders", builders.courier_order("lost-1", lines=LINE))
    assert answer.status == 503, answer.body
    order_id = order_id_for("web", "lost-1")
    created = utc_moment(order_item(order_id)["created_at"]["S"])
    monkeypatch.undo()

    monitor(hub, created + timedelta(minutes=1))  # too early to tell a slow start from a lost one
    with pytest.raises(ClientError):
        boto3.client("stepfunctions").describe_execution(executionArn=_execution(order_id, "courier"))
    monitor(hub, created + timedelta(minutes=3))
    assert (
        boto3.client("stepfunctions").describe_execution(executionArn=_execution(order_id, "courier"))["status"]
        == "RUNNING"
    )
    stores.wait_for(order_id, "reserved")
    stores.event(order_id, "confirm")  # the lifecycle waits for events again
    stores.wait_for(order_id, "confirmed")


def test_a_dead_execution_is_flagged_for_attention_with_a_task(hub: LocalHub, stores: Api) -> None:
    order_id = store_order(stores, 1)  # reserved: its timeout cancels the order (1 day)
    _wait_for_token(order_id)  # intake wrote reserved; the execution is at its wait once it left a token
    boto3.client("stepfunctions").stop_execution(executionArn=_execution(order_id, "ship_from_store"))
    entered = since(order_id)
    monitor(hub, entered + timedelta(hours=1))
    assert stores.order(order_id).get("attention") is None  # the deadline has not passed: nobody can tell yet
    monitor(hub, entered + timedelta(days=1, minutes=6))
    assert stores.order(order_id)["attention"] == "lifecycle_lost"
    lost = [t for t in stores.get("/v1/tasks", "state=open").body["items"] if t["kind"] == "lifecycle_lost"]
    assert [(t["order_id"], t["role"], t["status"]) for t in lost] == [(order_id, "ops", "reserved")]
    monitor(hub, entered + timedelta(days=1, minutes=7))
    assert len([t for t in stores.get("/v1/tasks", "state=open").body["items"] if t["kind"] == "lifecycle_lost"]) == 1


def _wait_for_token(order_id: str) -> None:
    deadline = time.monotonic() + 30
    while "task_token" not in order_item(order_id):
        assert time.monotonic() < deadline, f"{order_id} never reached its wait"
        time.sleep(0.05)


def _execution(order_id: str, flow: str) -> str:
    machine = os.environ["LIFECYCLE_ARN_PREFIX"] + flow
    return machine.replace(":stateMachine:", ":execution:") + f":{order_id}"


POSTING = "24219509-0020-1"


def test_a_marketplace_order_is_due_by_its_ship_by_and_a_moved_cutoff_moves_it(hub: LocalHub, market: Api) -> None:
    order_id = order_id_for("ozon", POSTING)
    now = datetime.now(UTC)
    ship_by = (now + timedelta(hours=10)).replace(microsecond=0)
    assert ozon(hub, "ozon_new_posting.json", shipment_date=ozon_time(ship_by)).status == 200
    market.wait_for(order_id, "reserved")
    entered = since(order_id)
    monitor(hub, entered + timedelta(minutes=3))  # past the start check too (the lifecycle waits: it started)
    planned = order_item(order_id)["sla"]["M"]
    assert utc_moment(planned["due_at"]["S"]) == ship_by
    sla = workflow("marketplace").sla_for("reserved", "ozon", "wh-1")
    assert sla is not None and sla.warn_before_seconds is not None
    warn_at = ship_by - timedelta(seconds=sla.warn_before_seconds)
    # The warning counts whole seconds from the entry.
    assert abs(utc_moment(order_item(order_id)["sla_next_at"]["S"]) - warn_at) < timedelta(seconds=1)

    later = ship_by + timedelta(hours=5)
    moved = ozon(
        hub, "ozon_cutoff_date_changed.json", new_cutoff_date=ozon_time(later), old_cutoff_date=ozon_time(ship_by)
    )
    assert moved.status == 200
    monitor(hub, entered + timedelta(minutes=4))  # the move made the order due: re-planned
    assert utc_moment(order_item(order_id)["sla"]["M"]["due_at"]["S"]) == later
    monitor(hub, warn_at + timedelta(minutes=1))  # the old warning time: nothing is due any more
    assert [t for t in market.get("/v1/tasks", "state=open").body["items"] if t["kind"] == "sla"] == []
    monitor(hub, later - timedelta(seconds=sla.warn_before_seconds) + timedelta(minutes=1))
    [task] = [t for t in market.get("/v1/tasks", "state=open").body["items"] if t["kind"] == "sla"]
    assert (task["order_id"], task["tier"], utc_moment(task["due_at"])) == (order_id, "warn", later)
