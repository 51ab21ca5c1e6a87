"""Lifecycle actions end to end: orders over HTTP, the real state machines announcing OrderStatusEntered,
moto's EventBridge routing it to OrderActionsQueue, OrderActionsFunction calling fake partners on 127.0.0.1
(each request checked against the partner's published spec). What each fake received is asserted, and
what the order shows (`actions`, the timeline, attention, the operator task)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import builders
from tests.support.api import Api
from tests.support.partners import fast_retry_hub
from tests.support.waiting import wait_until
from tests.support.workflows import place, walk


@pytest.fixture
def quick() -> Iterator[Api]:
    """A hub whose retried queue messages come back at once (the actions' backoff is not waited out)."""
    with fast_retry_hub() as hub:
        yield Api(hub)


def action(api: Api, order_id: str, name: str, status: str = "done", timeout: float = 20) -> dict[str, Any]:
    """The order's record of `name` once it reached `status`."""
    found: dict[str, Any] = {}

    def reached() -> bool:
        records = [a for a in api.order(order_id)["actions"] if a["name"] == name]
        found.update(records[-1] if records else {})
        return bool(records) and records[-1]["status"] == status

    wait_until(reached, timeout, f"{name} {status}")
    return found


def action_entries(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in order["timeline"] if e["source"] == "actions"]


def test_ship_from_store_opens_the_store_task_once(api: Api) -> None:
    builders.every_method_shop(api)
    order_id = place(api, "ship_from_store", "sfs-actions-1")
    walk(api, order_id, [("confirm", "confirmed")])
    record = action(api, order_id, "open_task")
    assert record["attempts"] == 1
    assert record["on_status"] == "confirmed" and record["entry"] == 1
    task_id = record["result"]["task_id"]
    tasks = [t for t in api.get("/v1/tasks").body["items"] if t["task_id"] == task_id]
    assert tasks and tasks[0]["kind"] == "store_order" and tasks[0]["order_id"] == order_id
    assert "store-1" in tasks[0]["reason"]
    order = api.order(order_id)
    [entry] = action_entries(order)
    assert entry["event"] == "action_done" and entry["status"] == "confirmed"
    assert "open_task (confirmed #1, attempt 1)" in entry["note"]
