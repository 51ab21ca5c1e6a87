"""The hub's HTTP contract as a client sees it: a storefront's calls through API Gateway's proxy semantics."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oms_local.runtime import LocalHub


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class Api:
    """Calls the hub as a storefront would, through API Gateway's proxy semantics."""

    def __init__(self, hub: LocalHub, api_key: str | None = None) -> None:
        self.hub = hub
        self.api_key = hub.api_key if api_key is None else api_key

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: str = "",
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = {"content-type": "application/json", **(headers or {})}
        if self.api_key:
            sent["x-api-key"] = self.api_key
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        answer = self.hub.http(method, path, query=query, headers=sent, body=payload)
        text = answer.body.decode()
        try:
            parsed = json.loads(text) if text else None
        except json.JSONDecodeError:
            parsed = text
        return Answer(answer.status, answer.headers, parsed)

    def get(self, path: str, query: str = "") -> Answer:
        return self.call("GET", path, query=query)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.call("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.call("PUT", path, body, **kwargs)

    # ------------------------------------------------------------------ helpers for scenarios
    def order(self, order_id: str) -> dict[str, Any]:
        answer = self.get(f"/v1/orders/{order_id}")
        assert answer.status == 200, answer.body
        return answer.body

    def wait_for(self, order_id: str, status: str, timeout: float = 5.0) -> dict[str, Any]:
        """The contract: a GET shows the new status within 5 seconds of an accepted event."""
        deadline = time.monotonic() + timeout
        while True:
            order = self.order(order_id)
            if order["status"] == status and not order.get("pending_event"):
                return order
            if time.monotonic() > deadline:
                raise AssertionError(f"order {order_id} still {order['status']} after {timeout}s, wanted {status}")
            time.sleep(0.02)

    def event(self, order_id: str, event: str, expect: int = 202, **extra: Any) -> Answer:
        answer = self.post(f"/v1/orders/{order_id}/events", {"event": event, **extra})
        assert answer.status == expect, answer.body
        return answer

    def stock(self, sku: str, location_id: str) -> dict[str, int]:
        """On-hand, reserved and available as stored (the ground truth for invariants)."""
        import boto3

        item = (
            boto3.client("dynamodb")
            .get_item(
                TableName=os.environ["STOCK_TABLE"],
                Key={"sku": {"S": sku}, "location_id": {"S": location_id}},
                ConsistentRead=True,
            )
            .get("Item")
        )
        if not item:
            return {"on_hand": 0, "reserved": 0, "available": 0}
        return {k: int(item[k]["N"]) for k in ("on_hand", "reserved", "available")}
