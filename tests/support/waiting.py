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
