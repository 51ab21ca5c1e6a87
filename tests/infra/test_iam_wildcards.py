"""Least privilege, read from template.yaml itself: a wildcard in a policy resource or action is allowed
only where IAM cannot name the resource, and each such place is on the allow-list below with its reason.
State machines may invoke only the functions their own definition calls.

(tests/infra/test_least_privilege.py checks the other direction: every grant is used by a real call.)
"""

from __future__ import annotations

import json
from typing import Any

from infra import template_guards as guards

# (principal, statement Sid) -> why a wildcard is needed there. A new wildcard fails until it is added
# here with its reason; an entry no statement needs any more fails too, so the list stays true.
_TASK_TOKEN = "states:SendTaskSuccess takes a task token, not an ARN: IAM has no resource to name"
_PER_CHANNEL = (
    "one SecureString per channel, created when an operator registers the channel: names are not known "
    "at deploy time, so the grant is scoped to the credentials path"
)
_PER_ROLE = (
    "one SecureString per role (and per location of a store role), set with the role's contacts: names are data, "
    "so the grant is scoped to <prefix>/roles/"
)
WILDCARDS_ALLOWED = {
    ("OrdersApiFunction", "ListOrders"): "the four ByCreated/ByStatus/ByChannel/ByChannelStatus indexes of "
    "its own OrdersTable; the list endpoint queries each of them",
    ("OrdersApiFunction", "StartLifecycle"): "one state machine per workflows/*.yaml, all named "
    "<stack>-lifecycle-<workflow>: a new workflow needs no policy edit",
    ("OrdersApiFunction", "ResumeLifecycle"): _TASK_TOKEN,
    ("HoldSweeperFunction", "ResumeLifecycle"): _TASK_TOKEN,
    ("WebhooksApiFunction", "ResumeLifecycle"): _TASK_TOKEN,
    ("PartnerQueueFunction", "ResumeLifecycle"): _TASK_TOKEN,
    ("PartnerPollFunction", "ResumeLifecycle"): _TASK_TOKEN,
    ("AdminFunction", "PageEvents"): _TASK_TOKEN,
    ("AdminFunction", "PageStartLifecycle"): "an order taken by phone starts its workflow's machine, as intake "
    "does: one per workflows/*.yaml, all named <stack>-lifecycle-<workflow>",
    ("InventoryApiFunction", "StoreChannelSecrets"): _PER_CHANNEL,
    ("InventoryApiFunction", "StoreRoleWebhookSecrets"): _PER_ROLE,
    ("WebhooksApiFunction", "ReadChannelSecrets"): _PER_CHANNEL,
    ("PartnerPollFunction", "ReadPartnerCredentials"): _PER_CHANNEL,
    ("StockPushFunction", "ReadPartnerCredentials"): _PER_CHANNEL,
    ("OrderActionsFunction", "ReadPartnerCredentials"): _PER_CHANNEL,
    # Senders are data: the hub's NOTIFY_EMAIL_FROM or a channel's own email_sender, each a verified identity.
    ("OrderActionsFunction", "EmailCustomers"): "a channel's sender identity is configuration, not template",
    ("OrdersApiFunction", "AcquirerSecrets"): "the acquirer's API key and webhook secret per provider, under "
    "<stack>/acquirer/",
    ("LifecycleTasksFunction", "AcquirerSecrets"): "the acquirer's API key per provider, under <stack>/acquirer/",
    ("SlaMonitorFunction", "DescribeLifecycles"): "the executions of every lifecycle machine "
    "(<stack>-lifecycle-<workflow>), each named after its order",
    ("SlaMonitorFunction", "RestartLifecycles"): "one state machine per workflows/*.yaml, all named "
    "<stack>-lifecycle-<workflow>: a new workflow needs no policy edit",
    ("SlaMonitorFunction", "RoleWebhookSecrets"): _PER_ROLE,
    ("SlaMonitorFunction", "EmailStaff"): "the sender identity is the deployment's NotifyEmailFrom parameter",
    ("LifecycleStateMachineRole", "DeliverLogsAndTraces"): "CloudWatch Logs delivery and X-Ray APIs have no "
    "resource-level permissions",
}
# SAM policy templates that scope themselves to the one resource they are given (by !Ref).
SCOPED_POLICY_TEMPLATES = {
    "LambdaInvokePolicy": "FunctionName",
    "SQSPollerPolicy": "QueueName",
    "SQSSendMessagePolicy": "QueueName",
    "DynamoDBReadPolicy": "TableName",
    "DynamoDBCrudPolicy": "TableName",
    "EventBridgePutEventsPolicy": "EventBusName",
    "StepFunctionsExecutionPolicy": "StateMachineName",
}
PRINCIPALS = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _has_wildcard(value: Any) -> bool:
    """A `*` anywhere in a resource or action as written (literal, or inside a !Sub)."""
    return "*" in json.dumps(value)


def _policies(template: guards.Template) -> list[tuple[str, Any]]:
    """Every policy of a function or state machine, and the inline policies of roles the template declares."""
    managed = {
        name: {"Statement": policy["Properties"]["PolicyDocument"]["Statement"]}
        for name, policy in guards.resources(template, "AWS::IAM::ManagedPolicy").items()
    }
    sam = [
        (name, managed.get(guards.target(policy) or "", policy))  # a policy of this template's: its statements
        for kind in PRINCIPALS
        for name, resource in guards.resources(template, kind).items()
        for policy in resource.get("Properties", {}).get("Policies", [])
    ]
    roles = [
        (name, {"Statement": policy["PolicyDocument"]["Statement"]})
        for name, role in guards.resources(template, "AWS::IAM::Role").items()
        for policy in role.get("Properties", {}).get("Policies", [])
    ]
    return sam + roles


def wildcard_problems(template: guards.Template) -> tuple[list[str], set[tuple[str, str]]]:
    """(problems, allow-list entries that were needed)."""
    problems, needed = [], set()
    for principal, policy in _policies(template):
        if isinstance(policy, str) or not isinstance(policy, dict):
            problems.append(f"{principal}: managed policy {policy!r} (name the actions and resources instead)")
            continue
        if "Statement" not in policy:
            ((name, args),) = policy.items()
            argument = SCOPED_POLICY_TEMPLATES.get(name)
            if argument is None or guards.target(args.get(argument)) not in template["Resources"]:
                problems.append(
                    f"{principal}: policy template {name} is not scoped to one of this template's resources"
                )
            continue
        for statement in policy["Statement"]:
            sid = statement.get("Sid", "<no Sid>")
            wild = [
                field for field in ("Action", "Resource") if any(_has_wildcard(v) for v in _listed(statement[field]))
            ]
            if not wild:
                continue
            if (principal, sid) in WILDCARDS_ALLOWED:
                needed.add((principal, sid))
            else:
                problems.append(
                    f"{principal}: statement {sid} has a wildcard {'/'.join(wild)} that is not on "
                    "WILDCARDS_ALLOWED (name the resource, or add it there with the reason IAM cannot)"
                )
    return problems, needed


def test_no_wildcard_outside_the_reasoned_allow_list() -> None:
    problems, needed = wildcard_problems(guards.load())
    assert not problems, "\n".join(problems)
    stale = set(WILDCARDS_ALLOWED) - needed
    assert not stale, f"allow-list entries no statement needs any more (remove them): {sorted(stale)}"


def test_a_new_wildcard_is_caught() -> None:
    template = guards.load()
    template["Resources"]["OrdersApiFunction"]["Properties"]["Policies"].append(
        {"Statement": [{"Sid": "Everything", "Effect": "Allow", "Action": ["dynamodb:*"], "Resource": "*"}]}
    )
    template["Resources"]["InventoryApiFunction"]["Properties"]["Policies"].append("AmazonDynamoDBFullAccess")
    template["Resources"]["LifecycleTasksFunction"]["Properties"]["Policies"].append(
        {"SQSPollerPolicy": {"QueueName": "*"}}
    )
    problems, _ = wildcard_problems(template)
    assert problems == [
        "OrdersApiFunction: statement Everything has a wildcard Action/Resource that is not on WILDCARDS_ALLOWED "
        "(name the resource, or add it there with the reason IAM cannot)",
        "InventoryApiFunction: managed policy 'AmazonDynamoDBFullAccess' (name the actions and resources instead)",
        "LifecycleTasksFunction: policy template SQSPollerPolicy is not scoped to one of this template's resources",
    ]


def invoke_problems(template: guards.Template) -> list[str]:
    problems = []
    for name, machine in guards.resources(template, "AWS::Serverless::StateMachine").items():
        props = machine["Properties"]
        called = {guards.target(v) for v in props.get("DefinitionSubstitutions", {}).values()}
        policies = list(props.get("Policies", []))
        role = guards.target(props.get("Role"))
        if role in template["Resources"]:  # a role of the template's own, shared by the lifecycle machines
            policies += [p["PolicyDocument"] for p in template["Resources"][role]["Properties"].get("Policies", [])]
        invoked = {
            guards.target(p["LambdaInvokePolicy"]["FunctionName"]) for p in policies if "LambdaInvokePolicy" in p
        }
        invoked |= {
            guards.target(r)
            for p in policies
            for s in p.get("Statement", [])
            if any(a.startswith("lambda:") for a in _listed(s["Action"]))
            for r in _listed(s["Resource"])
        }
        problems += [f"{name} may invoke {fn}, which its definition never calls" for fn in sorted(invoked - called)]
    return problems


def test_state_machines_invoke_only_their_own_functions() -> None:
    assert invoke_problems(guards.load()) == []


def test_a_state_machine_granted_another_function_is_caught() -> None:
    template = guards.load()
    statements = template["Resources"]["LifecycleStateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    statements.append(
        {
            "Sid": "Extra",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": {"Fn::GetAtt": ["InventoryApiFunction", "Arn"]},
        }
    )
    problems = invoke_problems(template)
    assert "OrderLifecycle may invoke InventoryApiFunction, which its definition never calls" in problems
    assert len(problems) == len(guards.resources(template, "AWS::Serverless::StateMachine"))
