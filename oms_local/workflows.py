"""`oms-hub workflows build|check`: workflows/*.yaml -> the catalog the functions read and the ASL.

One Standard state machine runs every workflow: its first state picks the workflow's graph from the
execution input, so a new workflow or status needs no template or Python change, and an order pays no
extra transition for sharing the machine (that first Choice existed already). JSONPath ASL only (moto
runs neither JSONata nor Assign).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "functions"))  # the functions' packages import as they do in Lambda

from orders.domain.workflow import (CATALOG, DEFAULT_WORKFLOW, INITIAL_STATUSES, Catalog, Status,  # noqa: E402
                                    Workflow, catalog_json, state_name)

SOURCES = ROOT / "workflows"
ASL_FILE = ROOT / "state_machines" / "order_lifecycle.asl.json"
STEP_FAILED = "LifecycleStepFailed"
START = "StartFromStatus"

DYNAMO_RETRY = [{"ErrorEquals": ["DynamoDb.ThrottlingException", "DynamoDb.ProvisionedThroughputExceededException",
                                 "DynamoDb.RequestLimitExceededException", "DynamoDb.InternalServerErrorException",
                                 "DynamoDb.TransactionConflictException"],
                 "IntervalSeconds": 1, "MaxAttempts": 4, "BackoffRate": 2, "JitterStrategy": "FULL"}]
LAMBDA_RETRY = [{"ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                                 "Lambda.TooManyRequestsException", "Lambda.Unknown", "StockContention"],
                 "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2, "JitterStrategy": "FULL"}]
EVENTS_RETRY = [{"ErrorEquals": ["EventBridge.InternalException", "EventBridge.ThrottlingException",
                                 "States.TaskFailed"],
                 "IntervalSeconds": 1, "MaxAttempts": 4, "BackoffRate": 2, "JitterStrategy": "FULL"}]
ORDER_KEY = {"pk": {"S.$": "States.Format('ORDER#{}', $.order_id)"}}
NOW = {"S.$": "$$.State.EnteredTime"}
TOKEN = {"S.$": "$$.Task.Token"}


def load_sources(directory: Path = SOURCES) -> list[Workflow]:
    """Every workflows/*.yaml, validated; the file name must be the workflow's name."""
    workflows = []
    for path in sorted(directory.glob("*.yaml")):
        workflow = Workflow.model_validate(yaml.safe_load(path.read_text()))
        if workflow.name != path.stem:
            raise ValueError(f"{path.name}: name {workflow.name!r} must match the file name")
        workflows.append(workflow)
    Catalog(workflows={w.name: w for w in workflows})  # one workflow per method and channel
    return workflows


# ------------------------------------------------------------------ state builders

def _caught(state: dict[str, Any], retry: list[dict[str, Any]], timeout_to: str | None = None) -> dict[str, Any]:
    catches = [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": timeout_to}] if timeout_to else []
    catches.append({"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": STEP_FAILED})
    return {**state, "Retry": retry, "Catch": catches}


def _update(expression: str, values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"TableName": "${OrdersTable}", "Key": ORDER_KEY, "UpdateExpression": expression,
            "ExpressionAttributeValues": values, "ConditionExpression": "attribute_exists(pk)", **extra}


def _status_update(status: str, *, wait: bool) -> dict[str, Any]:
    """Write the status, its list-index key and a timeline entry; while waiting, also the task token."""
    token = ", task_token = :token" if wait else ""
    removed = "pending_event, attention" if wait else "task_token, pending_event, attention"
    entry = {"M": {"at": NOW, "status": {"S": status}, "event": {"S.$": "$.event.event"},
                   "source": {"S.$": "$.event.source"}, "note": {"S.$": "$.event.note"}}}
    values = {":status": {"S": status}, ":channel_status": {"S.$": f"States.Format('{{}}#{status}', $.channel)"},
              ":now": NOW, **({":token": TOKEN} if wait else {}), ":entry": {"L": [entry]}}
    return _update(f"SET #status = :status, channel_status = :channel_status, updated_at = :now{token}, "
                   f"timeline = list_append(timeline, :entry) REMOVE {removed}", values,
                   ExpressionAttributeNames={"#status": "status"})


def _timeout(state: dict[str, Any], workflow: Workflow, name: str) -> dict[str, Any]:
    status = workflow.statuses[name]
    if status.deadline_from:
        return {**state, "TimeoutSecondsPath": f"$.deadlines.{name}"}
    return {**state, "TimeoutSeconds": status.timeout_seconds()}


def _lambda(action: str, workflow: Workflow, status: str, *, wait: bool) -> dict[str, Any]:
    payload = {"action": action, "workflow": workflow.name, "status": status, "order_id.$": "$.order_id",
               "event.$": "$.event", "channel.$": "$.channel", **({"task_token.$": "$$.Task.Token"} if wait else {})}
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke" + (".waitForTaskToken" if wait else ""),
            "Parameters": {"FunctionName": "${LifecycleTasksFunctionArn}", "Payload": payload}}


def _announce(workflow: Workflow, name: str, status: Status) -> dict[str, Any]:
    """On-entry actions go on the bus; the services that act on them (notifications, couriers, tasks) listen."""
    detail = {"order_id.$": "$.order_id", "channel.$": "$.channel", "workflow": workflow.name, "status": name,
              "actions": status.actions}
    state = {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
             "Parameters": {"Entries": [{"EventBusName": "${EventBusName}", "Source": "oms-hub.lifecycle",
                                         "DetailType": "OrderStatusEntered", "Detail": detail}]},
             "ResultPath": None, "Next": state_name(workflow.name, "", name)}
    return _caught(state, EVENTS_RETRY)


def _entering(workflow: Workflow, name: str) -> dict[str, dict[str, Any]]:
    """The states an event runs to enter `name`: announce (if it has actions), then the write (and wait)."""
    status, w = workflow.statuses[name], workflow.name
    states: dict[str, dict[str, Any]] = {}
    if status.actions:
        states[state_name(w, "Announce", name)] = _announce(workflow, name, status)
    enter = state_name(w, "", name)
    if status.stock == "reserve":
        reserve = {**_lambda("retry_reservation", workflow, name, wait=False),
                   "ResultSelector": {"status.$": "$.Payload.status"}, "ResultPath": "$.reservation",
                   "Next": state_name(w, "AfterReserving", name)}
        states[enter] = _caught(reserve, LAMBDA_RETRY)
        states[state_name(w, "AfterReserving", name)] = {
            "Type": "Choice", "Comment": "Still on hold while anything is missing.",
            "Choices": [{"Variable": "$.reservation.status", "StringEquals": name,
                         "Next": state_name(w, "Await", name)}],
            "Default": state_name(w, "Await", "on_hold")}
        return states
    if status.stock in ("consume", "release"):
        action = status.stock
        if status.terminal:
            state = {**_lambda(action, workflow, name, wait=False),
                     "ResultSelector": {"status.$": "$.Payload.status"}, "ResultPath": "$.result", "End": True}
            states[enter] = _caught(state, LAMBDA_RETRY)
        else:
            state = {**_lambda(action, workflow, name, wait=True), "ResultPath": "$.event",
                     "Next": state_name(w, "Route", name)}
            states[enter] = _caught(_timeout(state, workflow, name), LAMBDA_RETRY, state_name(w, "Timeout", name))
        return states
    if status.terminal:
        state = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem",
                 "Parameters": _status_update(name, wait=False), "ResultPath": None, "End": True}
        states[enter] = _caught(state, DYNAMO_RETRY)
    else:
        state = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken",
                 "Parameters": _status_update(name, wait=True), "ResultPath": "$.event",
                 "Next": state_name(w, "Route", name)}
        states[enter] = _caught(_timeout(state, workflow, name), DYNAMO_RETRY, state_name(w, "Timeout", name))
    return states


def _entry_of(workflow: Workflow, target: str) -> str:
    """The first state an event into `target` runs."""
    kind = "Announce" if workflow.statuses[target].actions else ""
    return state_name(workflow.name, kind, target)


def _waiting(workflow: Workflow, name: str) -> dict[str, dict[str, Any]]:
    """A waiting status: its router, its re-wait (no write), and what its deadline does."""
    status, w = workflow.statuses[name], workflow.name
    route = state_name(w, "Route", name)
    await_ = state_name(w, "Await", name)
    timeout = state_name(w, "Timeout", name)
    states: dict[str, dict[str, Any]] = {
        route: {"Type": "Choice",
                "Choices": [{"Variable": "$.event.event", "StringEquals": event, "Next": _entry_of(workflow, target)}
                            for event, target in status.events.items()],
                "Default": await_},
        await_: _caught(_timeout({"Type": "Task",
                                  "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken",
                                  "Parameters": _update("SET task_token = :token REMOVE pending_event",
                                                        {":token": TOKEN}),
                                  "ResultPath": "$.event", "Next": route}, workflow, name),
                        DYNAMO_RETRY, timeout),
    }
    if status.on_timeout == "flag":
        flag = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem",
                "Comment": "The KPI passed: show it to an operator and keep waiting for the next event.",
                "Parameters": _update("SET attention = :attention, updated_at = :now REMOVE task_token, pending_event",
                                      {":attention": {"S": status.attention}, ":now": NOW}),
                "ResultPath": None, "Next": await_}
        states[timeout] = _caught(flag, DYNAMO_RETRY)
    else:
        states[timeout] = {"Type": "Pass", "Comment": f"The KPI of {name} passed: the deadline sends {status.on_timeout}.",
                           "Result": {"event": status.on_timeout, "source": "deadline",
                                      "note": f"the {name} deadline passed"},
                           "ResultPath": "$.event", "Next": _entry_of(workflow, status.events[status.on_timeout])}
    return states


def _recovery(workflow: Workflow) -> dict[str, dict[str, Any]]:
    """A step that failed after its retries waits for an operator's `retry` (run it again) or `cancel`."""
    w = workflow.name
    failed, route, clear, again = (state_name(w, k) for k in ("StepFailed", "RouteRecovery", "ClearAttention",
                                                               "RetryFailedStep"))
    choices = [{"Variable": "$.recovery.event", "StringEquals": "retry", "Next": clear}]
    states: dict[str, dict[str, Any]] = {}
    if "cancel" in workflow.events():
        choices.append({"Variable": "$.recovery.event", "StringEquals": "cancel",
                        "Next": state_name(w, "RecoveryCancel")})
        states[state_name(w, "RecoveryCancel")] = {
            "Type": "Pass", "Comment": "The operator's cancel becomes the event the cancel step records.",
            "InputPath": "$.recovery", "ResultPath": "$.event", "Next": _entry_of(workflow, workflow.event_target("cancel"))}
    states[failed] = {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken",
        "Comment": "A step failed after its retries: show it on the order and wait for an operator.",
        "Parameters": _update("SET attention = :attention, last_error = :error, updated_at = :now, task_token = :token "
                              "REMOVE pending_event",
                              {":attention": {"S": "lifecycle_failed"}, ":error": {"S.$": "$.error.Error"},
                               ":now": NOW, ":token": TOKEN}),
        "Retry": DYNAMO_RETRY, "ResultPath": "$.recovery", "TimeoutSeconds": 2592000,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "LifecycleFailed"}],
        "Next": route}
    states[route] = {"Type": "Choice", "Choices": choices, "Default": failed}
    states[clear] = {**_caught({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem",
                                "Parameters": _update("SET updated_at = :now REMOVE attention, last_error, pending_event",
                                                      {":now": NOW}),
                                "ResultPath": None, "Next": again}, DYNAMO_RETRY)}
    states[clear]["Catch"][-1]["Next"] = failed
    states[again] = {
        "Type": "Choice", "Comment": "Run again the step the last accepted event led to (every step is idempotent).",
        "Choices": [{"Not": {"Variable": "$.event", "IsPresent": True}, "Next": START},
                    *({"Variable": "$.event.event", "StringEquals": event,
                       "Next": _entry_of(workflow, workflow.event_target(event))} for event in workflow.events())],
        "Default": START}
    return states


def _graph(workflow: Workflow) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}
    for name, status in workflow.statuses.items():
        if name not in INITIAL_STATUSES or status.stock:
            states.update(_entering(workflow, name))
        if not status.terminal:
            states.update(_waiting(workflow, name))
    states.update(_recovery(workflow))
    # A failure inside this workflow's graph is recorded by its own recovery states.
    failed = state_name(workflow.name, "StepFailed")
    for state in states.values():
        for catch in state.get("Catch", []):
            if catch["Next"] == STEP_FAILED:
                catch["Next"] = failed
    return states


def _start(workflows: list[Workflow]) -> dict[str, Any]:
    """Executions of the default workflow carry no `workflow` in their input (the contract's input)."""
    choices = []
    for workflow in workflows:
        which = ({"Not": {"Variable": "$.workflow", "IsPresent": True}} if workflow.name == DEFAULT_WORKFLOW
                 else {"Variable": "$.workflow", "StringEquals": workflow.name})
        choices.extend({"And": [which, {"Variable": "$.status", "StringEquals": status}],
                        "Next": state_name(workflow.name, "Await", status)} for status in INITIAL_STATUSES)
    return {"Type": "Choice", "Comment": "Intake wrote the first status (reserved or on_hold) with the reservations.",
            "Choices": choices, "Default": "UnknownWorkflow"}


def build_asl(workflows: list[Workflow]) -> dict[str, Any]:
    states: dict[str, Any] = {START: _start(workflows)}
    for workflow in workflows:
        states.update(_graph(workflow))
    states["UnknownWorkflow"] = {"Type": "Fail", "Error": "UnknownWorkflow",
                                 "Cause": "the execution input names no workflow of this state machine"}
    states["LifecycleFailed"] = {"Type": "Fail", "Error": "LifecycleStepFailed",
                                 "Cause": "a lifecycle step failed and the failure could not be recorded on the order"}
    return {"Comment": "Generated by `oms-hub workflows build` from workflows/*.yaml: edit those, not this file. "
                       "One graph per workflow; the first state picks it from the execution input.",
            "StartAt": START, "States": states}


def rendered(directory: Path = SOURCES) -> dict[Path, str]:
    """What the build writes: path -> text."""
    workflows = load_sources(directory)
    return {CATALOG: catalog_json(workflows), ASL_FILE: json.dumps(build_asl(workflows), indent=2) + "\n"}


def build() -> list[Path]:
    written = []
    for path, text in rendered().items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


def stale() -> list[Path]:
    return [path for path, text in rendered().items() if not path.exists() or path.read_text() != text]
