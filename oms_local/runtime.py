"""LocalHub: the hub in one process. moto hosts the template's resources (with the patches of
oms_local/moto_patches.py), the functions' handlers run in-process (oms_local/invocation.py), and the
hub composes API Gateway (gateway.py), the event sources (event_sources.py), the schedule clock
(clock.py) and the state dir (state_dir.py, persistence.py) around them."""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import clock as hub_time
from common.clock import HubClock
from oms_local import persistence
from oms_local.clock import ScheduleClock, scheduled_event
from oms_local.cognito import LocalCognito
from oms_local.event_sources import QueuePoller, StreamPoller
from oms_local.gateway import DEFAULT_API_KEY, Gateway, HttpAnswer, HttpRequest, api_invocations
from oms_local.invocation import Handler, context_for, handlers, run_as
from oms_local.moto_patches import WriteCount, moto_lock, patch_moto, retry_sleep, sdk_clients
from oms_local.state_dir import Snapshot, StateDir
from oms_local.template import ACCOUNT, TEMPLATE, Function, LocalTemplate, load


@dataclass(frozen=True)
class SaveCost:
    """One snapshot: `locked_ms` is how long it held moto and the API (requests wait that long at
    most), `total_ms` runs from asking for the locks to the file renamed."""

    rows: int
    bytes: int
    locked_ms: float
    total_ms: float


def forget_cached_clients() -> None:
    """The functions cache clients, settings and reference data per container; a new hub is a new container."""
    forget = {
        "common.aws": "reset",
        "reference.config_table": "forget",
        "common.secrets": "forget",
        "admin.auth.cognito": "forget",
    }
    for module, function in forget.items():
        if module in sys.modules:  # whichever of them this process has imported so far
            getattr(sys.modules[module], function)()
    if "common.config" in sys.modules:
        sys.modules["common.config"].settings.cache_clear()
    sdk_clients.forget()  # and the state machines' own


@functools.cache
def _service_models() -> Any:
    import botocore.loaders

    return botocore.loaders.create_loader()


def _default_session_with_shared_models() -> None:
    """boto3's default session for this hub (moto's mock starts each one without), reading the service
    models through one loader for the process: a new session's first clients (the runtime's, the
    handlers') read botocore's JSON models again, about 0.12 s of CPU per hub. The loader only parses
    and caches those files, as a session's own does for all its clients."""
    import boto3
    import botocore.session

    session = botocore.session.get_session()
    session.register_component("data_loader", _service_models())
    boto3.setup_default_session(botocore_session=session)


class LocalHub:
    """Start with `with LocalHub() as hub:`; `hub.http(...)` answers as API Gateway would."""

    def __init__(  # noqa: PLR0913 - independent knobs of tests and demos, keyword-only, each with its default
        self,
        *,
        template_path: Path = TEMPLATE,
        api_key: str | None = None,
        deadline_cap_seconds: int | None = None,
        retry_time_scale: float = 1.0,
        state_timeouts: Mapping[str, Mapping[str, int]] | None = None,
        queue_retry_seconds: int | None = None,
        state_dir: Path | None = None,
        save_every_seconds: float = 1.0,
        clock_speed: float = 1.0,
    ) -> None:
        """For tests and demos, through the same ASL: `deadline_cap_seconds` shortens every
        TimeoutSeconds (14-day deadlines run in seconds); `state_timeouts` sets the TimeoutSeconds of
        named states only ({state machine logical id: {state: seconds}}: one status's KPI);
        `retry_time_scale` multiplies the sleeps between a state's Retry attempts (moto sleeps for real);
        `queue_retry_seconds` makes a failed SQS message visible again after that many seconds instead of
        the queue's VisibilityTimeout. `state_dir` keeps the tables and channel secrets there across
        restarts (oms_local/state_dir.py), snapshotting at most every `save_every_seconds` while writes
        happen and on stop; open orders' lifecycles resume on start (oms_local/resume.py).
        `clock_speed` runs the hub clock (`hub.clock`, common.clock: schedules, KPIs, state timeouts)
        that many times as fast as real time; `hub.clock.advance(...)` moves it on at once."""
        self.template: LocalTemplate = load(template_path)
        self.clock = HubClock(clock_speed)  # started again, where the state dir left it, by start()
        self.deadline_cap_seconds = deadline_cap_seconds
        self.state_timeouts = {machine: dict(states) for machine, states in (state_timeouts or {}).items()}
        self.retry_time_scale = retry_time_scale
        self.gateway = Gateway(self.template, api_key or os.environ.get("OMS_API_KEY", DEFAULT_API_KEY), self.invoke)
        self._mock: Any = None
        self._schedules_clock: ScheduleClock | None = None
        self._handlers: dict[str, Handler] = {}
        self._saved_env: dict[str, str | None] = {}
        self.queue_retry_seconds = queue_retry_seconds
        self._queue_pollers: list[QueuePoller] = []
        self._stream_pollers: list[StreamPoller] = []
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
        self.cognito = LocalCognito(self.template)  # the template's user pools (the admin page's users)

    @property
    def api_key(self) -> str:
        return self.gateway.api_key

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> LocalHub:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
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
        self.clock = HubClock(self.clock.speed, start=self._hub_time_at_start())
        hub_time.use(self.clock)
        from moto import mock_aws

        patch_moto()
        self._mock = mock_aws(
            config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        self._mock.start()
        _default_session_with_shared_models()
        retry_sleep.scale = self.retry_time_scale
        forget_cached_clients()
        self._create_resources()
        self.cognito.start()
        # The functions' pool and client ids are moto's, known only now; their key set is served locally.
        self._set_env({key: self.cognito.rewrite(os.environ[key]) for key in self._saved_env})
        if self.restored is not None:
            # Before the stream readers start: restored rows are not changes to announce again.
            persistence.restore(self.template, self.restored)
        for fn in self.template.functions.values():
            self._handlers[fn.logical_id] = self._import(fn)
            handlers[fn.name] = self._handlers[fn.logical_id]
        self._queue_pollers = [QueuePoller(self, source) for source in self.template.queue_sources]
        self._stream_pollers = [StreamPoller(self, source) for source in self.template.stream_sources]
        for poller in self._event_sources():
            poller.start()
        if self._store is not None:
            if self.restored is not None:
                self.resumed = persistence.resume_lifecycles(self)
            self._saved_writes = WriteCount.value if self.restored is not None else -1
            self._saver_stop.clear()
            self._saver = threading.Thread(target=self._save_while_running, name="oms-hub-state", daemon=True)
            self._saver.start()

    def _event_sources(self) -> list[QueuePoller | StreamPoller]:
        return [*self._queue_pollers, *self._stream_pollers]

    def stop(self) -> None:
        if self._schedules_clock is not None:
            self._schedules_clock.stop()
            self._schedules_clock = None
        if self._store is not None and self._handlers:
            self._settle_before_saving()  # while the lifecycle and the stream readers still run
        for poller in self._event_sources():
            poller.stop()
        self._queue_pollers, self._stream_pollers = [], []
        try:
            self._save_on_stop()
            if self._mock is not None:
                self._stop_executions()
        finally:
            self._stop_mock()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def _stop_mock(self) -> None:
        for fn in self.template.functions.values():
            handlers.pop(fn.name, None)
        self.cognito.stop()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        retry_sleep.scale = 1.0
        hub_time.use(None)
        forget_cached_clients()
        if self._store is not None:
            self._store.close()
            self._store = None
        self._ssm = None

    # ------------------------------------------------------------------ state dir
    def save(self) -> SaveCost:
        """Snapshot the tables and channel secrets into the state dir now (atomically)."""
        if self._store is None:
            raise RuntimeError("this hub has no state dir")
        began = time.perf_counter()
        # No API request is half-way through its writes (each runs under api_invocations); lifecycle
        # steps may be, and are idempotent: resume_lifecycles runs them again.
        with api_invocations, moto_lock:
            acquired = time.perf_counter()
            writes = WriteCount.value
            if self._ssm is None:  # one client for every snapshot: creating one takes longer than a capture
                import boto3

                self._ssm = boto3.client("ssm", region_name=self.template.region)
            snapshot = persistence.capture(self.template, self._ssm)
            snapshot.hub_ahead_seconds = (self.clock.now() - datetime.now(UTC)).total_seconds()
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
            if WriteCount.value != self._saved_writes:
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
                    # moto cannot stop an execution whose worker has not started: that one ends by itself.
                    with contextlib.suppress(Exception):
                        sfn.stop_execution(executionArn=execution["executionArn"], cause="local hub stopped")

    def _hub_time_at_start(self) -> datetime:
        """Now, or as far ahead of it as the restored hub's clock was when saved: hub time never goes back
        across a restart, whatever the clock speed of either run (the time it was stopped passes at 1x)."""
        ahead = self.restored.hub_ahead_seconds if self.restored is not None else 0.0
        return datetime.now(UTC) + timedelta(seconds=max(ahead, 0.0))

    # ------------------------------------------------------------------ resources
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
        # moto's EventBridge sends a matching event to an SQS target itself, as EventBridge does.
        for rule in self.template.rules.values():
            events.put_rule(Name=rule.name, EventBusName=rule.bus, EventPattern=rule.pattern, State="ENABLED")
            events.put_targets(
                Rule=rule.name, EventBusName=rule.bus, Targets=[{"Id": i, "Arn": arn} for i, arn in rule.targets]
            )

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
    def _import(fn: Function) -> Handler:
        code_dir = str(fn.code_dir.resolve())
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)
        module_name, _, attribute = fn.handler.rpartition(".")
        handler: Handler = getattr(importlib.import_module(module_name), attribute)
        return handler

    # ------------------------------------------------------------------ schedules
    def fire_schedules(self, *names: str, at: datetime | None = None) -> dict[str, Any]:
        """Invoke the functions of the template's schedules (all, or those named `Function.Event`) once,
        with the event EventBridge would send; returns each one's result. Tests drive schedules with it."""
        moment = at or self.clock.now()
        unknown = set(names) - {s.name for s in self.template.schedules}
        if unknown:
            raise KeyError(f"no such schedule: {sorted(unknown)}")
        return {
            schedule.name: self.invoke(schedule.function, scheduled_event(self.template, schedule, moment))
            for schedule in self.template.schedules
            if not names or schedule.name in names
        }

    def start_clock(self) -> None:
        """Fire every schedule at its rate or cron times, on a background thread, until the hub stops
        (`oms-hub local` runs it)."""
        if self._schedules_clock is not None or not self.template.schedules:
            return
        self._schedules_clock = ScheduleClock(
            self.template.schedules, lambda name, due: self.fire_schedules(name, at=due), self.clock
        )
        self._schedules_clock.start()

    # ------------------------------------------------------------------ calls
    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the stream readers have delivered every row change written so far (tests call this
        before looking at what the stream consumers wrote)."""
        deadline = time.monotonic() + timeout
        while not all(p.caught_up() for p in self._stream_pollers):
            if time.monotonic() > deadline:
                raise TimeoutError("stream readers did not catch up")
            time.sleep(0.02)

    def stream_reader(self, function: str) -> StreamPoller:
        return next(p for p in self._stream_pollers if p.source.function == function)

    def queue_reader(self, function: str) -> QueuePoller:
        return next(p for p in self._queue_pollers if p.source.function == function)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        fn = self.template.functions[logical_id]
        return run_as(fn.name, self._handlers[logical_id], event, context_for(fn.name, fn.timeout, fn.memory))

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
        return self.gateway.answer(HttpRequest(method, path, query, dict(headers or {}), body, source_ip))
