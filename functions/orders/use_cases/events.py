"""Events sent to an order from outside its lifecycle (operators, partners, the acquirer, the hold
sweeper), and the channel's hand-over deadline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from common.errors import ActionPending, Conflict, InvalidTransition, OrderBusy, OrderNotFound
from common.observability import count, logger
from orders.adapters import lifecycle_engine, order_table
from orders.adapters.workflow_catalog import workflow
from orders.domain.actions import IN_PROGRESS, Unmet, unmet
from orders.domain.models import OrderEventIn
from orders.domain.records import timeline_entry
from orders.domain.workflow import EXPIRE, LIFECYCLE_FAILED
from reference import config_table

SWEEPER = "sweeper"  # the source of the hold sweeper's events
PARTNER = "partner:"  # sources of a partner's own reports: what it reports has happened, whatever the hub ran

T = TypeVar("T")


class _NotReady(Exception):
    """The lifecycle has not reached its next wait yet, or another event took the token first."""


class _ActionsRunning(_NotReady):
    """An action the event requires has not finished yet."""

    def __init__(self, status: str, pending: ActionPending) -> None:
        super().__init__(status)
        self.pending = pending


def _pending(event: str, status: str, waiting: list[Unmet]) -> ActionPending:
    return ActionPending(
        f"event {event!r} waits for {', '.join(a.name for a in waiting)} to be done",
        status=status,
        actions=[{"name": a.name, "status": a.status, "last_error": a.last_error} for a in waiting],
    )


def _skipped_for_want_of_an_account(action: Unmet) -> bool:
    """An action not started yet that will be skipped because the hub has no account with its partner
    (create_shipment without a CDEK account): the event need not wait for the skip to be recorded."""
    return action.status == "not_started" and action.name == "create_shipment" and config_table.cdek_account() is None


def _poll(read: Callable[[], T], seconds: float = 3) -> T:
    """Call `read` until it stops raising _NotReady, for a few seconds at most."""
    for step in Retrying(
        retry=retry_if_exception_type(_NotReady), stop=stop_after_delay(seconds), wait=wait_fixed(0.05), reraise=True
    ):
        with step:
            return read()
    raise AssertionError("unreachable")


def post_event(order_id: str, event_in: OrderEventIn, source: str) -> dict[str, Any]:
    """Validate the event against the order's workflow and resume its execution with it."""

    def attempt() -> dict[str, Any]:
        order = order_table.get_order(order_id)
        if order is None:
            raise OrderNotFound(order_id)
        status = order["status"]
        if order.get("pending_event"):
            raise _NotReady(status)  # judge the event against the status the previous one leads to
        recovering = order.get("attention") == LIFECYCLE_FAILED
        flow = workflow(order["workflow"])
        if event_in.event == EXPIRE and source != SWEEPER:
            # A hold ends by its own time; an operator or a partner who wants the units back cancels.
            raise InvalidTransition(
                "event 'expire' is sent only by the hold sweeper when a hold runs out; "
                "send 'cancel' to release the units now",
                status=status,
                allowed_events=sorted(set(flow.transitions.get(status, {})) - {EXPIRE}),
            )
        next_status = flow.next_status(status, event_in.event, recovering=recovering)
        required = flow.statuses[status].requires.get(event_in.event, [])
        waiting = unmet(order, required) if required and not source.startswith(PARTNER) else []
        waiting = [a for a in waiting if not _skipped_for_want_of_an_account(a)]
        if waiting:
            pending = _pending(event_in.event, status, waiting)
            if all(a.status in IN_PROGRESS for a in waiting):
                raise _ActionsRunning(status, pending)  # usually done within a second: wait for them
            raise pending
        token = order.get("task_token")
        if not token or not order_table.claim_token(order_id, token, status, event_in.event):
            raise _NotReady(status)
        try:
            lifecycle_engine.resume(token, {"event": event_in.event, "source": source, "note": event_in.note or ""})
        except lifecycle_engine.TaskGone:
            settled = _settled_status(order_id)
            if settled == status != next_status:
                raise _NotReady(status) from None  # the deadline flagged the order: its next wait takes the event
            if settled != next_status:
                raise Conflict(
                    "the order's step ended before this event arrived (its deadline passed); reload it",
                    status=settled,
                ) from None
        except Exception:
            order_table.return_token(order_id, token, status)
            raise
        return {"order_id": order_id, "event": event_in.event, "status": status, "next_status": next_status}

    # Events sent back to back (confirm, then pick) wait here for the lifecycle to reach its next step.
    try:
        accepted = _poll(attempt)
    except _ActionsRunning as running:
        raise running.pending from None
    except _NotReady as busy:
        raise OrderBusy("the order is still applying a previous event; retry shortly", status=busy.args[0]) from None
    count(f"OrderEvent_{event_in.event}")
    logger.info(
        "order event accepted",
        extra={"order_id": order_id, "event": event_in.event, "next_status": accepted["next_status"]},
    )
    return accepted


def _settled_status(order_id: str) -> str | None:
    """The token was gone: either an SDK retry of a SendTaskSuccess that did go through, or the step
    ended first (its deadline passed). The status the order settles in once the lifecycle is done."""

    def settled() -> dict[str, Any]:
        order = order_table.get_order(order_id) or {}
        if order.get("pending_event"):
            raise _NotReady(order.get("status"))
        return order

    try:
        order = _poll(settled)
    except _NotReady:
        return None
    status: str | None = order.get("status")
    return status


def move_ship_by(order_id: str, ship_by: str, source: str, now: str) -> None:
    """The channel moved the hand-over deadline: the order's SLA deadline follows it."""
    order = order_table.get_order(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    entry = timeline_entry(
        now, order["status"], {"event": "ship_by_changed", "source": source, "note": f"ship by {ship_by}"}
    )
    if not order_table.set_ship_by(order_id, ship_by, entry):
        raise OrderNotFound(order_id)
    count("OrderShipByMoved")
