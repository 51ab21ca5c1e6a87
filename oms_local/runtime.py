"""The hub in one process: moto with the template's resources, Lambda handlers dispatched in-process.

Measured limits of moto this works around (see DESIGN.md): moto is not thread-safe, so one
re-entrant lock serialises its request dispatch; its Lambda backend is replaced by a dispatcher to
the real handlers, returning errorType/errorMessage on exceptions so Retry/Catch behave as on AWS.
"""

from __future__ import annotations

import base64
import copy
import hmac
import importlib
import json
import os
import sys
import threading
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

from oms_local import persistence
from oms_local.state_dir import Snapshot, StateDir
from oms_local.template import (
    ACCOUNT,
    Function,
    LocalTemplate,
    QueueSource,
    Route,
    Schedule,
    StreamSource,
    load,
    queue_url,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = REPO_ROOT / "template.yaml"
DEFAULT_API_KEY = "local-dev-key"
STAGE = "local"

_moto_lock = threading.RLock()
_dispatch: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
_running = threading.local()
# powertools' event handler keeps the request being resolved in class attributes (BaseRouter): one
# request per process, as on Lambda. API handlers therefore run one at a time here; the state
# machine and its Lambda tasks still run alongside them.
_api_invocations = threading.Lock()


def running_function() -> str | None:
    """The function whose handler runs on this thread (None outside handlers: callers, the state machine)."""
    return getattr(_running, "name", None)


def _run_as(name: str, target: Callable[[dict[str, Any], Any], Any], event: Any, context: Any) -> Any:
    outer = running_function()
    _running.name = name
    try:
        return target(event, context)
    finally:
        _running.name = outer


_patched = False


class _WriteCount:
    """Writes moto has been asked for that a state dir keeps (tables, channel secrets): the saver
    snapshots only when this moved since its last snapshot."""

    OPERATIONS = {
        "dynamodb": {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"},
        "ssm": {"PutParameter", "DeleteParameter", "DeleteParameters"},
    }
    value = 0

    @classmethod
    def seen(cls, event_name: str) -> None:
        _, _, rest = event_name.partition(".")  # "before-send.dynamodb.PutItem"
        service, _, operation = rest.rpartition(".")
        if operation in cls.OPERATIONS.get(service, ()):
            cls.value += 1


class _ScaledSleep:
    """Stands in for the `time` module of moto's ASL retrier, which only calls time.sleep."""

    scale = 1.0

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.scale)


_retry_sleep = _ScaledSleep()


def _patch_moto() -> None:
    """Serialise moto and send Lambda invocations to the in-process handlers (idempotent)."""
    global _patched
    if _patched:
        return
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original_call = BotocoreStubber.__call__

    def locked_call(self: Any, event_name: str, *args: Any, **kwargs: Any) -> Any:
        with _moto_lock:
            _WriteCount.seen(event_name)
            return original_call(self, event_name, *args, **kwargs)

    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any) -> bytes:
        name = function_name.rsplit(":function:", maxsplit=1)[-1].split(":", maxsplit=1)[0]
        target = _dispatch.get(name)
        if target is None:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": "ResourceNotFoundException", "errorMessage": name}).encode()
        try:
            result = _run_as(name, target, json.loads(body or "null"), _context_for(name))
        except Exception as error:  # noqa: BLE001 - every failure becomes a Lambda function error
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(
                {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exception(error)[-3:],
                }
            ).encode()
        return json.dumps(result).encode()

    original_executions = StepFunctionsParserBackend._get_executions

    def started_executions(self: Any, *args: Any, **kwargs: Any) -> list[Any]:
        # SendTaskSuccess/Failure/Heartbeat look through the executions for the token's owner and fail
        # with AttributeError on one whose worker is still parsing its definition (no environment for
        # about 0.3 s after StartExecution). Such an execution has issued no token: leave it out.
        return [
            e
            for e in original_executions(self, *args, **kwargs)
            if e.exec_worker is not None and e.exec_worker.env is not None
        ]

    original_validate = StepFunctionsParserBackend._validate_definition
    validated: set[str] = set()

    def validate_once(definition: str) -> None:
        # CreateStateMachine parses the definition with moto's ANTLR grammar only to validate it, and
        # throws the parse away: about 0.7 s per machine, nine tenths of a hub's start. A definition
        # accepted once is accepted again; a new or changed one is still parsed (and refused if invalid).
        if definition not in validated:
            original_validate(definition=definition)
            validated.add(definition)

    _patch_transactions()
    BotocoreStubber.__call__ = locked_call
    StepFunctionsParserBackend._get_executions = started_executions
    StepFunctionsParserBackend._validate_definition = staticmethod(validate_once)
    LambdaSimpleBackend.invoke = invoke
    retrier_decl.time = _retry_sleep
    _patched = True


def _patch_transactions() -> None:
    """TransactWriteItems with an undo record of the items it touches instead of a copy of each table.

    moto backs up every table a transaction names with copy.deepcopy, once per transaction item, and on
    a cancellation swaps the copies in (with their stream shards: a reader's iterator is left on the
    abandoned shard). An intake then costs time in proportion to the stock table's size (763 ms at 1,000
    rows, 3.7 s at 30,000). Here the backup is the table itself, and a cancelled transaction restores the
    touched items and drops the stream records it wrote: the same all-or-nothing, at the cost of the
    items touched."""
    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class _TablesNotCopied:
        """The `copy` module as moto's backend sees it: a Table is its own backup."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    original = DynamoDBBackend.transact_write_items

    def touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Table, Any, Any, Any]]:
        """(table, hash, range, a copy of the item as it is now or None) for each item named."""
        found = []
        for entry in transact_items:
            for op in entry.values():
                table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
                key = (op.get("Key") or op.get("Item")) if table is not None else None
                if not key or table.hash_key_attr not in key:
                    continue  # moto itself refuses it
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
                if table.has_range_key and range_value is None:
                    continue
                found.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
        return found

    def restore(table: Table, hash_value: Any, range_value: Any, before: Any) -> None:
        if range_value is not None:
            if before is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = before
        elif before is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = before

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        undo = touched(self, transact_items)
        streams = {id(t): (t.stream_shard, len(t.stream_shard.items)) for t, *_ in undo if t.stream_shard}
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, before in reversed(undo):
                restore(table, hash_value, range_value, before)
            for shard, length in streams.values():
                del shard.items[length:]  # a cancelled transaction wrote no stream record
            raise

    dynamodb_models.copy = _TablesNotCopied()  # type: ignore[assignment]
    DynamoDBBackend.transact_write_items = transact_write_items


def _context_for(name: str, timeout_s: int = 30, memory: int = 512) -> Any:
    deadline = time.monotonic() + timeout_s
    return SimpleNamespace(
        function_name=name,
        function_version="$LATEST",
        memory_limit_in_mb=memory,
        invoked_function_arn=f"arn:aws:lambda:{os.environ.get('AWS_DEFAULT_REGION', 'eu-central-1')}:{ACCOUNT}:function:{name}",
        aws_request_id=str(uuid.uuid4()),
        log_group_name=f"/aws/lambda/{name}",
        log_stream_name="local",
        get_remaining_time_in_millis=lambda: max(int((deadline - time.monotonic()) * 1000), 0),
    )


@dataclass(frozen=True)
class SaveCost:
    """One snapshot: `locked_ms` is how long it held moto and the API (requests wait that long at
    most), `total_ms` runs from asking for the locks to the file renamed."""

    rows: int
    bytes: int
    locked_ms: float
    total_ms: float


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


class LocalHub:
    """Start with `with LocalHub() as hub:`; `hub.http(...)` answers as API Gateway would."""

    def __init__(
        self,
        template_path: Path = TEMPLATE,
        api_key: str | None = None,
        deadline_cap_seconds: int | None = None,
        retry_time_scale: float = 1.0,
        state_timeouts: Mapping[str, Mapping[str, int]] | None = None,
        queue_retry_seconds: int | None = None,
        state_dir: Path | None = None,
        save_every_seconds: float = 1.0,
    ) -> None:
        """For tests and demos, through the same ASL: `deadline_cap_seconds` shortens every
        TimeoutSeconds (14-day deadlines run in seconds); `state_timeouts` sets the TimeoutSeconds of
        named states only ({state machine logical id: {state: seconds}}: one status's KPI);
        `retry_time_scale` multiplies the sleeps between a state's Retry attempts (moto sleeps for real);
        `queue_retry_seconds` makes a failed SQS message visible again after that many seconds instead of
        the queue's VisibilityTimeout. `state_dir` keeps the tables and channel secrets there across
        restarts (oms_local/state_dir.py), snapshotting at most every `save_every_seconds` while writes
        happen and on stop; open orders' lifecycles resume on start (oms_local/resume.py)."""
        self.template: LocalTemplate = load(template_path)
        self.deadline_cap_seconds = deadline_cap_seconds
        self.state_timeouts = {machine: dict(states) for machine, states in (state_timeouts or {}).items()}
        self.retry_time_scale = retry_time_scale
        self.api_key = api_key or os.environ.get("OMS_API_KEY", DEFAULT_API_KEY)
        self._mock: Any = None
        self._clock_stop = threading.Event()
        self._clock: threading.Thread | None = None
        self._handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self._saved_env: dict[str, str | None] = {}
        self.queue_retry_seconds = queue_retry_seconds
        self._pollers: list[QueuePoller] = []
        self.state_dir = state_dir
        self.save_every_seconds = save_every_seconds
        self.restored: Snapshot | None = None  # what start() read from the state dir, if anything
        self.resumed: list[str] = []  # the open orders whose lifecycle start() resumed
        self.saves: list[SaveCost] = []
        self._store: StateDir | None = None
        self._saver: threading.Thread | None = None
        self._saver_stop = threading.Event()
        self._saved_writes = -1
        self._save_lock = threading.Lock()
        self._ssm: Any = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> LocalHub:
        self.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def start(self) -> None:
        if self.state_dir is not None:
            # Before anything starts: an unreadable state dir stops the hub instead of an empty start.
            self._store = StateDir(self.state_dir)
            self.restored = self._store.open()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        # Locally metrics are off; powertools would still warn on every request that none were added.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        self._set_env(self._environment())
        from moto import mock_aws

        _patch_moto()
        self._mock = mock_aws(
            config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        self._mock.start()
        _retry_sleep.scale = self.retry_time_scale
        self._forget_cached_clients()
        self._create_resources()
        if self.restored is not None:
            # Before the stream readers start: restored rows are not changes to announce again.
            persistence.restore(self.template, self.restored)
        for fn in self.template.functions.values():
            self._handlers[fn.logical_id] = self._import(fn)
            _dispatch[fn.name] = self._handlers[fn.logical_id]
        self._pollers = [QueuePoller(self, source) for source in self.template.queue_sources]
        self._pollers += [StreamPoller(self, source) for source in self.template.stream_sources]
        for poller in self._pollers:
            poller.start()
        if self._store is not None:
            if self.restored is not None:
                self.resumed = persistence.resume_lifecycles(self)
            self._saved_writes = _WriteCount.value if self.restored is not None else -1
            self._saver_stop.clear()
            self._saver = threading.Thread(target=self._save_while_running, name="oms-hub-state", daemon=True)
            self._saver.start()

    def stop(self) -> None:
        self._clock_stop.set()
        if self._clock is not None:
            self._clock.join(timeout=30)
            self._clock = None
        if self._store is not None and self._handlers:
            self._settle_before_saving()  # while the lifecycle and the stream readers still run
        for poller in self._pollers:
            poller.stop()
        self._pollers = []
        try:
            self._save_on_stop()
            if self._mock is not None:
                self._stop_executions()
        finally:
            for fn in self.template.functions.values():
                _dispatch.pop(fn.name, None)
            if self._mock is not None:
                self._mock.stop()
                self._mock = None
            _retry_sleep.scale = 1.0
            self._forget_cached_clients()
            if self._store is not None:
                self._store.close()
                self._store = None
            self._ssm = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    # ------------------------------------------------------------------ state dir
    def save(self) -> SaveCost:
        """Snapshot the tables and channel secrets into the state dir now (atomically)."""
        if self._store is None:
            raise RuntimeError("this hub has no state dir")
        began = time.perf_counter()
        # No API request is half-way through its writes (each runs under _api_invocations); lifecycle
        # steps may be, and are idempotent: resume_lifecycles runs them again.
        with _api_invocations, _moto_lock:
            acquired = time.perf_counter()
            writes = _WriteCount.value
            if self._ssm is None:  # one client for every snapshot: creating one takes longer than a capture
                import boto3

                self._ssm = boto3.client("ssm", region_name=self.template.region)
            snapshot = persistence.capture(self.template, self._ssm)
        captured = time.perf_counter()
        with self._save_lock:  # the saver's and a caller's snapshot: the later capture lands last
            if writes < self._saved_writes:
                return SaveCost(0, 0, (captured - acquired) * 1000, (time.perf_counter() - began) * 1000)
            size = self._store.save(snapshot)
            self._saved_writes = writes
        cost = SaveCost(
            rows=sum(len(items) for items in snapshot.tables.values()),
            bytes=size,
            locked_ms=(captured - acquired) * 1000,
            total_ms=(time.perf_counter() - began) * 1000,
        )
        self.saves = [*self.saves[-99:], cost]
        return cost

    def _save_while_running(self) -> None:
        while not self._saver_stop.wait(self.save_every_seconds):
            if _WriteCount.value != self._saved_writes:
                try:
                    self.save()
                except Exception:  # noqa: BLE001 - a failed save (disk full) is retried at the next tick
                    traceback.print_exc()

    def _settle_before_saving(self) -> None:
        """Accepted events reach their next step, then the stream readers deliver what is written, so
        the last snapshot holds their effects (the restored stream starts empty: a change not yet
        announced would never be)."""
        persistence.settle_events(self)
        try:
            self.settle(timeout=persistence.SETTLE_SECONDS)
        except (TimeoutError, RuntimeError):
            traceback.print_exc()

    def _save_on_stop(self) -> None:
        if self._saver is not None:
            self._saver_stop.set()
            self._saver.join(timeout=60)
            self._saver = None
        if self._store is None or self._mock is None or not self._handlers:
            return  # nothing started: the state dir keeps what it had
        self.save()

    def _stop_executions(self) -> None:
        """moto's interpreter threads outlive the mock: stop them so none writes into the next hub."""
        import boto3

        sfn = boto3.client("stepfunctions", region_name=self.template.region)
        for machine in sfn.list_state_machines()["stateMachines"]:
            for page in sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"
            ):
                for execution in page["executions"]:
                    try:
                        sfn.stop_execution(executionArn=execution["executionArn"], cause="local hub stopped")
                    except Exception:  # noqa: BLE001 - moto cannot stop an execution whose worker has not started
                        continue

    def _environment(self) -> dict[str, str]:
        env = {
            "AWS_DEFAULT_REGION": self.template.region,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_DEV": "false",
        }
        # All functions share one process, so their variables must agree wherever they overlap.
        for fn in self.template.functions.values():
            for key, value in fn.environment.items():
                if env.get(key, value) != value:
                    raise ValueError(f"functions disagree on {key}: {env[key]!r} vs {value!r}")
                env[key] = value
        env["POWERTOOLS_LOG_LEVEL"] = os.environ.get("OMS_LOG_LEVEL", env.get("POWERTOOLS_LOG_LEVEL", "INFO"))
        return env

    def _set_env(self, env: Mapping[str, str]) -> None:
        for key, value in env.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    @staticmethod
    def _forget_cached_clients() -> None:
        """The functions cache clients, settings and reference data per container; a new hub is a new container."""
        forget = {"common.aws": "reset", "reference.config_table": "forget", "common.secrets": "forget"}
        for module, function in forget.items():
            if module in sys.modules:  # whichever of them this process has imported so far
                getattr(sys.modules[module], function)()
        if "common.config" in sys.modules:
            sys.modules["common.config"].settings.cache_clear()

    def _create_resources(self) -> None:
        import boto3

        region = self.template.region
        ddb = boto3.client("dynamodb", region_name=region)
        for request in self.template.tables.values():
            ddb.create_table(**request)
        sfn = boto3.client("stepfunctions", region_name=region)
        for logical_id, machine in self.template.state_machines.items():
            definition = self._capped(machine["definition"], self.state_timeouts.get(logical_id, {}))
            if self.state_dir is not None:
                definition = persistence.resumable_definition(logical_id, definition)
            sfn.create_state_machine(
                name=machine["name"],
                definition=definition,
                type=machine["type"],
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/{machine['name']}",
            )
        events = boto3.client("events", region_name=region)
        for bus in self.template.event_buses.values():
            events.create_event_bus(Name=bus)
        sqs = boto3.client("sqs", region_name=region)
        for request in self.template.queues.values():
            sqs.create_queue(**request)

    def _capped(self, definition: str, state_timeouts: Mapping[str, int]) -> str:
        if self.deadline_cap_seconds is None and not state_timeouts:
            return definition
        parsed = json.loads(definition)
        for name, seconds in state_timeouts.items():
            parsed["States"][name]["TimeoutSeconds"] = seconds
        if self.deadline_cap_seconds is None:
            return json.dumps(parsed)
        cap = self.deadline_cap_seconds

        def shorten(node: Any) -> Any:
            if isinstance(node, dict):
                return {k: min(v, cap) if k == "TimeoutSeconds" else shorten(v) for k, v in node.items()}
            if isinstance(node, list):
                return [shorten(v) for v in node]
            return node

        return json.dumps(shorten(parsed))

    @staticmethod
    def _import(fn: Function) -> Callable[[dict[str, Any], Any], Any]:
        code_dir = str(fn.code_dir.resolve())
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)
        module_name, _, attribute = fn.handler.rpartition(".")
        return getattr(importlib.import_module(module_name), attribute)

    # ------------------------------------------------------------------ schedules
    def fire_schedules(self, *names: str, at: datetime | None = None) -> dict[str, Any]:
        """Invoke the functions of the template's schedules (all, or those named `Function.Event`) once,
        with the event EventBridge would send; returns each one's result. Tests drive schedules with it."""
        moment = at or datetime.now(UTC)
        unknown = set(names) - {s.name for s in self.template.schedules}
        if unknown:
            raise KeyError(f"no such schedule: {sorted(unknown)}")
        return {
            schedule.name: self.invoke(schedule.function, self._scheduled_event(schedule, moment))
            for schedule in self.template.schedules
            if not names or schedule.name in names
        }

    def _scheduled_event(self, schedule: Schedule, moment: datetime) -> dict[str, Any]:
        if schedule.payload is not None:
            return schedule.payload
        rule = f"arn:aws:events:{self.template.region}:{ACCOUNT}:rule/{self.template.stack}-{schedule.name}"
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.template.region,
            "resources": [rule],
            "detail": {},
        }

    def start_clock(self) -> None:
        """Fire every schedule at its rate or cron times, on a background thread, until the hub stops
        (`oms-hub local` runs it; moto's EventBridge never fires scheduled rules)."""
        if self._clock is not None or not self.template.schedules:
            return
        self._clock_stop.clear()
        self._clock = threading.Thread(target=self._tick, name="oms-hub-clock", daemon=True)
        self._clock.start()

    def _tick(self) -> None:
        now = datetime.now(UTC)
        due = {schedule.name: schedule.next_after(now) for schedule in self.template.schedules}
        by_name = {schedule.name: schedule for schedule in self.template.schedules}
        while True:
            name = min(due, key=due.__getitem__)
            wait = (due[name] - datetime.now(UTC)).total_seconds()
            if self._clock_stop.wait(max(wait, 0)):
                return
            try:
                self.fire_schedules(name, at=due[name])
            except Exception:  # noqa: BLE001 - as on AWS, a failed run does not stop the schedule
                traceback.print_exc()
            due[name] = by_name[name].next_after(max(due[name], datetime.now(UTC)))

    # ------------------------------------------------------------------ calls
    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the stream readers have delivered every row change written so far (tests call this
        before looking at what the stream consumers wrote)."""
        deadline = time.monotonic() + timeout
        while not all(p.caught_up() for p in self._pollers if isinstance(p, StreamPoller)):
            if time.monotonic() > deadline:
                raise TimeoutError("stream readers did not catch up")
            time.sleep(0.02)

    def stream_reader(self, function: str) -> StreamPoller:
        return next(p for p in self._pollers if isinstance(p, StreamPoller) and p.source.function == function)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        fn = self.template.functions[logical_id]
        return _run_as(fn.name, self._handlers[logical_id], event, _context_for(fn.name, fn.timeout, fn.memory))

    def http(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        source_ip: str = "127.0.0.1",
    ) -> HttpAnswer:
        """Answer one request as API Gateway (REST, proxy integration) would."""
        headers = dict(headers or {})
        lower = {k.lower(): v for k, v in headers.items()}
        route, params = self._match(method.upper(), path)
        if route is None:
            return self._gateway("MISSING_AUTHENTICATION_TOKEN")
        if route.api_key_required and not hmac.compare_digest(
            lower.get("x-api-key", "").encode(), self.api_key.encode()
        ):
            return self._gateway("INVALID_API_KEY")
        event = self._proxy_event(route, method.upper(), path, params, query, headers, body, source_ip)
        try:
            with _api_invocations:
                answer = self.invoke(route.function, event)
        except Exception:  # noqa: BLE001 - an unhandled function error is API Gateway's 502/5xx
            traceback.print_exc()
            return self._gateway("DEFAULT_5XX", 502)
        out_headers = {k: str(v) for k, v in (answer.get("headers") or {}).items()}
        for key, values in (answer.get("multiValueHeaders") or {}).items():
            out_headers[key] = ", ".join(str(v) for v in values)
        raw = answer.get("body") or ""
        data = base64.b64decode(raw) if answer.get("isBase64Encoded") else raw.encode()
        return HttpAnswer(int(answer.get("statusCode", 200)), out_headers, data)

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in self.template.routes:
            if route.method not in (method, "ANY"):
                continue
            found = route.pattern().match(path)
            if found:
                return route, found.groupdict()
        return None, {}

    def _gateway(self, response_type: str, status: int | None = None) -> HttpAnswer:
        configured = self.template.gateway_responses.get(response_type)
        if configured is None:
            configured = self.template.gateway_responses["DEFAULT_5XX" if (status or 400) >= 500 else "DEFAULT_4XX"]
        # API Gateway fills this variable of a response template with a quoted JSON string.
        body = configured.body.replace("$context.error.messageString", json.dumps(response_type.lower()))
        return HttpAnswer(status or configured.status, {"Content-Type": "application/json"}, body.encode())

    @staticmethod
    def _proxy_event(
        route: Route,
        method: str,
        path: str,
        params: dict[str, str],
        query: str,
        headers: dict[str, str],
        body: bytes,
        source_ip: str,
    ) -> dict[str, Any]:
        pairs = parse_qsl(query, keep_blank_values=True)
        multi_query: dict[str, list[str]] = {}
        for key, value in pairs:
            multi_query.setdefault(key, []).append(value)
        # The API declares no binary media types, so API Gateway hands every body over as text.
        text, encoded = body.decode("utf-8", errors="replace"), False
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": headers or None,
            "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/{STAGE}{path}",
                "stage": STAGE,
                "requestId": str(uuid.uuid4()),
                "accountId": ACCOUNT,
                "apiId": "local",
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {
                    "sourceIp": source_ip,
                    "userAgent": headers.get("user-agent", ""),
                    "apiKey": headers.get("x-api-key") if route.api_key_required else None,
                },
            },
            "body": text or None,
            "isBase64Encoded": encoded,
        }


class QueuePoller:
    """Lambda's SQS event source, locally: batches of up to BatchSize messages to the function; with
    ReportBatchItemFailures only the reported messages stay (the rest are deleted), without it a
    failed invocation keeps the whole batch. A kept message comes back after the visibility timeout,
    and moto moves it to the dead-letter queue once its receive count passes maxReceiveCount."""

    IDLE_SECONDS = 0.05

    def __init__(self, hub: LocalHub, source: QueueSource) -> None:
        self.hub = hub
        self.source = source
        self.url = queue_url(hub.template.region, source.queue_arn.rsplit(":", 1)[-1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sqs-{source.function}", daemon=True)
        self.invocations = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        import boto3

        # Lambda's event source polls with the function's role (SAM's SQSPollerPolicy), not inside it.
        _running.name = f"event-source:{self.source.function}"
        sqs = boto3.client("sqs", region_name=self.hub.template.region)
        while not self._stop.is_set():
            try:
                messages = sqs.receive_message(
                    QueueUrl=self.url,
                    MaxNumberOfMessages=self.source.batch_size,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except Exception:  # noqa: BLE001 - the mock is stopping under us
                return
            if not messages:
                self._stop.wait(self.IDLE_SECONDS)
                continue
            failed = self._deliver(messages)
            for message in messages:
                if message["MessageId"] in failed:
                    if self.hub.queue_retry_seconds is not None:
                        sqs.change_message_visibility(
                            QueueUrl=self.url,
                            ReceiptHandle=message["ReceiptHandle"],
                            VisibilityTimeout=self.hub.queue_retry_seconds,
                        )
                else:
                    sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def _deliver(self, messages: list[dict[str, Any]]) -> set[str]:
        """Invoke the function with one batch; the ids of the messages that must stay in the queue."""
        region = self.hub.template.region
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": m.get("MessageAttributes", {}),
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.source.queue_arn,
                    "awsRegion": region,
                }
                for m in messages
            ]
        }
        self.invocations += 1
        try:
            answer = self.hub.invoke(self.source.function, event)
        except Exception:  # noqa: BLE001 - a failed invocation keeps the whole batch, as on AWS
            traceback.print_exc()
            return {m["MessageId"] for m in messages}
        if not self.source.report_failures:
            return set()
        return {f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])}


class StreamPoller:
    """Lambda's DynamoDB stream event source, locally: reads the table's stream in order and invokes the
    function with batches of up to BatchSize records, waiting up to MaximumBatchingWindowInSeconds to fill
    one. A batch whose invocation fails is tried again, up to MaximumRetryAttempts more times, then its
    shard and sequence range go to the OnFailure queue and reading goes on. (AWS also halves a failing
    batch when BisectBatchOnFunctionError is set; here the whole batch is retried.)

    moto keeps every stream record for ever; records are dropped here once delivered, as DynamoDB drops
    them after 24 hours, so a long local run or a 100,000-row import does not hold them all."""

    IDLE_SECONDS = 0.05
    RETRY_SECONDS = 0.2

    def __init__(self, hub: LocalHub, source: StreamSource) -> None:
        self.hub = hub
        self.source = source
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stream-{source.function}", daemon=True)
        self.invocations = 0
        self.records = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def thread_id(self) -> int | None:
        return self._thread.ident

    def caught_up(self) -> bool:
        """Every record written so far has been delivered (or given up on)."""
        if not self._thread.is_alive():
            raise RuntimeError(f"the stream reader of {self.source.function} has stopped")
        return self._idle.is_set() and not self._pending()

    def _shard(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT][self.hub.template.region].get_table(self.source.table).stream_shard

    def _pending(self) -> int:
        with _moto_lock:
            return len(self._shard().items)

    def _run(self) -> None:
        import boto3

        # Lambda reads the stream with the function's role (SAM adds it with the event source).
        _running.name = f"event-source:{self.source.function}"
        region = self.hub.template.region
        from botocore.config import Config

        # botocore sends stream calls to an account-based endpoint (<account>.streams-ddb...) that moto
        # 5.2 does not route; the regional endpoint is the same API.
        streams = boto3.client(
            "dynamodbstreams", region_name=region, config=Config(account_id_endpoint_mode="disabled")
        )
        arn = boto3.client("dynamodb", region_name=region).describe_table(TableName=self.source.table)["Table"][
            "LatestStreamArn"
        ]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        read_up_to: str | None = None  # sequence number of the last record read

        def read(limit: int) -> list[dict[str, Any]]:
            # A fresh iterator each time: moto replaces the table (and its stream shard) with a copy when a
            # transaction fails, and an old iterator would go on reading the abandoned shard.
            position = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": read_up_to}
                if read_up_to
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **position)["ShardIterator"]
            records = streams.get_records(ShardIterator=iterator, Limit=limit)["Records"]
            self._forget_iterators()
            return records

        while not self._stop.is_set():
            batch: list[dict[str, Any]] = []
            deadline = None
            try:
                while len(batch) < self.source.batch_size and not self._stop.is_set():
                    records = read(self.source.batch_size - len(batch))
                    if records:
                        read_up_to = records[-1]["dynamodb"]["SequenceNumber"]
                        batch += records
                    if not batch:
                        self._idle.set()
                        self._stop.wait(self.IDLE_SECONDS)
                        continue
                    self._idle.clear()
                    deadline = deadline or time.monotonic() + self.source.window_seconds
                    if time.monotonic() >= deadline:
                        break
                    self._stop.wait(min(self.IDLE_SECONDS, max(deadline - time.monotonic(), 0)))
            except Exception:  # noqa: BLE001 - the mock is stopping under us
                return
            if batch:
                self._deliver(batch, arn, shard)
                self._forget(batch)

    def _deliver(self, records: list[dict[str, Any]], arn: str, shard: str) -> None:
        event = {
            "Records": [{**record, "awsRegion": self.hub.template.region, "eventSourceARN": arn} for record in records]
        }
        attempts = 1 + max(self.source.max_retries, 0)
        for attempt in range(attempts):
            self.invocations += 1
            try:
                self.hub.invoke(self.source.function, event)
                self.records += len(records)
                return
            except Exception:  # noqa: BLE001 - a failed batch is retried, then given up on
                traceback.print_exc()
                if attempt + 1 < attempts:
                    self._stop.wait(self.RETRY_SECONDS * self.hub.retry_time_scale)
        if self.source.on_failure_arn:
            import boto3

            sequence = [record["dynamodb"]["SequenceNumber"] for record in records]
            boto3.client("sqs", region_name=self.hub.template.region).send_message(
                QueueUrl=queue_url(self.hub.template.region, self.source.on_failure_arn.rsplit(":", 1)[-1]),
                MessageBody=json.dumps(
                    {
                        "requestContext": {
                            "condition": "RetryAttemptsExhausted",
                            "approximateInvokeCount": attempts,
                            "functionArn": f"arn:aws:lambda:{self.hub.template.region}:{ACCOUNT}:function:"
                            f"{self.hub.template.functions[self.source.function].name}",
                        },
                        "DDBStreamBatchInfo": {
                            "shardId": shard,
                            "startSequenceNumber": sequence[0],
                            "endSequenceNumber": sequence[-1],
                            "batchSize": len(records),
                            "streamArn": arn,
                        },
                    }
                ),
            )

    def _forget_iterators(self) -> None:
        """moto keeps every shard iterator it hands out (two per read here, twenty reads a second when
        idle): without this a day of `oms-hub local` would hold gigabytes of them. This reader is their
        only user."""
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        with _moto_lock:
            dynamodbstreams_backends[ACCOUNT][self.hub.template.region].shard_iterators.clear()

    def _forget(self, records: list[dict[str, Any]]) -> None:
        last = int(records[-1]["dynamodb"]["SequenceNumber"])
        with _moto_lock:
            shard = self._shard()
            delivered = last + 1 - shard.starting_sequence_number
            if delivered > 0:
                del shard.items[:delivered]
                shard.starting_sequence_number += delivered
