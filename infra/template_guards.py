"""Operational guards over template.yaml, written per resource kind so that resources added later are
held to them too: each guard returns one line per resource naming what it lacks.

A guard takes the template as data (so tests can also show that it catches a bare resource).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfn_tools import load_yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
ALARM_TOPIC = "AlarmTopic"
RETENTION_PARAMETER = "LogRetentionDays"
METRICS_NAMESPACE = "OmsHub"
# Event sources through which Lambda is invoked asynchronously: a failure after the retries must land
# somewhere (function DeadLetterQueue or EventInvokeConfig OnFailure).
ASYNC_EVENTS = {"Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent", "SNS", "S3"}
# Event sources that Lambda polls from a stream: a failing batch blocks its shard, so retries must be
# bounded and the batch must land somewhere after them.
STREAM_EVENTS = {"DynamoDB", "Kinesis"}
# The alarms each kind of resource must have: namespace, dimension, how the template names the
# resource in it, and metric -> (alarm name suffix, statistic, threshold).
ALARM_KITS = {
    "function": (
        "AWS/Lambda",
        "FunctionName",
        "!Ref {}",
        {"Errors": ("Errors", "Sum", 1), "Throttles": ("Throttles", "Sum", 1)},
    ),
    # A stream reader falling a minute behind means marketplaces are offered stale stock.
    "stream_function": ("AWS/Lambda", "FunctionName", "!Ref {}", {"IteratorAge": ("IteratorAge", "Maximum", 60000)}),
    "state_machine": (
        "AWS/States",
        "StateMachineArn",
        "!Ref {}",
        {"ExecutionsFailed": ("Failed", "Sum", 1), "ExecutionsTimedOut": ("TimedOut", "Sum", 1)},
    ),
    "dead_letter_queue": (
        "AWS/SQS",
        "QueueName",
        "!GetAtt {}.QueueName",
        {"ApproximateNumberOfMessagesVisible": ("Depth", "Maximum", 1)},
    ),
}
# Business alarms the issue asks for, on the functions' powertools metrics.
BUSINESS_METRICS = {"SlaBreached", "StockPushFailed"}

Template = dict[str, Any]


def load() -> Template:
    template: Template = load_yaml(TEMPLATE.read_text())
    return template


def resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def target(value: Any) -> str | None:
    """The logical id a `!Ref X` or `!GetAtt X.Attr` points at, else None."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return str(arg)
        if key == "Fn::GetAtt":
            return str((arg.split(".", 1) if isinstance(arg, str) else arg)[0])
    return None


def alarmed_metrics(template: Template, namespace: str, dimension: str, logical_id: str) -> set[str]:
    """Metric names with an alarm on `logical_id` (through `dimension`) that notifies the alarm topic."""
    found = set()
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        notifies = any(target(action) == ALARM_TOPIC for action in props.get("AlarmActions", []))
        watches = any(d["Name"] == dimension and target(d["Value"]) == logical_id for d in props.get("Dimensions", []))
        if props.get("Namespace") == namespace and watches and notifies:
            found.add(props["MetricName"])
    return found


def _unalarmed(template: Template, logical_id: str, kit: str) -> list[str]:
    namespace, dimension, _, metrics = ALARM_KITS[kit]
    return sorted(set(metrics) - alarmed_metrics(template, namespace, dimension, logical_id))


def _missing_alarms(template: Template, logical_id: str, kit: str) -> list[str]:
    namespace, dimension, _, _ = ALARM_KITS[kit]
    return [
        f"{logical_id}: no alarm on {namespace} {metric} ({dimension}) notifying {ALARM_TOPIC}"
        for metric in _unalarmed(template, logical_id, kit)
    ]


def missing_alarms_yaml(template: Template) -> str:
    """The alarm resources the template lacks, in its own compact style (oms_build.alarms renders the
    template's alarms block with this, from the template without the block)."""
    kits = [(name, "function") for name in resources(template, "AWS::Serverless::Function")]
    kits += [(name, "stream_function") for name in stream_readers(template)]
    kits += [(name, "state_machine") for name in resources(template, "AWS::Serverless::StateMachine")]
    kits += [(name, "dead_letter_queue") for name in sorted(dead_letter_queues(template))]
    lines = []
    for logical_id, kit in kits:
        namespace, dimension, value, metrics = ALARM_KITS[kit]
        for metric in _unalarmed(template, logical_id, kit):
            suffix, statistic, threshold = metrics[metric]
            lines += [
                f"  {logical_id}{suffix}Alarm:",
                "    Type: AWS::CloudWatch::Alarm",
                f"    Properties: {{Namespace: {namespace}, MetricName: {metric}, Dimensions: [{{Name: {dimension}, "
                f"Value: {value.format(logical_id)}}}], Statistic: {statistic}, Period: 300, EvaluationPeriods: 1, "
                f"Threshold: {threshold}, ComparisonOperator: GreaterThanOrEqualToThreshold, "
                f"TreatMissingData: notBreaching, AlarmActions: [!Ref {ALARM_TOPIC}]}}",
            ]
    return "\n".join(lines)


def _log_group_problems(template: Template, owner: str, log_group_ref: Any) -> list[str]:
    log_group = target(log_group_ref)
    if log_group not in resources(template, "AWS::Logs::LogGroup"):
        return [f"{owner}: logs do not go to a log group of this template"]
    return []


def function_problems(template: Template) -> list[str]:
    problems = []
    globals_ = template.get("Globals", {}).get("Function", {})
    queues = resources(template, "AWS::SQS::Queue")
    for name, fn in resources(template, "AWS::Serverless::Function").items():
        props = fn.get("Properties", {})
        problems += _log_group_problems(template, name, props.get("LoggingConfig", {}).get("LogGroup"))
        if props.get("Tracing", globals_.get("Tracing")) != "Active":
            problems.append(f"{name}: X-Ray tracing is not Active")
        namespace = props.get("Environment", {}).get("Variables", {}).get("POWERTOOLS_METRICS_NAMESPACE")
        if namespace not in (None, METRICS_NAMESPACE):
            problems.append(f"{name}: metrics namespace {namespace}, not {METRICS_NAMESPACE}")
        problems += _missing_alarms(template, name, "function")
        events = props.get("Events", {})
        async_events = sorted(e for e, spec in events.items() if spec["Type"] in ASYNC_EVENTS)
        on_failure = props.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure")
        if async_events and not (props.get("DeadLetterQueue") or on_failure):
            problems.append(
                f"{name}: invoked asynchronously by {', '.join(async_events)} but has no "
                "DeadLetterQueue or EventInvokeConfig OnFailure destination"
            )
        for event_name, spec in events.items():
            if spec["Type"] == "SQS":
                queue = target(spec["Properties"]["Queue"])
                if queue in queues and "RedrivePolicy" not in queues[queue].get("Properties", {}):
                    problems.append(f"{name}: its SQS source {queue} ({event_name}) has no RedrivePolicy (DLQ)")
            if spec["Type"] in STREAM_EVENTS:
                source = spec["Properties"]
                if int(source.get("MaximumRetryAttempts", -1)) < 0:
                    problems.append(
                        f"{name}: its stream source {event_name} retries forever (MaximumRetryAttempts), "
                        "blocking the shard behind one bad batch"
                    )
                if not source.get("DestinationConfig", {}).get("OnFailure"):
                    problems.append(f"{name}: its stream source {event_name} has no OnFailure destination")
    for name in stream_readers(template):
        problems += _missing_alarms(template, name, "stream_function")
    return problems


def stream_readers(template: Template) -> list[str]:
    """Functions fed by a stream event source."""
    return [
        name
        for name, fn in resources(template, "AWS::Serverless::Function").items()
        if any(spec["Type"] in STREAM_EVENTS for spec in fn.get("Properties", {}).get("Events", {}).values())
    ]


def dead_letter_queues(template: Template) -> set[str]:
    """Queues that receive failures: redrive targets, function DLQs and OnFailure destinations."""
    dlqs = set()
    for queue in resources(template, "AWS::SQS::Queue").values():
        redrive = queue.get("Properties", {}).get("RedrivePolicy", {})
        dlqs.add(target(redrive.get("deadLetterTargetArn")))
    for fn in resources(template, "AWS::Serverless::Function").values():
        props = fn.get("Properties", {})
        dlqs.add(target(props.get("DeadLetterQueue", {}).get("TargetArn")))
        dlqs.add(
            target(
                props.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            )
        )
        for spec in props.get("Events", {}).values():
            dlqs.add(target(spec.get("Properties", {}).get("DeadLetterConfig", {}).get("Arn")))
            dlqs.add(
                target(spec.get("Properties", {}).get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"))
            )
    return {dlq for dlq in dlqs if dlq is not None}


def queue_problems(template: Template) -> list[str]:
    problems = []
    dlqs = dead_letter_queues(template)
    for name, queue in resources(template, "AWS::SQS::Queue").items():
        props = queue.get("Properties", {})
        if name in dlqs:
            problems += _missing_alarms(template, name, "dead_letter_queue")
        elif "RedrivePolicy" not in props:
            problems.append(f"{name}: a work queue without RedrivePolicy (messages that keep failing are lost)")
        if not (props.get("SqsManagedSseEnabled") or props.get("KmsMasterKeyId")):
            problems.append(f"{name}: not encrypted at rest (SqsManagedSseEnabled or KmsMasterKeyId)")
    return problems


def state_machine_problems(template: Template) -> list[str]:
    problems = []
    for name, machine in resources(template, "AWS::Serverless::StateMachine").items():
        props = machine.get("Properties", {})
        if not props.get("Tracing", {}).get("Enabled"):
            problems.append(f"{name}: X-Ray tracing is not enabled")
        destinations = props.get("Logging", {}).get("Destinations", [])
        if not destinations:
            problems.append(f"{name}: no execution logging")
        for destination in destinations:
            problems += _log_group_problems(template, name, destination["CloudWatchLogsLogGroup"]["LogGroupArn"])
        problems += _missing_alarms(template, name, "state_machine")
    return problems


def log_group_problems(template: Template) -> list[str]:
    return [
        f"{name}: RetentionInDays is not !Ref {RETENTION_PARAMETER}"
        for name, group in resources(template, "AWS::Logs::LogGroup").items()
        if group.get("Properties", {}).get("RetentionInDays") != {"Ref": RETENTION_PARAMETER}
    ]


def table_problems(template: Template) -> list[str]:
    problems = []
    for name, table in resources(template, "AWS::DynamoDB::Table").items():
        props = table.get("Properties", {})
        if not props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            problems.append(f"{name}: point-in-time recovery is off")
        if table.get("DeletionPolicy") != "Retain" or table.get("UpdateReplacePolicy") != "Retain":
            problems.append(
                f"{name}: DeletionPolicy and UpdateReplacePolicy must be Retain (orders and stock are data)"
            )
    return problems


def alarm_problems(template: Template) -> list[str]:
    problems = [
        f"{name}: notifies no one (AlarmActions lacks !Ref {ALARM_TOPIC})"
        for name, alarm in resources(template, "AWS::CloudWatch::Alarm").items()
        if not any(target(a) == ALARM_TOPIC for a in alarm["Properties"].get("AlarmActions", []))
    ]
    business = {
        a["Properties"]["MetricName"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == METRICS_NAMESPACE
    }
    problems += [
        f"no alarm on the {METRICS_NAMESPACE} metric {metric}" for metric in sorted(BUSINESS_METRICS - business)
    ]
    return problems


GUARDS = [function_problems, queue_problems, state_machine_problems, log_group_problems, table_problems, alarm_problems]


if __name__ == "__main__":
    # `python -m infra.template_guards`: what the template lacks, then the alarms it lacks
    # (`oms-hub workflows build` writes those into the template's alarms block).
    current = load()
    for line in (problem for guard in GUARDS for problem in guard(current)):
        print(f"# {line}")
    print(missing_alarms_yaml(current))
