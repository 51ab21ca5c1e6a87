"""Reads template.yaml into what the local runtime needs: tables, functions, routes, state machines.

Only the intrinsics the template uses are resolved (Ref, GetAtt, Sub); anything else fails loudly,
so a template change the runtime does not understand cannot be silently mis-wired.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cfn_tools import load_yaml
from cronsim import CronSim

ACCOUNT = "123456789012"
REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = REPO_ROOT / "template.yaml"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    api_key_required: bool

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{[^}/]+\\\+\\\}", r"(?P<proxy>.+)", re.escape(self.path))
        regex = re.sub(r"\\\{([^}/]+)\\\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class Function:
    logical_id: str
    name: str
    handler: str
    code_dir: Path
    environment: dict[str, str]
    timeout: int
    memory: int


@dataclass(frozen=True)
class Schedule:
    """A function's `Schedule`/`ScheduleV2` event: EventBridge invokes it with `payload` on `expression`."""

    name: str
    function: str
    expression: str
    payload: dict[str, Any] | None  # the event's Input; None: EventBridge's "Scheduled Event" envelope

    def next_after(self, moment: datetime) -> datetime:
        """The first firing strictly after `moment` (UTC)."""
        rate = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", self.expression)
        if rate:
            unit = rate.group(2).rstrip("s")
            return moment + timedelta(**{f"{unit}s": int(rate.group(1))})
        cron = re.fullmatch(r"cron\((.+)\)", self.expression)
        if cron is None:
            raise ValueError(f"unsupported schedule expression {self.expression!r}")
        return next(CronSim(_five_field_cron(cron.group(1)), moment.replace(second=0, microsecond=0)))


def _five_field_cron(aws_fields: str) -> str:
    """EventBridge cron (minute hour day-of-month month day-of-week year; `?` for "any"; days of the week
    1-7 = SUN-SAT) to the classic five fields (days of the week 0-6 = SUN-SAT)."""
    fields = aws_fields.split()
    if len(fields) != 6 or fields[5] not in ("*", "?"):
        raise ValueError(f"cron({aws_fields}): six fields with year * are supported locally")
    minute, hour, dom, month, dow = (f.replace("?", "*") for f in fields[:5])
    shifted = re.sub(r"(?<![#\d])(\d)", lambda m: str(int(m.group(1)) - 1), dow)  # not the nth after '#'
    return " ".join((minute, hour, dom, month, shifted))


@dataclass(frozen=True)
class QueueSource:
    """An SQS event source: the function gets batches of the queue's messages."""

    function: str
    queue_arn: str
    batch_size: int
    report_failures: bool
    window_seconds: float = 0.0  # MaximumBatchingWindowInSeconds: how long a batch under BatchSize may fill


@dataclass(frozen=True)
class StreamSource:
    """A DynamoDB stream event source: the function gets batches of the table's row changes."""

    function: str
    table: str  # physical name
    batch_size: int
    window_seconds: float
    max_retries: int
    on_failure_arn: str | None
    # FilterCriteria on the record's eventName (the only filter the template uses): None = every record
    event_names: frozenset[str] | None = None


@dataclass(frozen=True)
class EventRule:
    """An EventBridge rule on one of the template's buses, with its targets (queue ARNs)."""

    name: str
    bus: str
    pattern: str  # JSON
    targets: tuple[tuple[str, str], ...]  # (Id, Arn)


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    body: str


@dataclass(frozen=True)
class UserPool:
    """A Cognito user pool of the template with its app clients and groups, as moto's API takes them. `Ref`
    resolves to physical names at load; the runtime swaps in the ids moto gives (oms_local/cognito.py)."""

    logical_id: str
    request: dict[str, Any]  # CreateUserPool
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)  # logical id -> CreateUserPoolClient
    groups: list[dict[str, Any]] = field(default_factory=list)  # CreateGroup requests


@dataclass
class LocalTemplate:
    root: Path
    stack: str
    region: str
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)
    state_machines: dict[str, dict[str, Any]] = field(default_factory=dict)
    event_buses: dict[str, str] = field(default_factory=dict)
    # logical id -> PutRule request and its targets (moto's EventBridge delivers to SQS targets itself)
    rules: dict[str, EventRule] = field(default_factory=dict)
    schedules: list[Schedule] = field(default_factory=list)
    # logical id -> CreateQueue request (dead-letter queues first, so a redrive target exists)
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)
    queue_sources: list[QueueSource] = field(default_factory=list)
    stream_sources: list[StreamSource] = field(default_factory=list)
    # logical id -> IAM statements of its role (resolved; SAM policy templates expanded). Local runs
    # do not enforce them; tests check them against the calls each principal really makes.
    policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    user_pools: dict[str, UserPool] = field(default_factory=dict)


class _Resolver:
    def __init__(self, template: dict[str, Any], stack: str, region: str) -> None:
        self.resources = template.get("Resources", {})
        self.parameters = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
        self.pseudo = {
            "AWS::StackName": stack,
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.stack = stack
        self.region = region

    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind in ("AWS::Events::EventBus", "AWS::Serverless::StateMachine") and "Name" in props:
            return str(self.resolve(props["Name"]))
        return f"{self.stack}-{logical_id}"

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        kind = self.resources[name]["Type"]
        physical = self.physical_name(name)
        if kind == "AWS::Serverless::StateMachine":
            return f"arn:aws:states:{self.region}:{ACCOUNT}:stateMachine:{physical}"
        if kind == "AWS::SQS::Queue":
            return queue_url(self.region, physical)
        return physical

    def get_att(self, name: str, attribute: str) -> str:
        kind = self.resources[name]["Type"]
        physical = self.physical_name(name)
        arns = {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{physical}",
            "AWS::Serverless::Function": f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{physical}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{physical}",
            "AWS::Events::EventBus": f"arn:aws:events:{self.region}:{ACCOUNT}:event-bus/{physical}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{self.region}:{ACCOUNT}:{physical}",
        }
        if kind == "AWS::Events::Rule":
            bus = self.resolve(self.resources[name]["Properties"].get("EventBusName", "default"))
            arns[kind] = f"arn:aws:events:{self.region}:{ACCOUNT}:rule/{bus}/{physical}"
        if attribute != "Arn" or kind not in arns:
            raise ValueError(f"local runtime cannot resolve GetAtt {name}.{attribute}")
        return arns[kind]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                name, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                return self.get_att(name, attribute)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key.startswith("Fn::"):
                raise ValueError(f"local runtime does not resolve {key}")
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in extra:
                return str(self.resolve(extra[name]))
            if "." in name:
                return self.get_att(*name.split(".", 1))
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)


@functools.lru_cache(maxsize=4)
def _parsed_yaml(text: str) -> str:
    return json.dumps(load_yaml(text))


def _parsed(text: str) -> dict[str, Any]:
    """The template's YAML, parsed once per text in a process, a copy for each load. cfn_tools parses
    with PyYAML in pure Python, about 0.25 s of CPU for template.yaml, a third of a LocalHub's start (a
    test run starts hundreds). The parse is kept as JSON: each LocalTemplate's requests hold the
    template's lists, so every load reads its own (1 ms; a deepcopy of cfn_tools' ordered dicts took 35)."""
    parsed: dict[str, Any] = json.loads(_parsed_yaml(text))
    return parsed


def load(path: Path, stack: str = "oms-hub-local", region: str = "eu-central-1") -> LocalTemplate:
    template = _parsed(path.read_text())
    resolver = _Resolver(template, stack, region)
    root = path.parent
    local = LocalTemplate(root=root, stack=stack, region=region)
    globals_ = template.get("Globals", {}).get("Function", {})
    api_default_key = _read_apis(template, local)
    for logical_id, resource in template["Resources"].items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            local.policies[logical_id] = _statements(props.get("Policies", []), resolver)
        if kind == "AWS::DynamoDB::Table":
            local.tables[logical_id] = _table_request(resolver.physical_name(logical_id), props)
        elif kind == "AWS::Serverless::Function":
            local.functions[logical_id] = _function(logical_id, props, globals_, resolver, root)
            for event_name, event in props.get("Events", {}).items():
                _read_event(local, resolver, f"{logical_id}.{event_name}", event, api_default_key)
        elif kind == "AWS::Serverless::StateMachine":
            local.state_machines[logical_id] = _state_machine(logical_id, props, resolver, root)
        elif kind == "AWS::Events::EventBus":
            local.event_buses[logical_id] = resolver.physical_name(logical_id)
        elif kind == "AWS::IAM::Role":  # a role shared by several resources (e.g. every lifecycle machine)
            local.policies[logical_id] = [
                statement
                for policy in props.get("Policies", [])
                for statement in resolver.resolve(policy["PolicyDocument"]["Statement"])
            ]
        elif kind == "AWS::SQS::Queue":
            local.queues[logical_id] = _queue_request(resolver.physical_name(logical_id), props, resolver)
        elif kind == "AWS::Events::Rule":
            local.rules[logical_id] = _rule(resolver.physical_name(logical_id), props, resolver)
    _read_user_pools(template["Resources"], resolver, local)
    local.queues = dict(sorted(local.queues.items(), key=lambda kv: "RedrivePolicy" in kv[1]["Attributes"]))
    # Static paths before parameterised ones, as API Gateway matches them.
    local.routes.sort(key=lambda r: (r.path.count("{"), -len(r.path)))
    return local


# CloudFormation's properties of these resources that CreateUserPool / CreateUserPoolClient / CreateGroup
# take under the same name (UserPoolName is CreateUserPool's PoolName); the rest do not matter locally.
_POOL_PROPERTIES = (
    "Policies", "AdminCreateUserConfig", "UsernameConfiguration", "AccountRecoverySetting", "MfaConfiguration",
    "Schema", "UsernameAttributes", "AutoVerifiedAttributes",
)  # fmt: skip
_CLIENT_PROPERTIES = (
    "ClientName", "GenerateSecret", "ExplicitAuthFlows", "PreventUserExistenceErrors", "IdTokenValidity",
    "AccessTokenValidity", "RefreshTokenValidity", "TokenValidityUnits", "ReadAttributes", "WriteAttributes",
)  # fmt: skip


def _read_user_pools(resources: dict[str, Any], resolver: _Resolver, local: LocalTemplate) -> None:
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::Cognito::UserPool":
            props = resolver.resolve(resource.get("Properties", {}))
            request = {key: props[key] for key in _POOL_PROPERTIES if key in props}
            request["PoolName"] = props.get("UserPoolName", resolver.physical_name(logical_id))
            local.user_pools[logical_id] = UserPool(logical_id, request)
    for logical_id, resource in resources.items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind not in ("AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolGroup"):
            continue
        pool = local.user_pools[props["UserPoolId"]["Ref"]]
        resolved = resolver.resolve({k: v for k, v in props.items() if k != "UserPoolId"})
        if kind == "AWS::Cognito::UserPoolClient":
            pool.clients[logical_id] = {key: resolved[key] for key in _CLIENT_PROPERTIES if key in resolved}
        else:
            pool.groups.append({key: resolved[key] for key in ("GroupName", "Description") if key in resolved})


def _read_apis(template: dict[str, Any], local: LocalTemplate) -> dict[str, bool]:
    """Each API's gateway responses into `local`; whether each API requires a key by default."""
    api_default_key = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Api":
            api_props = resource["Properties"]
            api_default_key[logical_id] = bool(api_props.get("Auth", {}).get("ApiKeyRequired", False))
            for response_type, response in api_props.get("GatewayResponses", {}).items():
                body = response.get("ResponseTemplates", {}).get("application/json", '{"message": null}')
                status = int(response.get("StatusCode", 0)) or _default_status(response_type)
                local.gateway_responses[response_type] = GatewayResponse(status, body)
    return api_default_key


def _read_event(
    local: LocalTemplate, resolver: _Resolver, name: str, event: dict[str, Any], api_default_key: dict[str, bool]
) -> None:
    """One event source of a function (`name`: Function.Event): a schedule, queue, stream or API route."""
    function = name.split(".", 1)[0]
    kind, ep = event["Type"], event.get("Properties", {})
    if kind in ("Schedule", "ScheduleV2"):
        schedule = _schedule(name, function, resolver.resolve(event))
        if schedule is not None:
            local.schedules.append(schedule)
    elif kind == "SQS":
        report_failures = "ReportBatchItemFailures" in ep.get("FunctionResponseTypes", [])
        queue = resolver.resolve(ep["Queue"])
        local.queue_sources.append(
            QueueSource(
                function,
                queue,
                int(ep.get("BatchSize", 10)),
                report_failures,
                float(ep.get("MaximumBatchingWindowInSeconds", 0)),
            )
        )
    elif kind == "DynamoDB":
        table = ep["Stream"]["Fn::GetAtt"]
        table = (table.split(".", 1) if isinstance(table, str) else table)[0]
        on_failure = ep.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        local.stream_sources.append(
            StreamSource(
                function,
                resolver.physical_name(table),
                int(ep.get("BatchSize", 100)),
                float(ep.get("MaximumBatchingWindowInSeconds", 0)),
                int(ep.get("MaximumRetryAttempts", -1)),
                resolver.resolve(on_failure) if on_failure else None,
                _event_names(name, ep.get("FilterCriteria")),
            )
        )
    elif kind == "Api":
        api = ep["RestApiId"]["Ref"]
        key_required = ep.get("Auth", {}).get("ApiKeyRequired", api_default_key.get(api, False))
        local.routes.append(Route(ep["Method"].upper(), ep["Path"], function, bool(key_required)))


def _event_names(name: str, criteria: dict[str, Any] | None) -> frozenset[str] | None:
    """The eventNames a stream source's FilterCriteria lets through; any other filter fails loudly."""
    if not criteria:
        return None
    names: set[str] = set()
    for entry in criteria["Filters"]:
        pattern = json.loads(entry["Pattern"])
        if set(pattern) != {"eventName"} or not all(isinstance(n, str) for n in pattern["eventName"]):
            raise ValueError(f"{name}: the local runtime filters stream records on eventName only, not {pattern}")
        names.update(pattern["eventName"])
    return frozenset(names)


def _state_machine(logical_id: str, props: dict[str, Any], resolver: _Resolver, root: Path) -> dict[str, str]:
    definition = (root / props["DefinitionUri"]).read_text()
    for name, value in resolver.resolve(props.get("DefinitionSubstitutions", {})).items():
        definition = definition.replace("${" + name + "}", str(value))
    json.loads(definition)  # a substitution that broke the JSON fails here, not mid-execution
    return {
        "name": resolver.physical_name(logical_id),
        "definition": definition,
        "type": props.get("Type", "STANDARD"),
    }


def _schedule(name: str, function: str, event: dict[str, Any]) -> Schedule | None:
    """A Schedule (EventBridge rule) or ScheduleV2 (EventBridge Scheduler) event; None when disabled."""
    props = event["Properties"]
    if event["Type"] == "Schedule":
        expression, enabled = props["Schedule"], props.get("Enabled", True)
    else:
        expression, enabled = props["ScheduleExpression"], props.get("State", "ENABLED") == "ENABLED"
    if not enabled:
        return None
    payload = json.loads(props["Input"]) if "Input" in props else None
    Schedule(name, function, expression, payload).next_after(datetime.now(UTC))  # a bad expression fails at load
    return Schedule(name, function, expression, payload)


def _rule(name: str, props: dict[str, Any], resolver: _Resolver) -> EventRule:
    targets = tuple((t["Id"], str(resolver.resolve(t["Arn"]))) for t in props.get("Targets", []))
    if not all(":sqs:" in arn for _, arn in targets):
        raise ValueError(f"{name}: the local runtime routes rules to SQS queues only")
    return EventRule(
        name, str(resolver.resolve(props.get("EventBusName", "default"))), json.dumps(props["EventPattern"]), targets
    )


def queue_url(region: str, name: str) -> str:
    return f"https://sqs.{region}.amazonaws.com/{ACCOUNT}/{name}"


# CreateQueue takes these properties as attributes of the same name; the rest (tags, SSE) do not matter locally.
_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds")


def _queue_request(name: str, props: dict[str, Any], resolver: _Resolver) -> dict[str, Any]:
    attributes = {key: str(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(resolver.resolve(props["RedrivePolicy"]))
    return {"QueueName": name, "Attributes": attributes}


def _default_status(response_type: str) -> int:
    return 500 if "5XX" in response_type else 400


def _table_request(name: str, props: dict[str, Any]) -> dict[str, Any]:
    request = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("StreamSpecification"):
        request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return request


def _function(
    logical_id: str, props: dict[str, Any], globals_: dict[str, Any], resolver: _Resolver, root: Path
) -> Function:
    env = {**globals_.get("Environment", {}).get("Variables", {}), **props.get("Environment", {}).get("Variables", {})}
    handler, code_uri = props.get("Handler", globals_.get("Handler")), props.get("CodeUri", globals_.get("CodeUri"))
    if handler is None or code_uri is None:
        raise ValueError(f"{logical_id}: the local runtime needs its Handler and CodeUri")
    return Function(
        logical_id=logical_id,
        name=resolver.physical_name(logical_id),
        handler=handler,
        code_dir=root / code_uri,
        environment={k: str(resolver.resolve(v)) for k, v in env.items()},
        timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
        memory=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
    )


def _statements(policies: list[Any], resolver: _Resolver) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in policies:
        managed = resolver.resources.get(policy.get("Ref", "")) if isinstance(policy, dict) else None
        if managed is not None and managed["Type"] == "AWS::IAM::ManagedPolicy":  # one of this template's
            statements.extend(resolver.resolve(managed["Properties"]["PolicyDocument"]["Statement"]))
        elif "Statement" in policy:
            statements.extend(resolver.resolve(policy["Statement"]))
        elif "LambdaInvokePolicy" in policy:  # SAM's own expansion of this policy template
            name = resolver.resolve(policy["LambdaInvokePolicy"]["FunctionName"])
            statements.append(
                {
                    "Effect": "Allow",
                    "Action": ["lambda:InvokeFunction"],
                    "Resource": f"arn:aws:lambda:{resolver.region}:{ACCOUNT}:function:{name}*",
                }
            )
        else:
            raise ValueError(f"local runtime does not expand policy {policy}")
    return statements
