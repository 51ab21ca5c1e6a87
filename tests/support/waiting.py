"""Waiting for what the hub does after it answered: queue consumers, lifecycles and polls finish later."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.support.api import Api

POLL_SECONDS = 0.05


def wait_until(predicate: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} not reached in {timeout}s"
        time.sleep(POLL_SECONDS)


def settled(api: Api, order_id: str, status: str, timeout: float = 15.0) -> dict[str, Any]:
    """The order once it is in `status` with no event being applied (it may not exist yet: queue)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = api.get(f"/v1/orders/{order_id}")
        seen = answer.body.get("status") if answer.status == 200 else None
        if seen == status and not answer.body.get("pending_event"):
            return answer.body
        assert time.monotonic() < deadline, f"order {order_id} is {seen}, not {status}, after {timeout}s"
        time.sleep(POLL_SECONDS)


def actions_settled(api: Api, order_id: str, at_least: int = 1, timeout: float = 15.0) -> dict[str, Any]:
    """The order once at least `at_least` of its actions are recorded and none is running or retrying: a
    test that compares the order before and after a refused request must not see the hub's own actions
    (run beside the request, on the queue) as the request's doing."""
    deadline = time.monotonic() + timeout
    while True:
        order = api.order(order_id)
        actions = order.get("actions", [])
        if len(actions) >= at_least and not any(a["status"] in ("running", "retrying") for a in actions):
            return order
        assert time.monotonic() < deadline, f"order {order_id}'s actions not settled after {timeout}s: {actions}"
        time.sleep(POLL_SECONDS)
