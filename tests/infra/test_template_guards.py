"""Every function, queue, state machine, log group, table and alarm of template.yaml carries the
operations kit: log retention, tracing, alarms to the alarm topic, a DLQ or OnFailure destination for
each asynchronous path. A failure names the resource and what it lacks."""

from __future__ import annotations

import copy
import json
import re

import pytest
from cfn_tools import load_yaml

from infra import template_guards as guards
from infra.checkov_skips import stack_wide_skips
from oms_build import alarms
from oms_build.blocks import TEMPLATE


@pytest.fixture(scope="module")
def template() -> guards.Template:
    return guards.load()


@pytest.mark.parametrize("guard", guards.GUARDS, ids=lambda g: g.__name__)
def test_template_passes_guard(template, guard) -> None:
    problems = guard(template)
    assert not problems, "template.yaml lacks:\n" + "\n".join(problems)


def test_guards_name_what_a_bare_new_resource_lacks(template) -> None:
    """A function, queue and state machine added without the kit are each reported, with the gap."""
    bare = copy.deepcopy(template)
    bare["Resources"].update(
        {
            "PollFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "x.handler",
                    "Tracing": "PassThrough",
                    "Events": {
                        "Every5": {"Type": "Schedule", "Properties": {"Schedule": "rate(5 minutes)"}},
                        "Work": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["WorkQueue", "Arn"]}}},
                    },
                },
            },
            "WorkQueue": {"Type": "AWS::SQS::Queue", "Properties": {"SqsManagedSseEnabled": True}},
            "FailedQueue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "OtherQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "SqsManagedSseEnabled": True,
                    "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["FailedQueue", "Arn"]}},
                },
            },
            "Flow": {"Type": "AWS::Serverless::StateMachine", "Properties": {"DefinitionUri": "x.json"}},
            "LooseLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
            "Silent": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Namespace": "AWS/SQS", "MetricName": "X"}},
        }
    )
    problems = [p for guard in guards.GUARDS for p in guard(bare)]
    assert sorted(problems) == sorted(
        [
            "PollFunction: logs do not go to a log group of this template",
            "PollFunction: X-Ray tracing is not Active",
            "PollFunction: no alarm on AWS/Lambda Errors (FunctionName) notifying AlarmTopic",
            "PollFunction: no alarm on AWS/Lambda Throttles (FunctionName) notifying AlarmTopic",
            "PollFunction: invoked asynchronously by Every5 but has no DeadLetterQueue or EventInvokeConfig "
            "OnFailure destination",
            "PollFunction: its SQS source WorkQueue (Work) has no RedrivePolicy (DLQ)",
            "WorkQueue: a work queue without RedrivePolicy (messages that keep failing are lost)",
            "FailedQueue: no alarm on AWS/SQS ApproximateNumberOfMessagesVisible (QueueName) notifying AlarmTopic",
            "FailedQueue: not encrypted at rest (SqsManagedSseEnabled or KmsMasterKeyId)",
            "Flow: X-Ray tracing is not enabled",
            "Flow: no execution logging",
            "Flow: no alarm on AWS/States ExecutionsFailed (StateMachineArn) notifying AlarmTopic",
            "Flow: no alarm on AWS/States ExecutionsTimedOut (StateMachineArn) notifying AlarmTopic",
            "LooseLogs: RetentionInDays is not !Ref LogRetentionDays",
            "Silent: notifies no one (AlarmActions lacks !Ref AlarmTopic)",
        ]
    )


def test_the_alarms_it_prints_for_new_resources_satisfy_the_guards(template) -> None:
    """`python -m infra.template_guards` prints the missing alarms; pasted in, nothing is missing."""
    grown = copy.deepcopy(template)
    grown["Resources"].update(
        {
            "PollFunction": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "x.handler"}},
            "Flow": {"Type": "AWS::Serverless::StateMachine", "Properties": {"DefinitionUri": "x.json"}},
            "Failed": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Work": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Failed", "Arn"]}}},
            },
        }
    )
    pasted = load_yaml("Resources:\n" + guards.missing_alarms_yaml(grown))["Resources"]
    assert sorted(pasted) == [
        "FailedDepthAlarm",
        "FlowFailedAlarm",
        "FlowTimedOutAlarm",
        "PollFunctionErrorsAlarm",
        "PollFunctionThrottlesAlarm",
    ]
    grown["Resources"].update(pasted)
    assert not [p for guard in guards.GUARDS for p in guard(grown) if "no alarm" in p]
    assert guards.missing_alarms_yaml(guards.load()) == ""


def test_the_committed_alarms_block_is_what_the_kits_generate() -> None:
    assert alarms.stale() == []


def test_the_alarms_block_follows_the_resources_the_template_declares() -> None:
    """A function added to the template gets its alarms from the build; one removed takes its alarms."""
    text = TEMPLATE.read_text()
    bare = "  BareFunction:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: x.handler}\n"
    grown = alarms.with_alarms(text.replace("\nResources:\n", "\nResources:\n" + bare, 1))
    grown_template = load_yaml(grown)
    assert {"BareFunctionErrorsAlarm", "BareFunctionThrottlesAlarm"} <= set(grown_template["Resources"])
    assert not [p for guard in guards.GUARDS for p in guard(grown_template) if "BareFunction: no alarm" in p]
    assert alarms.with_alarms(grown.replace(bare, "")) == text


def test_a_function_with_an_on_failure_destination_and_alarmed_dlq_passes(template) -> None:
    kit = copy.deepcopy(template)
    alarm = {
        "Namespace": "AWS/SQS",
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "AlarmActions": [{"Ref": "AlarmTopic"}],
        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["PollFailures", "QueueName"]}}],
    }
    kit["Resources"].update(
        {
            "PollFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "x.handler",
                    "LoggingConfig": {"LogGroup": {"Ref": "OrdersApiLogGroup"}},
                    "EventInvokeConfig": {
                        "DestinationConfig": {
                            "OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": ["PollFailures", "Arn"]}}
                        }
                    },
                    "Events": {"Every5": {"Type": "Schedule", "Properties": {"Schedule": "rate(5 minutes)"}}},
                },
            },
            "PollFailures": {"Type": "AWS::SQS::Queue", "Properties": {"SqsManagedSseEnabled": True}},
            "PollFailuresAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": alarm},
            **{
                f"Poll{metric}Alarm": {
                    "Type": "AWS::CloudWatch::Alarm",
                    "Properties": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": metric,
                        "AlarmActions": [{"Ref": "AlarmTopic"}],
                        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "PollFunction"}}],
                    },
                }
                for metric in ("Errors", "Throttles")
            },
        }
    )
    assert [p for guard in guards.GUARDS for p in guard(kit)] == []


def test_every_stack_wide_checkov_skip_carries_its_reason(template) -> None:
    assert stack_wide_skips(template), "template.yaml Metadata declares the checkov skips"
    unexplained = copy.deepcopy(template)
    unexplained["Metadata"]["checkov"]["skip"].append({"id": "CKV_AWS_999", "comment": " "})
    with pytest.raises(SystemExit, match="CKV_AWS_999"):
        stack_wide_skips(unexplained)


def test_every_resource_checkov_skip_carries_its_reason(template) -> None:
    bare = [
        f"{name}: {skip['id']}"
        for name, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
        if not str(skip.get("comment", "")).strip()
    ]
    assert not bare, "checkov skips without a reason:\n" + "\n".join(bare)


def test_dashboard_shows_every_state_machine(template) -> None:
    """Functions and queues are found by stack name (SEARCH); state machines are listed by ARN."""
    body = guards.resources(template, "AWS::CloudWatch::Dashboard")["Dashboard"]["Properties"]["DashboardBody"][
        "Fn::Sub"
    ]
    missing = [
        name for name in guards.resources(template, "AWS::Serverless::StateMachine") if "${" + name + "}" not in body
    ]
    assert not missing, f"state machines missing from the dashboard: {missing}"
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    assert {w["properties"]["title"] for w in widgets} >= {
        "Function errors and throttles",
        "Queue backlog and dead letters",
        "Order lifecycle executions",
        "Business events (OmsHub)",
    }
