"""Open orders' lifecycles after `oms-hub local --state-dir` restarts.

A Step Functions execution and its task token live only in the process that ran them; the orders table
(restored from the state dir) still says where each order stands. So every order whose status is not
terminal gets a fresh execution of its workflow's machine that goes straight to that status's wait
(`Await<Status>`: the re-wait that writes a new task token and nothing else) and carries on from there
as the original would have: the next event routes exactly as before.

The generated ASL only starts at the statuses intake writes (StartFromStatus, which routes on the
input's `status`). Local machines created with a state dir get one more choice there: `status` =
"resume-after-restart" goes to a `ResumeAt` choice routing on `resume_at`. Intake never sends that
value, so its executions run the generated states unchanged, with the same transitions. (The check is
on `status`, which every input has: a test for a missing `resume_at` makes moto log an error on every
order.) Real AWS never needs this: its executions outlive any process.

An order whose step failed (attention `lifecycle_failed`) resumes in LifecycleStepFailed, still waiting
for an operator's `retry` or `cancel`; `retry` then goes back to waiting in its status (the failed step's
event is not on the order, so it is not run again by itself). An order caught applying an event
(`pending_event`) when the snapshot was taken resumes waiting in its status and gets that event again.
"""

from __future__ import annotations

import copy
from typing import Any

from common.clock import current
from oms_build.workflows import START, STEP_FAILED, state_name

RESUME = "ResumeAt"
MARKER = "resume-after-restart"  # not a status name: those are snake_case
FAILED_PREFIX = "failed:"
LIFECYCLE_FAILED = "lifecycle_failed"  # the attention LifecycleStepFailed writes
RESUMED_SOURCE = "local-restart"


def waiting_statuses(workflow: Any) -> list[str]:
    return [name for name, status in workflow.statuses.items() if not status.terminal]


def resumable(definition: dict[str, Any], workflow: Any) -> dict[str, Any]:
    """`definition` with the ResumeAt entry: `$.resume_at` = status -> its Await state; `failed:<status>`
    -> LifecycleStepFailed, remembering the status for the operator's retry."""
    if MARKER in workflow.statuses:
        raise ValueError(f"{workflow.name}: a status may not be named {MARKER!r}")
    parsed = copy.deepcopy(definition)
    states = parsed["States"]
    choices = []
    for status in waiting_statuses(workflow):
        await_ = state_name("Await", status)
        if await_ not in states:
            raise ValueError(f"{workflow.name}: no {await_} state to resume {status} at")
        remember = state_name("ResumeFailed", status)
        choices += [
            {"Variable": "$.resume_at", "StringEquals": status, "Next": await_},
            {"Variable": "$.resume_at", "StringEquals": FAILED_PREFIX + status, "Next": remember},
        ]
        # After the operator's retry, RetryFailedStep goes back to StartFromStatus: resume_at then names
        # the status itself, so the order waits there again.
        states[remember] = {"Type": "Pass", "Result": status, "ResultPath": "$.resume_at", "Next": STEP_FAILED}
    states[RESUME] = {
        "Type": "Choice",
        "Comment": "oms-hub local only: a restarted hub resumes an open order.",
        "Choices": choices,
        "Default": "LifecycleFailed",
    }
    start = states[START]
    start["Choices"] = [{"Variable": "$.status", "StringEquals": MARKER, "Next": RESUME}, *start["Choices"]]
    return parsed


def resume_input(order: dict[str, Any], workflow: Any, execution_input: dict[str, Any]) -> dict[str, Any]:
    """The input of an open order's fresh execution. Its ship-by deadlines count from now to ship_by."""
    resumed = {**execution_input, "status": MARKER, "resume_at": order["status"]}
    now = current().isoformat()  # the hub clock's: ship_by is a hub time too
    deadlines = workflow.deadlines(order.get("ship_by"), now)
    if deadlines:
        resumed["deadlines"] = deadlines
    if order.get("attention") == LIFECYCLE_FAILED:
        resumed["resume_at"] = FAILED_PREFIX + order["status"]
        resumed["error"] = {
            "Error": order.get("last_error") or "LifecycleStepFailed",
            "Cause": "the step failed before the local hub restarted",
        }
    return resumed


def open_orders(items: list[dict[str, Any]], workflows: dict[str, Any]) -> list[dict[str, Any]]:
    """Orders (plain dicts) whose status is not terminal in their workflow."""
    out = []
    for item in items:
        flow = workflows.get(item.get("workflow", ""))
        if item.get("entity") != "order" or flow is None:
            continue
        status = flow.statuses.get(item.get("status", ""))
        if status is not None and not status.terminal:
            out.append(item)
    return out
