"""An operator's retry of a failed lifecycle action (docs/actions.md): once the cause is fixed (the product
added to the catalog, the partner's account mended), the action's record is set to retrying and the action
announced again (OrderActionRetried, routed to the actions queue as the status entries are), so that
OrderActionsFunction runs it as it runs any action; when it then succeeds, its operator task is closed and
the order's attention cleared."""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common import events
from common.errors import Conflict, LifecycleUnavailable, NotFound, OrderNotFound
from common.observability import count, logger
from orders.adapters import order_actions, order_table
from orders.domain.actions import RETRIED_AFTER, latest, return_of

RETRIED = "OrderActionRetried"


def retry(order_id: str, name: str, now: str) -> dict[str, Any]:
    order = order_table.get_order(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    found = latest(order, name)
    if found is None:
        raise NotFound(f"order {order_id} has no action {name!r}", order_id=order_id, action=name)
    key, failed = found
    if failed["status"] != "failed":
        raise Conflict(
            f"action {name!r} is {failed['status']}: only a failed action is retried",
            status=order["status"],
            action={"name": name, "status": failed["status"]},
        )
    requeued = {**failed, "status": "retrying", "retry_at": now, "updated_at": now, "holder": uuid.uuid4().hex}
    requeued[RETRIED_AFTER] = failed["attempts"]  # it gets its attempts again
    if not order_actions.requeue(order_id, key, failed, requeued):
        raise Conflict(f"action {name!r} changed meanwhile; reload the order", status=order["status"])
    detail: dict[str, Any] = {"order_id": order_id, "channel": order["channel"], "workflow": order["workflow"]}
    return_id = return_of(key)
    detail |= {"return_id": return_id} if return_id else {"status": failed["on_status"], "actions": [name]}
    try:
        events.publish(RETRIED, [detail])
    except (events.EventsNotPublished, BotoCoreError, ClientError) as error:
        logger.exception("action retry not announced", extra={"order_id": order_id, "action": name})
        order_actions.put_back(order_id, key, failed, requeued)
        raise LifecycleUnavailable("the retry could not be queued; send it again shortly") from error
    count("ActionRetried")
    logger.info("action retry queued", extra={"order_id": order_id, "action": name})
    return {"order_id": order_id, "action": name, "status": "retrying", "on_status": failed["on_status"]}
