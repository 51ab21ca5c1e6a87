"""One run of the SLA monitor (docs/sla.md): every order due for a look, workflow by workflow.

For each order the run claims (sla_checks.claim), it records the stays the order completed since its last look,
closes the SLA tasks of the entries it left and moves its due-list entry; then fires the current entry's due
tiers once each (a task for the role, a notification, the metrics and KPI counters) and runs the lifecycle
checks (a start Step Functions refused is made again; an execution that died leaves the order for attention);
last it writes the plan and the next look. An order that fails stays due and does not stop the run.
"""

from __future__ import annotations

import contextvars
import math
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from common.clock import utc_moment, utc_text
from common.errors import LifecycleUnavailable
from common.observability import count, count_per, logger
from orders.adapters import lifecycle_engine, task_table
from orders.adapters.workflow_catalog import catalog
from orders.domain.records import execution_input
from orders.domain.workflow import Workflow
from sla_monitor.adapters import sla_checks, sla_table
from sla_monitor.domain.kpis import Stay
from sla_monitor.domain.messages import SlaMessage, TierKind
from sla_monitor.domain.plan import (
    Check,
    EntryPlan,
    completed_stays,
    fulfilling_location,
    lost_task_id,
    of_entry,
    plan_entry,
    risk_facts,
    sla_task_id,
    told_at,
)
from sla_monitor.use_cases.notify import notify_role

# Longer than a run may last (the function's timeout): a run that died leaves its orders due again after it.
LEASE = timedelta(minutes=5)
# A run stops claiming orders this long before the function's timeout: a look takes well under a second.
TIME_RESERVE_SECONDS = 10.0
# Orders looked at at once in a run (threads of the one function, within common.aws's connection pool).
LOOKERS = 10
LIFECYCLE_LOST = "lifecycle_lost"
TIER_METRICS = {"warn": "SlaWarned", "escalate": "SlaEscalated", "breach": "SlaBreached"}
# The statuses the marketplace risk facts are read from (the marketplace workflow's own names).
SHIPPED, CANCELLED = "shipped", "cancelled"


def run(now: datetime, seconds_left: Callable[[], float] = lambda: math.inf) -> dict[str, int]:
    """Look at every order due by `now` (the scheduled time), the longest due first over every workflow, while
    `seconds_left` (the function's remaining time) allows; the counts of what happened. LOOKERS orders are
    looked at at once: a look waits on DynamoDB, SES and a webhook far more than it computes, and the claims
    keep two looks (of this run or an overlapping one) off the same order."""
    text = utc_text(now)
    workflows = catalog().workflows
    due = [pk for _, pk in sorted(key for lane in workflows for key in sla_checks.due_keys(lane, text))]

    def look(order: dict[str, Any]) -> str:
        if seconds_left() < TIME_RESERVE_SECONDS:
            return "deferred"  # unclaimed, it stays due: the next run (or one overlapping this) looks first
        try:
            return _watch(order, workflows[order["sla_lane"]], now)
        except Exception:  # noqa: BLE001 - one order's failure must not stop the others; it stays due
            logger.exception("sla look failed", extra={"order_id": order["order_id"], "status": order["status"]})
            return "failed"

    with ThreadPoolExecutor(LOOKERS, thread_name_prefix="sla-look") as looking:
        # Each look in a copy of the run's context (the logger's and the runtime's context variables).
        looks = [
            looking.submit(contextvars.copy_context().run, look, order) for order in sla_checks.due_orders(due, text)
        ]
        outcome = Counter(done.result() for done in looks)
    if outcome["deferred"]:
        count("SlaLooksDeferred", outcome["deferred"])
    logger.info("sla run", extra={"now": text, **outcome})
    return dict(outcome)


@dataclass
class _Look:
    """One look at one order: what it was when read, its current entry's plan, what the look did."""

    order: dict[str, Any]
    flow: Workflow
    plan: EntryPlan
    now: datetime

    def __post_init__(self) -> None:
        self.done: set[str] = set(self.order.get("sla_fired", []))
        self.unsent: set[str] = of_entry(self.order.get("sla_unsent", []), self.plan.entered_at)
        self.sent: set[str] = set()

    @property
    def order_id(self) -> str:
        return str(self.order["order_id"])

    @property
    def at(self) -> str:
        return utc_text(self.now)


def _watch(order: dict[str, Any], flow: Workflow, now: datetime) -> str:
    lease = utc_text(now + LEASE)
    if not sla_checks.claim(order["order_id"], order["sla_next_at"], lease):
        return "taken"  # another run has it, or the order moved on and is due again
    try:
        return _look(order, flow, now, lease)
    except Exception:
        sla_checks.release(order["order_id"], lease, order["sla_next_at"])  # due again at the next run
        raise


def _look(order: dict[str, Any], flow: Workflow, now: datetime, lease: str) -> str:
    status = flow.statuses[order["status"]]
    location = fulfilling_location(order)
    sla = flow.sla_for(order["status"], order["channel"], location)
    hard = None if status.on_timeout == "flag" else status.timeout_seconds()
    look = _Look(order, flow, plan_entry(order, sla, hard), now)
    seen = order.get("sla") or {}
    closed = _leave_earlier_entries(look, seen)
    _move_due_entry(look, seen)
    # Owed by earlier looks first (a later tier of the same role then updates its task last); a tier this look
    # fires and fails to tell waits for the next run.
    for mark in sorted(look.unsent):
        _retry(look, mark)
    for check in look.plan.due(look.done, now):
        _tier(look, check) if check.tier else _lifecycle(look, check)
    unsent = bool(look.unsent - look.sent)
    next_at = look.plan.next_at(look.done, now, unsent=unsent)
    stale_unsent = set(order.get("sla_unsent", [])) - look.unsent
    settled = sla_checks.settle(
        look.order_id,
        lease,
        look.plan.record(),
        utc_text(next_at) if next_at else None,
        leave_index=status.terminal,
        forget={"sla_tasks": closed, "sla_unsent": look.sent | stale_unsent},
    )
    return "planned" if settled else "moved"


def _leave_earlier_entries(look: _Look, seen: dict[str, Any]) -> set[str]:
    """The first look at a new entry: the stays that ended and the risk facts since the last look, and the
    tasks of earlier entries closed (the order has moved on); the tasks closed."""
    entered_at = look.plan.entered_at
    if seen.get("entered_at") == entered_at:
        return set()
    order = look.order
    last_seen = seen.get("entered_at")
    for entry, left_at in completed_stays(order["timeline"], last_seen):
        where = seen.get("location_id") if entry.at == last_seen else look.plan.location_id
        sla_table.record_stay(
            Stay(
                order["workflow"],
                entry.status,
                order["channel"],
                where,
                utc_moment(entry.at),
                utc_moment(left_at),
            )
        )
    if order.get("ship_by"):  # marketplace orders: their channel's risk
        for day, fact in risk_facts(order["timeline"], last_seen, order.get("ship_by"), SHIPPED, CANCELLED):
            sla_table.record_risk(order["channel"], day, fact)
    earlier = set(order.get("sla_tasks", [])) - of_entry(order.get("sla_tasks", []), entered_at)
    for task_id in sorted(earlier):
        task_table.close(task_id, look.at)
    return earlier


def _move_due_entry(look: _Look, seen: dict[str, Any]) -> None:
    """The due list holds the order under its current entry's deadline only."""
    plan = look.plan
    was = (seen.get("status"), seen.get("due_at"))
    if was == (plan.status, plan.due_at) and seen.get("entered_at") == plan.entered_at:
        return
    if was[0] and was[1]:
        sla_table.remove_due(was[0], was[1], look.order_id)
    if plan.due_at:
        sla_table.put_due(plan.status, plan.due_at, look.order_id, look.order["channel"], look.order["workflow"])


def _tier(look: _Look, check: Check) -> None:
    """Fire the tier once (the conditional write decides among overlapping runs), then tell its role."""
    plan, order = look.plan, look.order
    mark = f"{plan.entered_at}#{check.name}"
    task_id = sla_task_id(look.order_id, plan.entered_at, check.role)
    fired = sla_checks.fire(look.order_id, plan.entered_at, check.name, task_id=task_id, unsent=mark)
    look.done.add(check.name)  # by this run, or by one that overlapped it
    if not fired:
        return
    look.unsent.add(mark)
    metric = TIER_METRICS[check.kind]
    count(metric)  # service-wide: what the alarm watches
    count_per(metric, {"status": plan.status, "channel": order["channel"]})
    sla_table.record_tier(
        order["workflow"], plan.status, order["channel"], plan.location_id, look.now.date(), check.name
    )
    if _tell(look, check, task_id):
        look.sent.add(mark)


def _retry(look: _Look, mark: str) -> None:
    """A tier whose notification failed at an earlier look (or whose look died before it was sent)."""
    check = look.plan.check(mark.rpartition("#")[2])
    if check is None:
        look.sent.add(mark)  # not a tier of this entry's plan any more: nothing to tell
        return
    if _tell(look, check, sla_task_id(look.order_id, look.plan.entered_at, check.role)):
        look.sent.add(mark)


def _tell(look: _Look, check: Check, task_id: str) -> bool:
    """Notify the tier's role, and open or update its task (with whether the notification went out)."""
    plan, order = look.plan, look.order
    location = told_at(check.role, plan.location_id)
    due_at = plan.due_at or plan.entered_at
    overdue = int((look.now - utc_moment(due_at)).total_seconds())
    kind = cast(TierKind, check.kind)
    message = SlaMessage(kind, look.order_id, plan.status, order["channel"], location, check.role, due_at, overdue)
    notified = notify_role(check.role, location, message)
    fields: dict[str, Any] = {
        "order_id": look.order_id,
        "channel": order["channel"],
        "status": plan.status,
        "role": check.role,
        "tier": check.name,
        "due_at": due_at,
        "notified": notified,
    }
    if location is not None:
        fields["location_id"] = location
    task_table.keep_open(task_id, "sla", fields, look.at)
    logger.info(
        "sla tier",
        extra={
            "order_id": look.order_id,
            "status": plan.status,
            "tier": check.name,
            "role": check.role,
            "notified": notified,
        },
    )
    return notified


def _lifecycle(look: _Look, check: Check) -> None:
    """`start`: an order with no task token 2 minutes after intake may have no execution (Step Functions refused
    the start after the order was written): start it with intake's input. `alive`: an order still in a status
    past its hard deadline has an execution that died. Either way an execution that is not running leaves the
    order for an operator (attention `lifecycle_lost` and a task)."""
    order, flow, plan = look.order, look.flow, look.plan
    if check.name == "start" and order.get("task_token"):
        _mark(look, check)
        return
    state = lifecycle_engine.execution_status(flow.name, look.order_id)
    if state == "RUNNING":
        _mark(look, check)
    elif state is None and check.name == "start":
        try:
            lifecycle_engine.start(flow.name, look.order_id, execution_input(order, flow))
        except LifecycleUnavailable:
            logger.warning("lost lifecycle not restarted yet", extra={"order_id": look.order_id})
            return  # not done: the next run tries again
        count("LifecycleRestarted")
        logger.info("lost lifecycle started", extra={"order_id": look.order_id, "status": plan.status})
        _mark(look, check)
    else:
        task_id = lost_task_id(look.order_id, plan.entered_at)
        look.done.add(check.name)
        if sla_checks.fire(look.order_id, plan.entered_at, check.name, task_id=task_id, attention=LIFECYCLE_LOST):
            fields = {
                "order_id": look.order_id,
                "channel": order["channel"],
                "status": plan.status,
                "role": check.role,
                "reason": f"its lifecycle execution is {state or 'missing'} while the order waits in {plan.status}",
            }
            task_table.keep_open(task_id, LIFECYCLE_LOST, fields, look.at)
            count("LifecycleLost")
            logger.warning("lifecycle lost", extra={"order_id": look.order_id, "execution": state})


def _mark(look: _Look, check: Check) -> None:
    sla_checks.fire(look.order_id, look.plan.entered_at, check.name)
    look.done.add(check.name)
