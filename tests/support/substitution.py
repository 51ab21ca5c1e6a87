"""Substitutions sent as an operator's client sends them."""

from __future__ import annotations

import time
from typing import Any

from tests.support.api import Answer, Api


def substitute(api: Api, order_id: str, body: dict[str, Any], timeout: float = 15.0) -> Answer:
    """POST a substitution as an operator's client does: a 409 `order_busy` (the lifecycle of a fresh order
    is not waiting for events yet, e.g. on a loaded machine) is sent again after its Retry-After."""
    deadline = time.monotonic() + timeout
    while True:
        answer = api.post(f"/v1/orders/{order_id}/substitutions", body)
        if answer.status != 409 or answer.body.get("error") != "order_busy" or time.monotonic() > deadline:
            assert answer.status == 200, answer.body
            return answer
        time.sleep(float(answer.headers.get("Retry-After", "1")) / 10)
