"""After-pick changes to an order's goods: returns put units back on hand, a short pick writes off what
was missing at picking. Each return is announced on the bus (OrderReturned) for the order's actions to
give back what was paid for it (the loyalty points, docs/actions.md)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common import events
from common.errors import OrderNotFound, Problem, Unprocessable
from common.observability import count, logger
from common.quantities import sum_by
from orders.adapters import order_stock, order_table
from orders.adapters.workflow_catalog import workflow
from orders.domain.fulfilment import describe as describe_short_pick
from orders.domain.fulfilment import plan_short_pick
from orders.domain.models import Order, Return, ReturnIn, ShortPickIn
from orders.domain.records import timeline_entry
from orders.domain.returns import check_return
from orders.domain.returns import describe as describe_return
from orders.use_cases.queries import get_order
from orders.use_cases.shared import with_fresh_stock
from reference import config_table

RETURNED = "OrderReturned"  # the detail-type OrderActionsRule routes to the actions queue with the status entries


def return_items(order_id: str, request: ReturnIn, now: str, source: str = "operator") -> tuple[dict[str, Any], bool]:
    """Record a full or partial return; its units go back on hand at the chosen location. The same
    return_id again answers the recorded return, changes nothing and announces it again (a lost
    announcement is made good by the caller's retry; the actions run once per return either way).
    `source` is who recorded it."""
    if request.location_id not in config_table.locations():
        raise Unprocessable(
            f"unknown location {request.location_id!r}",
            [Problem(("location_id",), "unknown location")],
        )

    def attempt() -> tuple[dict[str, Any], bool, dict[str, Any]]:
        order = order_table.get_order(order_id)
        if order is None:
            raise OrderNotFound(order_id)
        earlier = next((r for r in order.get("returns") or [] if r["return_id"] == request.return_id), None)
        if earlier is not None:
            return earlier, False, order
        check_return(order, workflow(order["workflow"]), request)
        merged = sum_by((line.sku, line.qty) for line in request.lines)
        record = Return(
            **request.model_dump(exclude={"lines"}),
            at=now,
            lines=[{"sku": sku, "qty": qty} for sku, qty in merged.items()],
        ).model_dump()
        entry = timeline_entry(
            now, order["status"], {"event": "return", "source": source, "note": describe_return(request)}
        )
        order_stock.record_return(order_id, record, entry, read_at=order["updated_at"], now=now)
        return record, True, order

    record, created, order = with_fresh_stock(attempt)
    if created:
        count("OrderReturned")
    _announce(order, record["return_id"])
    return record, created


def _announce(order: dict[str, Any], return_id: str) -> None:
    """OrderReturned on the bus. The return is recorded whatever happens here: a failure is logged, not
    answered as one, and the same return posted again announces it again."""
    detail = {"order_id": order["order_id"], "channel": order["channel"], "workflow": order["workflow"]}
    try:
        events.publish(RETURNED, [{**detail, "return_id": return_id}])
    except (events.EventsNotPublished, BotoCoreError, ClientError):
        logger.exception("return not announced", extra={"order_id": order["order_id"]})
        count("ReturnNotAnnounced")


def short_pick(order_id: str, request: ShortPickIn, now: str, source: str = "operator") -> Order:
    """Units found missing at picking are written off at their location; the order carries on with the rest.
    `source` is who found them missing."""

    def attempt() -> None:
        order = order_table.get_order(order_id)
        if order is None:
            raise OrderNotFound(order_id)
        plan = plan_short_pick(order, workflow(order["workflow"]), request)
        entry = timeline_entry(
            now, order["status"], {"event": "short_pick", "source": source, "note": describe_short_pick(request)}
        )
        # The units per SKU, for the loyalty actions to give back the points they were paid with.
        entry["removed"] = dict(sum_by((line.sku, line.missing) for line in request.lines))
        order_stock.write_off(order, request.location_id, plan, entry, now)

    with_fresh_stock(attempt)
    count("OrderShortPicked")
    return get_order(order_id)
