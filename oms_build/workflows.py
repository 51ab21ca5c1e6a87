"""workflows/*.yaml -> the functions' catalog, one state machine per workflow
(state_machines/lifecycle_<name>.asl.json) and their block in template.yaml.

One machine per workflow keeps each definition small (moto parses the whole definition at every
execution start: 0.4 s for one workflow, 3.9 s for all seven in one) and costs an order no extra
transition. A new workflow or status is YAML plus this build: no Python, no hand edit of the template.
JSONPath ASL only (moto runs neither JSONata nor Assign).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from oms_build import ROOT
from oms_build.blocks import TEMPLATE, Block, stale_files
from orders.adapters.workflow_catalog import CATALOG
from orders.domain.workflow import (
    DEFAULT_WORKFLOW,
    Catalog,
    Status,
    Workflow,
    catalog_json,
)

SOURCES = ROOT / "workflows"
MACHINES = ROOT / "state_machines"
STEP_FAILED = "LifecycleStepFailed"
START = "StartFromStatus"
BLOCK = Block("workflows", "workflows/*.yaml")


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[_\W]+", name) if part)


def state_name(kind: str, status: str = "") -> str:
    """`Confirmed`, `AwaitPacked`, `RouteOnHold`: the state of one step of a status."""
    return f"{kind}{_pascal(status)}"


def asl_path(workflow: str) -> Path:
    return MACHINES / f"lifecycle_{workflow}.asl.json"


def definition_uri(workflow: str) -> str:
    """As template.yaml names it, relative to the repository."""
    return f"state_machines/lifecycle_{workflow}.asl.json"


def logical_id(workflow: str) -> str:
    """The default workflow keeps the foundation's OrderLifecycle."""
    return "OrderLifecycle" if workflow == DEFAULT_WORKFLOW else f"{_pascal(workflow)}Lifecycle"


DYNAMO_RETRY = [
    {
        "ErrorEquals": [
            "DynamoDb.ThrottlingException",
            "DynamoDb.ProvisionedThroughputExceededException",
            "DynamoDb.RequestLimitExceededException",
            "DynamoDb.InternalServerErrorException",
            "DynamoDb.TransactionConflictException",
        ],
        "IntervalSeconds": 1,
        "MaxAttempts": 4,
        "BackoffRate": 2,
        "JitterStrategy": "FULL",
    }
]
LAMBDA_RETRY = [
    {
        "ErrorEquals": [
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
            "Lambda.Unknown",
            "StockContention",
            "AcquirerUnavailable",
        ],
        "IntervalSeconds": 1,
        "MaxAttempts": 5,
        "BackoffRate": 2,
        "JitterStrategy": "FULL",
    }
]
EVENTS_RETRY = [
    {
        "ErrorEquals": ["EventBridge.InternalException", "EventBridge.ThrottlingException", "States.TaskFailed"],
        "IntervalSeconds": 1,
        "MaxAttempts": 4,
        "BackoffRate": 2,
        "JitterStrategy": "FULL",
    }
]
ORDER_KEY = {"pk": {"S.$": "States.Format('ORDER#{}', $.order_id)"}}
NOW = {"S.$": "$$.State.EnteredTime"}
TOKEN = {"S.$": "$$.Task.Token"}


def load_sources(directory: Path = SOURCES) -> list[Workflow]:
    """Every workflows/*.yaml, validated, the default first; the file name must be the workflow's name."""
    workflows = []
    for path in sorted(directory.glob("*.yaml"), key=lambda p: (p.stem != DEFAULT_WORKFLOW, p.stem)):
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
    return {
        "TableName": "${OrdersTable}",
        "Key": ORDER_KEY,
        "UpdateExpression": expression,
        "ExpressionAttributeValues": values,
        "ConditionExpression": "attribute_exists(pk)",
        **extra,
    }


def _status_update(workflow: Workflow, status: str, *, wait: bool) -> dict[str, Any]:
    """Write the status, its list-index key and a timeline entry; while waiting, also the task token. As every
    status entry (orders.domain.records.status_fields): the entry's time, due now on the SLA monitor's index,
    and none of the previous entry's fired tiers."""
    token = ", task_token = :token" if wait else ""
    removed = "pending_event, attention, sla_fired" if wait else "task_token, pending_event, attention, sla_fired"
    entry = {
        "M": {
            "at": NOW,
            "status": {"S": status},
            "event": {"S.$": "$.event.event"},
            "source": {"S.$": "$.event.source"},
            "note": {"S.$": "$.event.note"},
        }
    }
    values = {
        ":status": {"S": status},
        ":channel_status": {"S.$": f"States.Format('{{}}#{status}', $.channel)"},
        ":now": NOW,
        ":lane": {"S": workflow.name},
        **({":token": TOKEN} if wait else {}),
        ":entry": {"L": [entry]},
    }
    return _update(
        f"SET #status = :status, channel_status = :channel_status, updated_at = :now{token}, "
        "status_since = :now, sla_lane = :lane, sla_next_at = :now, "
        f"timeline = list_append(timeline, :entry) REMOVE {removed}",
        values,
        ExpressionAttributeNames={"#status": "status"},
    )


def _timeout(state: dict[str, Any], workflow: Workflow, name: str) -> dict[str, Any]:
    status = workflow.statuses[name]
    if status.deadline_from:
        return {**state, "TimeoutSecondsPath": f"$.deadlines.{name}"}
    return {**state, "TimeoutSeconds": status.timeout_seconds()}


def _lambda(action: str, workflow: Workflow, status: str, *, wait: bool) -> dict[str, Any]:
    payload = {
        "action": action,
        "workflow": workflow.name,
        "status": status,
        "order_id.$": "$.order_id",
        "event.$": "$.event",
        "channel.$": "$.channel",
        **({"task_token.$": "$$.Task.Token"} if wait else {}),
    }
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke" + (".waitForTaskToken" if wait else ""),
        "Parameters": {"FunctionName": "${LifecycleTasksFunctionArn}", "Payload": payload},
    }


def _announce(workflow: Workflow, name: str, status: Status, then: str | None = None) -> dict[str, Any]:
    """On-entry actions go on the bus; the services that act on them (notifications, couriers, tasks) listen.
    `then`: the state after it (the status's write, unless intake wrote the status already)."""
    detail = {
        "order_id.$": "$.order_id",
        "channel.$": "$.channel",
        "workflow": workflow.name,
        "status": name,
        "actions": status.actions,
    }
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::events:putEvents",
        "Parameters": {
            "Entries": [
                {
                    "EventBusName": "${EventBusName}",
                    "Source": "oms-hub.lifecycle",
                    "DetailType": "OrderStatusEntered",
                    "Detail": detail,
                }
            ]
        },
        "ResultPath": None,
        "Next": then or state_name("", name),
    }
    return _caught(state, EVENTS_RETRY)


def _entering(workflow: Workflow, name: str) -> dict[str, dict[str, Any]]:
    """The states an event runs to enter `name`: announce (if it has actions), then the write (and wait)."""
    status = workflow.statuses[name]
    states: dict[str, dict[str, Any]] = {}
    if _announced_on_entry(status):
        states[state_name("Announce", name)] = _announce(workflow, name, status)
    enter = state_name("", name)
    if status.stock == "reserve":
        reserve = {
            **_lambda("retry_reservation", workflow, name, wait=False),
            "ResultSelector": {"status.$": "$.Payload.status"},
            "ResultPath": "$.reservation",
            "Next": state_name("AfterReserving", name),
        }
        states[enter] = _caught(reserve, LAMBDA_RETRY)
        states[state_name("AfterReserving", name)] = {
            "Type": "Choice",
            "Comment": "Still on hold while anything is missing.",
            "Choices": [{"Variable": "$.reservation.status", "StringEquals": name, "Next": state_name("Await", name)}],
            "Default": state_name("Await", "on_hold"),
        }
        return states
    action = status.stock or status.payment
    if action is not None and (status.stock in ("consume", "release") or status.payment):
        if status.terminal:
            state = {
                **_lambda(action, workflow, name, wait=False),
                "ResultSelector": {"status.$": "$.Payload.status"},
                "ResultPath": "$.result",
                "End": True,
            }
            states[enter] = _caught(state, LAMBDA_RETRY)
        else:
            state = {
                **_lambda(action, workflow, name, wait=True),
                "ResultPath": "$.event",
                "Next": state_name("Route", name),
            }
            states[enter] = _caught(_timeout(state, workflow, name), LAMBDA_RETRY, state_name("Timeout", name))
        return states
    if status.terminal:
        state = {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem",
            "Parameters": _status_update(workflow, name, wait=False),
            "ResultPath": None,
            "End": True,
        }
        states[enter] = _caught(state, DYNAMO_RETRY)
    else:
        state = {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken",
            "Parameters": _status_update(workflow, name, wait=True),
            "ResultPath": "$.event",
            "Next": state_name("Route", name),
        }
        states[enter] = _caught(_timeout(state, workflow, name), DYNAMO_RETRY, state_name("Timeout", name))
    return states


def _announced_on_entry(status: Status) -> bool:
    """Whether an event into the status announces its actions. A reserving status's are announced only when
    intake writes it: entered from on_hold it may stay on_hold, and on_hold's actions ran at intake."""
    return bool(status.actions) and status.stock != "reserve"


def _entry_of(workflow: Workflow, target: str) -> str:
    """The first state an event into `target` runs."""
    kind = "Announce" if _announced_on_entry(workflow.statuses[target]) else ""
    return state_name(kind, target)


def _waiting(workflow: Workflow, name: str) -> dict[str, dict[str, Any]]:
    """A waiting status: its router, its re-wait (no write), and what its deadline does."""
    status = workflow.statuses[name]
    route = state_name("Route", name)
    await_ = state_name("Await", name)
    timeout = state_name("Timeout", name)
    next_event = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken",
        "Parameters": _update("SET task_token = :token REMOVE pending_event", {":token": TOKEN}),
        "ResultPath": "$.event",
        "Next": route,
    }
    states: dict[str, dict[str, Any]] = {
        route: {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.event.event", "StringEquals": event, "Next": _entry_of(workflow, target)}
                for event, target in status.events.items()
            ],
            "Default": await_,
        },
        await_: _caught(_timeout(next_event, workflow, name), DYNAMO_RETRY, timeout),
    }
    if status.on_timeout == "flag":
        flagged = state_name("AwaitFlagged", name)
        # Once flagged, the next event is awaited with no deadline: the same deadline again would flag again,
        # and one already past when the order came (a ship-by before intake: 1 s) every second, each time a
        # paid transition and a write. The SLA monitor keeps watching the order.
        states[flagged] = _caught(next_event, DYNAMO_RETRY)
        flag = {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem",
            "Comment": "The KPI passed: show it to an operator and keep waiting for the next event.",
            "Parameters": _update(
                "SET attention = :attention, updated_at = :now REMOVE task_token, pending_event",
                {":attention": {"S": status.attention}, ":now": NOW},
            ),
            "ResultPath": None,
            "Next": flagged,
        }
        states[timeout] = _caught(flag, DYNAMO_RETRY)
    else:
        states[timeout] = {
            "Type": "Pass",
            "Comment": f"The KPI of {name} passed: the deadline sends {status.on_timeout}.",
            "Result": {"event": status.on_timeout, "source": "deadline", "note": f"the {name} deadline passed"},
            "ResultPath": "$.event",
            "Next": _entry_of(workflow, status.events[status.on_timeout]),
        }
    return states


def _recovery(workflow: Workflow) -> dict[str, dict[str, Any]]:
    """A step that failed after its retries waits for an operator's `retry` (run it again) or `cancel`."""
    failed, route, clear, again = STEP_FAILED, "RouteRecovery", "ClearAttention", "RetryFailedStep"
    choices = [{"Variable": "$.recovery.event", "StringEquals": "retry", "Next": clear}]
    states: dict[str, dict[str, Any]] = {}
    if "cancel" in workflow.events():
        choices.append({"Variable": "$.recovery.event", "StringEquals": "cancel", "Next": "RecoveryCancel"})
        states["RecoveryCancel"] = {
            "Type": "Pass",
            "Comment": "The operator's cancel becomes the event the cancel step records.",
            "InputPath": "$.recovery",
            "ResultPath": "$.event",
            "Next": _entry_of(workflow, workflow.event_target("cancel")),
        }
    states[failed] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken",
        "Comment": "A step failed after its retries: show it on the order and wait for an operator.",
        "Parameters": _update(
            "SET attention = :attention, last_error = :error, updated_at = :now, task_token = :token "
            "REMOVE pending_event",
            {":attention": {"S": "lifecycle_failed"}, ":error": {"S.$": "$.error.Error"}, ":now": NOW, ":token": TOKEN},
        ),
        "Retry": DYNAMO_RETRY,
        "ResultPath": "$.recovery",
        "TimeoutSeconds": 2592000,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "LifecycleFailed"}],
        "Next": route,
    }
    states[route] = {"Type": "Choice", "Choices": choices, "Default": failed}
    states[clear] = {
        **_caught(
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem",
                "Parameters": _update(
                    "SET updated_at = :now REMOVE attention, last_error, pending_event", {":now": NOW}
                ),
                "ResultPath": None,
                "Next": again,
            },
            DYNAMO_RETRY,
        )
    }
    states[clear]["Catch"][-1]["Next"] = failed
    states[again] = {
        "Type": "Choice",
        "Comment": "Run again the step the last accepted event led to (every step is idempotent).",
        "Choices": [
            {"Not": {"Variable": "$.event", "IsPresent": True}, "Next": START},
            *(
                {
                    "Variable": "$.event.event",
                    "StringEquals": event,
                    "Next": _entry_of(workflow, workflow.event_target(event)),
                }
                for event in workflow.events()
            ),
        ],
        "Default": START,
    }
    return states


def _graph(workflow: Workflow) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}
    for name, status in workflow.statuses.items():
        if name not in workflow.start_statuses() or status.stock:
            states.update(_entering(workflow, name))
        if not status.terminal:
            states.update(_waiting(workflow, name))
    states.update(_recovery(workflow))
    return states


def _started(workflow: Workflow) -> dict[str, dict[str, Any]]:
    """The first state of each status intake may write: its actions announced (intake wrote the status
    already), then its wait."""
    return {
        state_name("AnnounceStart", name): _announce(workflow, name, status, then=state_name("Await", name))
        for name in workflow.start_statuses()
        if (status := workflow.statuses[name]).actions
    }


def build_asl(workflow: Workflow) -> dict[str, Any]:
    started = _started(workflow)

    def first(status: str) -> str:
        announce = state_name("AnnounceStart", status)
        return announce if announce in started else state_name("Await", status)

    start = {
        "Type": "Choice",
        "Comment": "Intake wrote the first status with the reservations.",
        "Choices": [
            {"Variable": "$.status", "StringEquals": status, "Next": first(status)}
            for status in workflow.start_statuses()
            if status != "reserved"
        ],
        "Default": first("reserved"),
    }
    states = {
        START: start,
        **started,
        **_graph(workflow),
        "LifecycleFailed": {
            "Type": "Fail",
            "Error": "LifecycleStepFailed",
            "Cause": "a lifecycle step failed and the failure could not be recorded on the order",
        },
    }
    return {
        "Comment": f"{workflow.name} lifecycle: {workflow.description} Generated by `oms-hub workflows build` "
        f"from workflows/{workflow.name}.yaml: edit that, not this file.",
        "StartAt": START,
        "States": states,
    }


def _template_block(workflows: list[Workflow]) -> str:
    """Each workflow's state machine and log group; they share LifecycleStateMachineRole."""
    parts = []
    for workflow in workflows:
        machine = logical_id(workflow.name)
        parts.append(f"""  {machine}LogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/aws/vendedlogs/states/${{AWS::StackName}}-lifecycle-{workflow.name}"
      RetentionInDays: !Ref LogRetentionDays
  {machine}:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: !Sub "${{AWS::StackName}}-lifecycle-{workflow.name}"
      Type: STANDARD
      DefinitionUri: {definition_uri(workflow.name)}
      DefinitionSubstitutions:
        OrdersTable: !Ref OrdersTable
        LifecycleTasksFunctionArn: !Sub "${{LifecycleTasksFunction.Arn}}:live"
        EventBusName: !Ref EventBus
      Role: !GetAtt LifecycleStateMachineRole.Arn
      Tracing: {{Enabled: true}}
      Logging:
        Level: ERROR
        IncludeExecutionData: false
        Destinations:
          - CloudWatchLogsLogGroup: {{LogGroupArn: !GetAtt {machine}LogGroup.Arn}}
""")
    return "".join(parts)


def rendered(directory: Path = SOURCES, template: str | None = None) -> dict[Path, str]:
    """What the build writes: path -> text (`template`: the template's text to put the block in)."""
    workflows = load_sources(directory)
    text = TEMPLATE.read_text() if template is None else template
    files = {CATALOG: catalog_json(workflows), TEMPLATE: BLOCK.replaced(text, _template_block(workflows))}
    for workflow in workflows:
        files[asl_path(workflow.name)] = json.dumps(build_asl(workflow), indent=2) + "\n"
    return files


def stale() -> list[Path]:
    return stale_files(rendered())
