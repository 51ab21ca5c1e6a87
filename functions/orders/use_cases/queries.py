"""Reading orders and operator tasks."""

from __future__ import annotations

from typing import Any

from common.errors import OrderNotFound
from orders.adapters import order_table, task_table
from orders.domain.models import Order, Task


def get_order(order_id: str) -> Order:
    order = order_table.get_order(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return Order.model_validate(order)


def list_orders(status: str | None, channel: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    page = order_table.list_orders(status, channel, limit, cursor)
    return {
        "items": [Order.model_validate(o).model_dump(mode="json") for o in page.items],
        "next_cursor": page.next_cursor,
    }


def list_tasks(state: str, limit: int, cursor: str | None) -> dict[str, Any]:
    page = task_table.list_tasks(state, limit, cursor)
    return {
        "items": [Task.model_validate(t).model_dump(mode="json") for t in page.items],
        "next_cursor": page.next_cursor,
    }
