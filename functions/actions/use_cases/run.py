"""Running the actions an OrderStatusEntered announcement names, each once per status entry.

For each action: find the status entry it belongs to on the order's timeline, claim its record (a lease),
ask the partner, and record what it answered. The announcement is put on the bus before the lifecycle
writes the status, so it may arrive first: it is looked at again shortly until the entry shows. A
transient failure is tried again with backoff (the message comes back later); a permanent one sets the
order's attention and opens an operator task with the partner's reason. The lifecycle never waits for
any of it, except an event a status declares to need an action done first (`requires`).
"""

from __future__ import annotations

import functools
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from actions.domain.announcement import Announcement, Returned
from actions.domain.announcement import Entered as StatusEntered
from actions.domain.outcomes import (
    EARLY_RETRY_SECONDS,
    EARLY_WINDOW_SECONDS,
    MAX_ATTEMPTS,
    Done,
    Grouped,
    Outcome,
    Permanent,
    Skipped,
    Transient,
    backoff_seconds,
)
from actions.use_cases import customer, loyalty, marketplace, shipment, store
from actions.use_cases.context import Context
from common.clock import utc_moment, utc_text
from common.config import settings
from common.observability import count, logger
from orders.adapters import order_actions, order_table
from orders.adapters.workflow_catalog import workflow
from orders.domain.actions import ACTOR, FINAL_STATES, RETRIED_AFTER, entries_of, entry_of, records, target
from partners.clients.http import PartnerRejected, PartnerUnavailable

# Longer than one attempt can take (the function's timeout): a claim older than this was abandoned.
LEASE_SECONDS = 150
EARLY_WAIT_SECONDS = 2.0
EARLY_POLL_SECONDS = 0.1
ATTENTION = "action_failed"
TASK_KIND = "action_failed"
NOTE_LIMIT = 400  # characters of a partner's reason kept on the timeline and the task

Performer = Callable[[Context], Outcome | Grouped]


PERFORMERS: dict[str, Performer] = {
    "open_task": store.open_task,
    "close_task": store.close_task,
    "confirm_to_marketplace": marketplace.confirm,
    "hand_over_to_marketplace": marketplace.hand_over,
    "cancel_at_marketplace": marketplace.cancel,
    "notify_customer": customer.notify_customer,
    "create_shipment": shipment.create_shipment,
    "cancel_shipment": shipment.cancel_shipment,
    "loyalty_hold": loyalty.hold,
    "loyalty_write_off": loyalty.write_off,
    "loyalty_accrue": loyalty.accrue,
    "loyalty_give_back": loyalty.give_back,
}
# What a return recorded after delivery asks of the outside world, once per return (OrderReturned).
RETURN_ACTIONS = ("loyalty_give_back",)


class RetryLater(Exception):
    """Some action of the announcement must be tried again: the message comes back after `seconds`."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"retry in {seconds} s")
        self.seconds = seconds


Message = tuple[str, str]  # an SQS message of the queue batch: its id and receipt handle


@dataclass
class _Deferred:
    message: Message
    ctx: Context
    claimed: dict[str, Any]
    grouped: Grouped


@dataclass
class Batch:
    """The grouped requests (Grouped) of one queue batch's messages: each action is claimed as its message
    is read, and sent with the others of its group once every message has been (`send`)."""

    deferred: list[_Deferred] = field(default_factory=list)
    waited: dict[Message, int] = field(default_factory=dict)  # a message's wait its other actions set

    def send(self) -> dict[Message, int]:
        """Send each group `size` at a time and record every action's own outcome; the seconds until each
        message with an action to be tried again should come back (the sooner of its waits)."""
        groups: dict[Any, list[_Deferred]] = defaultdict(list)
        for deferred in self.deferred:
            groups[deferred.grouped.group].append(deferred)
        waits: dict[Message, int] = {}
        for members in groups.values():
            size = members[0].grouped.size
            for chunk in (members[start : start + size] for start in range(0, len(members), size)):
                for deferred, outcome in zip(chunk, _sent(chunk), strict=True):
                    wait = _record(deferred.ctx, deferred.claimed, outcome)
                    if wait is not None:
                        waits[deferred.message] = min(wait, waits.get(deferred.message, wait))
        self.deferred.clear()
        return {m: min(w, self.waited.get(m, w)) for m, w in waits.items()}


def _sent(chunk: list[_Deferred]) -> list[Outcome]:
    """One chunk's request: each item's outcome, or the same for all when the request itself failed."""
    try:
        outcomes = chunk[0].grouped.send([d.grouped.item for d in chunk])
    except Exception as error:  # noqa: BLE001 - classified as one attempt's failure is (_failure)
        return [_failure(error, chunk[0].ctx)] * len(chunk)
    return outcomes


def handle(announcement: Announcement, now: datetime, batch: Batch | None = None, message: Message = ("", "")) -> None:
    """Run each action the announcement names (a return's: RETURN_ACTIONS); RetryLater with the soonest
    wait if any must be retried. With a `batch`, a grouped request waits in it for the batch's others
    (their outcomes are recorded when it is sent); without one it goes alone at once."""
    detail = announcement.detail
    defer = functools.partial(_defer, batch, message) if batch is not None else None
    if isinstance(detail, Returned):
        waits = [wait for name in RETURN_ACTIONS if (wait := _run_for_return(detail, name, now)) is not None]
    else:
        waits = [wait for name in detail.actions if (wait := _run(announcement, detail, name, now, defer)) is not None]
    if waits:
        if batch is not None:
            batch.waited[message] = min(waits)
        raise RetryLater(min(waits))


Defer = Callable[[Context, dict[str, Any], Grouped], None]


def _defer(batch: Batch, message: Message, ctx: Context, claimed: dict[str, Any], grouped: Grouped) -> None:
    batch.deferred.append(_Deferred(message, ctx, claimed, grouped))


def _run(
    announcement: Announcement, detail: StatusEntered, name: str, now: datetime, defer: Defer | None = None
) -> int | None:
    """One action: None when it is settled (done, failed for good, skipped, or a duplicate), else the
    seconds until it should be looked at again."""
    if name not in PERFORMERS:
        # Announced by a workflow, served by no function of this deployment (yet): nothing to record.
        logger.warning("no service for the action", extra={"order_id": detail.order_id, "action": name})
        count("ActionWithoutService")
        return None
    read = _entered(detail.order_id, name, detail.status, announcement.time)
    if read is NOT_WRITTEN and (now - announcement.time).total_seconds() < EARLY_WINDOW_SECONDS:
        return EARLY_RETRY_SECONDS  # look again shortly
    if not isinstance(read, tuple):
        return None  # a duplicate of a settled entry, an order that does not exist, or given up on
    order, entry, record = read
    return _perform(Context(order, name, detail.status, entry, utc_text(now)), record, now, defer)


def _run_for_return(detail: Returned, name: str, now: datetime) -> int | None:
    """A return's action: its record is keyed by the return's id, so a repeated announcement of the
    return (the same return posted again, a duplicate delivery) finds it settled and does nothing."""
    order = order_table.get_order(detail.order_id)
    if order is None or not any(r["return_id"] == detail.return_id for r in order.get("returns") or []):
        logger.warning("announced return is not on the order", extra={"order_id": detail.order_id})
        return None
    status = order["status"]
    entry = entries_of(order.get("timeline", []), status)
    ctx = Context(order, name, status, entry, utc_text(now), return_id=detail.return_id)
    record = records(order).get(ctx.key)
    if record is not None and record["status"] in FINAL_STATES:
        return None
    return _perform(ctx, record, now)


def _perform(ctx: Context, record: dict[str, Any] | None, now: datetime, defer: Defer | None = None) -> int | None:
    """Claim the action (as `record` was read), attempt it and record its outcome; the seconds until it
    should be looked at again, if any. A grouped request is deferred to the batch (held by the claim)."""
    if record is not None:
        wait = _still_waiting(record, now)
        if wait:
            return wait
    claimed = _claimed(ctx, record, now)
    if claimed is None:
        return EARLY_RETRY_SECONDS  # another delivery took it first: look at its outcome shortly
    outcome = _attempt(ctx)
    if isinstance(outcome, Grouped):
        if defer is not None:
            defer(ctx, claimed, outcome)
            return None
        [outcome] = _sent([_Deferred(("", ""), ctx, claimed, outcome)])
    return _record(ctx, claimed, outcome)


NOT_WRITTEN = "not written"  # the order does not show the announced entry (yet)
Entered = tuple[dict[str, Any], int, dict[str, Any] | None]  # the order, the entry, its record if claimed


def _entered(order_id: str, name: str, status: str, announced: datetime) -> Entered | str | None:
    """The order and the status entry the action belongs to. The lifecycle announces an entry before it
    writes it, usually a few milliseconds before: the order is read again for a moment before the message
    is put back (NOT_WRITTEN). None: no such order, or the announcement is older than the latest entry of
    the status and every entry has its outcome (a duplicate)."""
    deadline = time.monotonic() + EARLY_WAIT_SECONDS
    while True:
        order = order_table.get_order(order_id)
        if order is None:
            logger.warning("announced order does not exist", extra={"order_id": order_id})
            return None
        found = target(order, name, status)
        if found.entry is not None:
            return order, found.entry, found.record
        timeline = order.get("timeline", [])
        latest = entry_of(timeline, status, entries_of(timeline, status))
        if latest is not None and utc_moment(latest["at"]) >= announced:
            return None
        if time.monotonic() >= deadline:
            return NOT_WRITTEN
        time.sleep(EARLY_POLL_SECONDS)


def _still_waiting(record: dict[str, Any], now: datetime) -> int:
    """Seconds until a record may be attempted again: a lease held, or a backoff not over (0: now)."""
    until = record.get("lease_until") if record["status"] == "running" else record.get("retry_at")
    if not until:
        return 0
    left = (utc_moment(until) - now).total_seconds()
    return max(int(left) + 1, 1) if left > 0 else 0


def _claimed(ctx: Context, seen: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    previous = seen or {}
    record = {
        "name": ctx.name,
        "status": "running",
        "attempts": int(previous.get("attempts", 0)) + 1,
        "last_error": previous.get("last_error"),
        "result": previous.get("result"),
        "on_status": ctx.status,
        "entry": ctx.entry,
        "updated_at": ctx.now,
        "claimed_at": previous.get("claimed_at", ctx.now),
        **({RETRIED_AFTER: previous[RETRIED_AFTER]} if RETRIED_AFTER in previous else {}),
        "holder": uuid.uuid4().hex,
        "lease_until": utc_text(now + timedelta(seconds=LEASE_SECONDS)),
    }
    return record if order_actions.claim(ctx.order["order_id"], ctx.key, record, seen) else None


def _attempt(ctx: Context) -> Outcome | Grouped:
    """The performer's outcome (or its request to send with others); a partner's failure classified."""
    flow = workflow(ctx.order["workflow"])
    now_in = flow.statuses.get(ctx.order["status"])
    if ctx.order["status"] != ctx.status and now_in is not None and now_in.stock == "release":
        return Skipped(f"the order went to {ctx.order['status']} before the action ran")
    try:
        return PERFORMERS[ctx.name](ctx)
    except Exception as error:  # noqa: BLE001 - recorded and retried, never lost with the message
        return _failure(error, ctx)


def _failure(error: Exception, ctx: Context) -> Outcome:
    """A partner's failure classified; anything unexpected retried like a 5xx (and so, after MAX_ATTEMPTS,
    in front of an operator instead of lost). Called while `error` is handled (its trace is logged)."""
    if isinstance(error, PartnerUnavailable):
        return Transient(str(error))
    if isinstance(error, PartnerRejected):
        return Permanent(str(error))
    logger.exception("action failed unexpectedly", extra={"order_id": ctx.order["order_id"], "action": ctx.name})
    return Transient(f"{type(error).__name__}: {error}")


def _record(ctx: Context, claimed: dict[str, Any], outcome: Outcome) -> int | None:
    """Write the outcome; the seconds to wait when the action is to be tried again."""
    attempts = claimed["attempts"]
    retried_after = claimed.get(RETRIED_AFTER)  # the attempts before an operator's retry, if there was one
    if isinstance(outcome, Transient) and attempts - (retried_after or 0) >= MAX_ATTEMPTS:
        outcome = Permanent(f"gave up after {attempts} attempts: {outcome.error}")
    record = {**claimed, "updated_at": ctx.now, "lease_until": None}
    wait = None
    attention = task = None
    if isinstance(outcome, Done):
        record |= {"status": "done", "result": outcome.result}
        event, note = "action_done", _summary(outcome.result)
    elif isinstance(outcome, Skipped):
        record |= {"status": "skipped", "result": {"skipped": outcome.reason}}
        event, note = "action_skipped", outcome.reason
    elif isinstance(outcome, Transient):
        wait = backoff_seconds(attempts, settings().actions_backoff_seconds)
        retry_at = utc_text(utc_moment(ctx.now) + timedelta(seconds=wait))
        record |= {"status": "retrying", "last_error": outcome.error[:NOTE_LIMIT], "retry_at": retry_at}
        if outcome.result is not None:
            record["result"] = outcome.result
        event, note = "action_retrying", f"{outcome.error[:NOTE_LIMIT]}; next attempt after {wait} s"
    else:
        record |= {"status": "failed", "last_error": outcome.error[:NOTE_LIMIT]}
        event, note = "action_failed", outcome.error[:NOTE_LIMIT]
        attention, task = ATTENTION, _task(ctx, outcome.error[:NOTE_LIMIT])
    entry = {
        "at": ctx.now,
        "status": ctx.order["status"],
        "event": event,
        "source": ACTOR,
        "note": f"{ctx.name} ({ctx.label}, attempt {attempts}): {note}",
    }
    # A skip asked no partner anything: it shows in the order's actions, not on its timeline.
    shown_entry = None if isinstance(outcome, Skipped) else entry
    # An operator's retry that went through settles the failure: its task closed, the attention cleared
    # unless another action of the order failed too.
    settled = retried_after is not None and isinstance(outcome, (Done, Skipped))
    others_failed = any(r["status"] == "failed" for k, r in records(ctx.order).items() if k != ctx.key)
    effects = order_actions.Effects(
        attention,
        task,
        settles=_task_id(ctx) if settled else None,
        clear_attention=settled and ctx.order.get("attention") == ATTENTION and not others_failed,
    )
    if not order_actions.finish(ctx.order["order_id"], ctx.key, record, shown_entry, effects):
        logger.warning("action claim lost before its outcome", extra={"order_id": ctx.order["order_id"]})
        return None
    count(f"Action_{event}")
    logger.info(
        "action attempted",
        extra={"order_id": ctx.order["order_id"], "action": ctx.name, "outcome": event, "attempt": attempts},
    )
    return wait


def _summary(result: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in result.items()) or "done"


def _task_id(ctx: Context) -> str:
    return f"action#{ctx.order['order_id']}#{ctx.key}"


def _task(ctx: Context, reason: str) -> dict[str, Any]:
    task_id = _task_id(ctx)
    return {
        "task_id": task_id,
        "kind": TASK_KIND,
        "state": "open",
        "order_id": ctx.order["order_id"],
        "channel": ctx.order["channel"],
        "action": ctx.name,
        "reason": reason,
        "created_at": ctx.now,
        "created_key": f"{ctx.now}#{task_id}",
    }
