"""What the hub changes in moto, each for a measured reason (see DESIGN.md).

moto is not thread-safe, so one re-entrant lock serialises its request dispatch; its Lambda backend is
replaced by a dispatcher to the real handlers, returning errorType/errorMessage on exceptions so
Retry/Catch behave as on AWS; Step Functions skips re-validating a definition it accepted and hides
executions still starting; its timeouts and the times it reports follow the hub clock (common.clock);
the ASL retrier's sleeps can be scaled; TransactWriteItems keeps an undo record instead of copying
every table it names; a Query reads its partition instead of walking the whole table, and copies and
sizes only what it returns (or must project, filter or count) once; DynamoDB
expressions are parsed once per text and attribute values serialised without moto's attribute picker.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import functools
import json
import logging
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, NamedTuple

from common import clock as hub_time
from oms_local.accepted_definitions import AcceptedDefinitions, cache_directory
from oms_local.invocation import context_for, handlers, run_as

moto_lock = threading.RLock()
ASL_LOGGER = "moto.stepfunctions.parser.asl"


class WriteCount:
    """Writes moto has been asked for that a state dir keeps (tables, channel secrets): the saver
    snapshots only when this moved since its last snapshot."""

    OPERATIONS: ClassVar[dict[str, frozenset[str]]] = {
        "dynamodb": frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}),
        "ssm": frozenset({"PutParameter", "DeleteParameter", "DeleteParameters"}),
    }
    value: ClassVar[int] = 0

    @classmethod
    def seen(cls, event_name: str) -> None:
        _, _, rest = event_name.partition(".")  # "before-send.dynamodb.PutItem"
        service, _, operation = rest.rpartition(".")
        if operation in cls.OPERATIONS.get(service, ()):
            cls.value += 1


class Deliverables:
    """Wakes the local event sources when moto is asked for a write they may have to deliver (a message
    sent or made visible again, a table write that reaches a stream), so an idle source waits instead of
    asking moto 20 times a second. Each service wakes only its own sources: a queue poller sleeps through
    table writes, a stream reader through sends. Sources still look again after `wait`'s timeout: a
    message whose delay or visibility timeout runs out becomes receivable without any write."""

    OPERATIONS: ClassVar[dict[str, frozenset[str]]] = {
        "sqs": frozenset(
            {"SendMessage", "SendMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"}
        ),
        "dynamodb": WriteCount.OPERATIONS["dynamodb"],
    }
    _changed: ClassVar[dict[str, threading.Condition]] = {service: threading.Condition() for service in OPERATIONS}
    _generation: ClassVar[dict[str, int]] = dict.fromkeys(OPERATIONS, 0)

    # Calls that write to another service's sources: moto's EventBridge sends to SQS targets itself.
    WAKES_ALSO: ClassVar[dict[tuple[str, str], str]] = {("events", "PutEvents"): "sqs"}

    @classmethod
    def seen(cls, event_name: str) -> None:
        _, _, rest = event_name.partition(".")
        service, _, operation = rest.rpartition(".")
        if operation in cls.OPERATIONS.get(service, ()):
            cls.wake(service)
        elif (service, operation) in cls.WAKES_ALSO:
            cls.wake(cls.WAKES_ALSO[service, operation])

    @classmethod
    def wake(cls, service: str | None = None) -> None:
        """Every source waiting on `service` (on any, if None: how a stopping source is woken) looks again."""
        for name in [service] if service else list(cls._changed):
            with cls._changed[name]:
                cls._generation[name] += 1
                cls._changed[name].notify_all()

    @classmethod
    def generation(cls, service: str) -> int:
        """Read before looking, passed to `wait` after finding nothing: a write in between is not missed."""
        return cls._generation[service]

    @classmethod
    def wait(cls, service: str, generation: int, timeout: float) -> None:
        with cls._changed[service]:
            cls._changed[service].wait_for(lambda: cls._generation[service] != generation, timeout)


class ScaledSleep:
    """Stands in for the `time` module of moto's ASL retrier, which only calls time.sleep."""

    scale = 1.0

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.scale)


retry_sleep = ScaledSleep()


def _replace(owner: Any, attribute: str, replacement: Any) -> None:
    setattr(owner, attribute, replacement)


@functools.cache  # once per process: the patches stay for every hub that follows
def patch_moto() -> None:
    """Serialise moto and send Lambda invocations to the in-process handlers."""
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    original_call = BotocoreStubber.__call__

    def locked_call(self: Any, event_name: str, *args: Any, **kwargs: Any) -> Any:
        with moto_lock:
            WriteCount.seen(event_name)
            # Woken sources queue on moto_lock behind this call, so they see what it writes.
            Deliverables.seen(event_name)
            return original_call(self, event_name, *args, **kwargs)

    _patch_step_functions()
    _patch_transactions()
    _patch_index_queries()
    _patch_query_copies()
    _patch_update_expressions()
    _patch_update_validation()
    _patch_condition_expressions()
    _patch_attribute_value_serialisation()
    _patch_stream_records_serialisation()
    _replace(BotocoreStubber, "__call__", locked_call)
    _replace(LambdaSimpleBackend, "invoke", _invoke)
    # moto's ASL interpreter logs every failure event at ERROR with its state's whole parse tree (tens of
    # KB a line), also those a Catch handles by design (a hold or a KPI timing out). Step Functions logs
    # nothing of the kind: the execution history, which the hub reads, records them.
    logging.getLogger(ASL_LOGGER).setLevel(logging.CRITICAL)
    _replace(retrier_decl, "time", retry_sleep)


def _invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any) -> bytes:
    """LambdaSimpleBackend.invoke: the function's handler, in this process."""
    name = function_name.rsplit(":function:", maxsplit=1)[-1].split(":", maxsplit=1)[0]
    target = handlers.get(name)
    if target is None:
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": "ResourceNotFoundException", "errorMessage": name}).encode()
    try:
        result = run_as(name, target, json.loads(body or "null"), context_for(name))
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


def _patch_step_functions() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

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
    accepted = AcceptedDefinitions(cache_directory())

    def validate_once(definition: str) -> None:
        # CreateStateMachine parses the definition with moto's ANTLR grammar only to validate it, and
        # throws the parse away: about 0.7 s per machine, nine tenths of a hub's start. A definition
        # accepted once is accepted again, also by a later process; a new or changed one is still parsed
        # (and refused if invalid).
        accepted.validate(definition, lambda text: original_validate(definition=text))

    _replace(StepFunctionsParserBackend, "_get_executions", started_executions)
    _replace(StepFunctionsParserBackend, "_validate_definition", staticmethod(validate_once))
    _patch_execution_start()
    _patch_execution_stop()
    _patch_task_token_outcomes()
    _patch_interpreter_threads()
    _patch_hub_time()
    sdk_clients.patch()


def _patch_execution_start() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    programs: dict[str, Any] = {}
    building = threading.Lock()  # executions started together wait for one build, not one each

    def one_program_per_definition(worker: Any) -> Any:
        # Every StartExecution runs the definition through moto's ANTLR grammar (0.15-0.3 s) and builds a
        # program from the tree (about 0.035 s, a quarter of an intake's CPU). The program's components
        # are read-only: what an execution changes (input, stack, heap, retry counts, tokens) lives in its
        # Environment, so every execution of a definition runs the one program built for it.
        definition = worker._evaluation_details.state_machine_details.definition
        with building:
            program = programs.get(definition)
            if program is None:
                program = programs[definition] = AmazonStateLanguageParser.parse(definition)[0]
                _fix_heap_keys(program)
        return program

    _replace(ExecutionWorker, "_get_evaluation_entrypoint", one_program_per_definition)


def _patch_execution_stop() -> None:
    from moto.stepfunctions.parser.backend.execution import Execution

    original_stop = Execution.stop

    def stop_now(self: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
        # On AWS StopExecution ends an execution at once (ABORTED). moto marks its program stopped but
        # leaves a waitForTaskToken task waiting for its token (a day, for an order's wait), the execution
        # RUNNING all along; waking the task's callback ends it now (moto reports it FAILED). Before the
        # worker has its environment (its first 0.3 s) moto's stop fails with AttributeError: there is
        # nothing to stop yet.
        worker = self.exec_worker
        if worker is None or worker.env is None:
            return
        original_stop(self, stop_date=stop_date, error=error, cause=cause)
        for endpoint in list(worker.env.callback_pool_manager._pool.values()):
            endpoint.interrupt_all()

    _replace(Execution, "stop", stop_now)


def _fix_heap_keys(program: Any) -> None:
    """A component draws its heap key (where a Retrier keeps its attempt count in an execution's heap)
    the first time it is asked; executions sharing the program must not draw two. Draw every key now."""
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    pending: list[Any] = [program]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, EvalComponent):
            _ = node.heap_key
        if isinstance(node, Component):
            pending.extend(vars(node).values())
        elif isinstance(node, list | tuple | set | frozenset):
            pending.extend(node)
        elif isinstance(node, dict):
            pending.extend(node.values())


class _RunsHere:
    """A Thread whose start() runs its target on the calling thread."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def start(self) -> None:
        self._target()

    def is_alive(self) -> bool:
        return False


_TOKEN_OUTCOMES = threading.Lock()


def _patch_task_token_outcomes() -> None:
    """A task token's end is decided once: either its SendTaskSuccess/Failure arrives in time, or the wait
    times out (or the task ends) and the token answers TaskTimedOut (TaskDoesNotExist) from then on, as on
    AWS. moto never marks a timed-out wait, so a SendTaskSuccess after the deadline succeeded and went
    nowhere: the event was lost while the execution took its timeout path."""
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackConsumerLeft,
        CallbackConsumerTimeout,
        CallbackEndpoint,
        CallbackNotifyConsumerError,
    )

    original_notify = CallbackEndpoint.notify
    original_interrupt = CallbackEndpoint.interrupt_all

    def wait(self: Any, timeout: float | None = None) -> Any:
        self._notify_event.wait(timeout=timeout)
        with _TOKEN_OUTCOMES:
            if self._outcome is None and self.consumer_error is None:
                self.consumer_error = CallbackConsumerTimeout()
            return self._outcome

    def notify(self: Any, outcome: Any) -> None:
        with _TOKEN_OUTCOMES:
            if self.consumer_error is not None:
                raise CallbackNotifyConsumerError(callback_consumer_error=self.consumer_error)
            if self._outcome is not None:  # the task has its answer already: the token is spent
                raise CallbackNotifyConsumerError(callback_consumer_error=CallbackConsumerLeft())
            original_notify(self, outcome)

    def interrupt_all(self: Any) -> None:
        with _TOKEN_OUTCOMES:
            if self._outcome is None and self.consumer_error is None:
                self.consumer_error = CallbackConsumerLeft()
        original_interrupt(self)

    _replace(CallbackEndpoint, "wait", wait)
    _replace(CallbackEndpoint, "notify", notify)
    _replace(CallbackEndpoint, "interrupt_all", interrupt_all)
    _patch_task_token_errors()


def _patch_task_token_errors() -> None:
    """SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat on a token that has ended answer AWS's errors.
    moto's raise a TypeError instead (its TaskTimedOut and TaskDoesNotExist need a message)
    and never tell a timed-out token from a spent one."""
    from moto.stepfunctions.parser import api
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackConsumerTimeout,
        CallbackNotifyConsumerError,
        CallbackOutcomeFailure,
        CallbackOutcomeSuccess,
    )
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def refusal(code: str, message: str) -> Exception:
        exception: Exception = getattr(api, code)(message, code, 400)
        return exception

    def answer(backend: Any, token: str, deliver: Callable[[Any], bool], running_only: bool) -> None:
        executions = backend._get_executions(ExecutionStatus.RUNNING) if running_only else backend._get_executions()
        for execution in executions:
            try:
                if deliver(execution.exec_worker.env.callback_pool_manager):
                    return
            except CallbackNotifyConsumerError as ended:
                if isinstance(ended.callback_consumer_error, CallbackConsumerTimeout):
                    raise refusal("TaskTimedOut", "Task Timed Out") from None
                raise refusal("TaskDoesNotExist", "Task does not exist anymore") from None
        raise api.InvalidToken()  # type: ignore[no-untyped-call]

    def send_task_success(self: Any, task_token: str, outcome: str) -> None:
        success = CallbackOutcomeSuccess(callback_id=task_token, output=outcome)
        answer(self, task_token, lambda pool: pool.notify(callback_id=task_token, outcome=success), True)

    def send_task_failure(self: Any, task_token: str, error: Any = None, cause: Any = None) -> None:
        failure = CallbackOutcomeFailure(callback_id=task_token, error=error, cause=cause)
        answer(self, task_token, lambda pool: pool.notify(callback_id=task_token, outcome=failure), False)

    def send_task_heartbeat(self: Any, task_token: str) -> None:
        answer(self, task_token, lambda pool: pool.heartbeat(callback_id=task_token), True)

    _replace(StepFunctionsParserBackend, "send_task_success", send_task_success)
    _replace(StepFunctionsParserBackend, "send_task_failure", send_task_failure)
    _replace(StepFunctionsParserBackend, "send_task_heartbeat", send_task_heartbeat)


class _HubTimedEvent:
    """threading.Event whose wait(timeout) counts `timeout` in hub seconds (common.clock): at clock speed N
    it lasts 1/N as long, and it ends as soon as a test advances the clock past it. Without a hub clock
    installed it waits real seconds, as threading.Event does."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        with self._changed:
            self._flag = True
            self._changed.notify_all()

    def clear(self) -> None:
        with self._changed:
            self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        clock = hub_time.hub_clock()
        with self._changed:
            if timeout is None or clock is None:
                return self._changed.wait_for(lambda: self._flag, timeout)
            deadline = clock.now() + datetime.timedelta(seconds=timeout)
            clock.watch(self._wake)
            try:
                while not self._flag and (left := clock.real_seconds_until(deadline)) > 0:
                    self._changed.wait(left)
            finally:
                clock.unwatch(self._wake)
            return self._flag

    def _wake(self) -> None:
        with self._changed:
            self._changed.notify_all()


class _EndedInTime(_HubTimedEvent):
    """A _HubTimedEvent whose wait(timeout), once set, says whether it was set within `timeout` (hub
    seconds) of its creation: a state run on the calling thread is still timed out if it took longer
    than allowed. A task waiting for its token (`timed_by_its_token`) is timed by that wait alone, which
    decides between an answer and the deadline once (see _patch_task_token_outcomes): an answer taken just
    before the deadline is not then lost to a second, later look at the clock."""

    def __init__(self, timed_by_its_token: bool = False) -> None:
        super().__init__()
        self._created = hub_time.current()
        self._set_after: float | None = None
        self._timed_by_its_token = timed_by_its_token

    def set(self) -> None:
        self._set_after = (hub_time.current() - self._created).total_seconds()
        super().set()

    def wait(self, timeout: float | None = None) -> bool:
        if self._set_after is not None and timeout is not None:
            return self._timed_by_its_token or self._set_after <= timeout
        return super().wait(timeout)


class _StateThreads:
    """The `Thread` and `threading` of moto's execute_state module: a state marked by `run_here()` runs on
    the thread that evaluates it, every other state on a thread of its own as in moto."""

    _here = threading.local()

    @contextlib.contextmanager
    def run_here(self, timed_by_its_token: bool) -> Iterator[None]:
        self._here.on, self._here.token = True, timed_by_its_token
        try:
            yield
        finally:
            self._here.on = self._here.token = False

    def __call__(self, target: Any, daemon: bool = True) -> Any:
        if getattr(self._here, "on", False):
            self._here.on = False
            return _RunsHere(target)
        return threading.Thread(target=target, daemon=daemon)

    def Event(self) -> _EndedInTime:  # threading.Event, as the module calls it
        return _EndedInTime(timed_by_its_token=getattr(self._here, "token", False))

    def __getattr__(self, name: str) -> Any:
        return getattr(threading, name)


def _patch_interpreter_threads() -> None:
    """One thread per execution instead of three.

    moto runs an execution's program on a thread of its own, joined by the worker's thread, and each
    Task state on a further thread that the program's thread waits on for TimeoutSeconds; an order
    waiting for its next event therefore parks three threads (and their stacks). A program without
    TimeoutSeconds needs no thread of its own (there is nothing to time out). A Task without
    HeartbeatSeconds runs on the program's thread: its callback wait times itself out after
    TimeoutSeconds (as States.Timeout, the same TaskTimedOut), and other work that overran it is timed
    out when it returns. A heartbeat task, Parallel and Map keep moto's thread, which can abandon a
    state still busy at its deadline."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask

    original_program_eval = Program.eval

    def program_eval(self: Any, env: Any) -> None:
        if self.timeout_seconds is not None:
            original_program_eval(self, env)
            return
        env.next_state_name = self.start_at.start_at_name
        EvalComponent.eval(self, env)

    state_threads = _StateThreads()
    original_evaluate = execute_state.ExecutionState._evaluate_with_timeout

    def evaluate_with_timeout(self: Any, env: Any) -> None:
        if not isinstance(self, StateTask) or self.heartbeat is not None:
            original_evaluate(self, env)
            return
        resource = getattr(self, "resource", None)
        timed_by_its_token = getattr(resource, "condition", None) == ResourceCondition.WaitForTaskToken
        with state_threads.run_here(timed_by_its_token):
            original_evaluate(self, env)

    _replace(Program, "eval", program_eval)
    _replace(execute_state, "Thread", state_threads)
    _replace(execute_state, "threading", state_threads)
    _replace(execute_state.ExecutionState, "_evaluate_with_timeout", evaluate_with_timeout)


class _HubDatetime(datetime.datetime):
    """datetime.datetime whose now() is the hub clock's (common.clock.current)."""

    @classmethod
    def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:  # type: ignore[override]
        moment = hub_time.current()
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)


class _HubDatetimeModule:
    """The `datetime` module as the patched moto modules see it: only datetime.now differs."""

    datetime = _HubDatetime

    def __getattr__(self, name: str) -> Any:
        return getattr(datetime, name)


def _patch_hub_time() -> None:
    """Step Functions on the hub clock (common.clock), so a KPI of hours passes in seconds at a faster
    clock, or at once when a test advances it, and the times an execution reports are hub times.

    Every timeout of moto's interpreter is a wait on a threading.Event: the state's, in execute_state
    (_EndedInTime, see _StateThreads), and a callback task's for its token, heartbeat or activity worker
    (the Events of moto's callback module): both count their timeout in hub seconds. The times an
    execution reads and reports are moto's datetime.datetime.now in four modules: the execution's start
    (StartExecution: `$$.Execution.StartTime`, DescribeExecution's startDate), each state's entry
    (`$$.State.EnteredTime`, which the lifecycle writes as the order's status times), the history events'
    timestamps and the stop date; those modules see the hub clock's now. Reading it costs about a
    microsecond. Not on the hub clock: the ASL retrier's sleeps (ScaledSleep: real, or scaled on their
    own), Wait states and a state machine's own TimeoutSeconds (the workflows use neither)."""
    from moto.stepfunctions.parser import models
    from moto.stepfunctions.parser.asl.component.state import state
    from moto.stepfunctions.parser.asl.eval.callback import callback
    from moto.stepfunctions.parser.asl.eval.event import event_manager
    from moto.stepfunctions.parser.backend import execution

    _replace(callback, "Event", _HubTimedEvent)
    for module in (models, state, event_manager, execution):
        _replace(module, "datetime", _HubDatetimeModule())


class _SdkClients:
    """The clients moto's interpreter calls services with, one per region and service.

    moto's boto_client_for creates a boto3 client for every Task that calls a service (a Lambda
    invoke, an aws-sdk DynamoDB update): 5-15 ms of CPU each, several per order. Its clients differ only
    by region, service and endpoint, and boto3 clients are thread-safe, so they are kept; `forget`
    drops them with the functions' clients (a hook added to the session reaches only clients made
    after it)."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str, bool], Any] = {}
        self._creating = threading.Lock()
        self.created = 0

    def forget(self) -> None:
        with self._creating:
            self._clients.clear()

    def patch(self) -> None:
        import sys

        from moto.stepfunctions.parser.asl.parse import preprocessor  # noqa: F401 - imports every Task kind
        from moto.stepfunctions.parser.asl.utils import boto_client

        original = boto_client.boto_client_for

        def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
            from moto.core.models import botocore_stubber

            key = (region, service, botocore_stubber.enabled)
            with self._creating:
                client = self._clients.get(key)
                if client is None:
                    client = self._clients[key] = original(region, service, state_credentials)
                    self.created += 1
                return client

        for name, module in list(sys.modules.items()):
            if name.startswith("moto.stepfunctions.parser.") and getattr(module, "boto_client_for", None) is original:
                _replace(module, "boto_client_for", client_for)


sdk_clients = _SdkClients()


def _patch_update_expressions() -> None:
    """One parse per UpdateExpression text instead of two per UpdateItem.

    moto tokenises and parses an UpdateExpression once to check its placeholders and again to apply it,
    at every UpdateItem and every Update of a transaction (a tenth of an intake's CPU). The hub's
    expressions are a handful of fixed texts with the values in placeholders; the tree is only read
    (the placeholder check walks it, and the validator that fills in values works on a deep copy of it),
    so the runtime keeps the tree per text. An expression that fails to parse is refused every time."""
    from moto.dynamodb.parsing import expressions

    parser: Any = expressions.UpdateExpressionParser  # type: ignore[attr-defined]  # moto marks the module untyped
    original = parser.make.__func__  # a classmethod's function

    @functools.lru_cache(maxsize=1024)
    def make(expression: str) -> Any:
        return original(parser, expression)

    _replace(parser, "make", staticmethod(make))


def _patch_update_validation() -> None:
    """moto's UpdateExpression validator on a structural copy of the tree instead of a deepcopy, and its
    passes that read only the tree once per tree, names and table.

    moto's validator deep-copies the parsed tree at every UpdateItem (twice for an item it creates), and
    deepcopy follows every node's parent link and memoises every string in it: most of what an update
    costs. The validator only replaces nodes in its copy (values filled in, paths resolved), so a fresh
    node for every node of the parsed tree, with its own child list, is all it needs; the leaves' texts
    and indexes are immutable and shared. Anything else (the list_append argument it also copies) is
    still deep-copied.

    Three of its ten passes (at most one clause of each kind, no overlapping paths, no key attribute
    set) read only the tree, the attribute names and the table's key attributes, and change nothing:
    once they passed for a parsed tree (kept per text) with those names and keys, they are not run again
    for it. The passes that read the values and the item run at every update."""
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]  # moto marks it untyped

    def copy_of(value: Any, memo: Any = None) -> Any:
        if not isinstance(value, Node) or value.parent is not None:
            return copy.deepcopy(value, memo)
        return _tree_copy(value, Node)

    tree_checks = (
        validators.ActionCountValidator,
        validators.OverlappingPathsValidator,
        validators.UpdateHashRangeKeyValidator,
    )
    passed: weakref.WeakKeyDictionary[Any, set[Any]] = weakref.WeakKeyDictionary()  # parsed tree -> names, keys
    validator_class = validators.UpdateExpressionValidator
    original_init, original_validate = validator_class.__init__, validator_class.validate

    def init(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, expression, *args, **kwargs)
        self.parsed_tree = expression

    def validate(self: Any) -> Any:
        names = self.expression_attribute_names or {}
        if not all(isinstance(name, str) for name in names.values()):
            return original_validate(self)
        checked = passed.setdefault(self.parsed_tree, set())
        known = (tuple(sorted(names.items())), tuple(self.table.table_key_attrs))
        node = self.node_to_validate
        for processor in self.processors:
            if not (known in checked and isinstance(processor, tree_checks)):
                node = processor.traverse(node)
        checked.add(known)
        return node

    _replace(validators, "deepcopy", copy_of)
    _replace(validator_class, "__init__", init)
    _replace(validator_class, "validate", validate)


def _tree_copy(node: Any, node_class: type) -> Any:
    copied = copy.copy(node)
    if node.children is not None:
        copied.children = []
        for child in node.children:
            if isinstance(child, node_class):
                child_copy = _tree_copy(child, node_class)
                child_copy.parent = copied
            elif child is None or isinstance(child, str | int):  # bool is an int
                child_copy = child
            else:
                child_copy = copy.deepcopy(child)
            copied.children.append(child_copy)
    return copied


def _patch_condition_expressions() -> None:
    """One parse per ConditionExpression text instead of one per check.

    moto lexes and parses a ConditionExpression (with the placeholders looked up while lexing) in the
    request's check of its names, again in a transaction's check of the item, and again in the write
    itself: three times per conditional Put of a stock import's transaction. What a parse accepts or
    refuses, and the tree it builds, depend on the text, the names and each value's type (BETWEEN refuses
    a NULL bound), never on the values themselves. So the runtime parses once per text, names and value
    types with each value standing for its placeholder, and fills in every request's own values in a
    copy of that tree. An expression whose parse fails goes to moto's own parse, which refuses it."""
    from moto.dynamodb import comparisons

    parser_class = comparisons.ConditionExpressionParser
    original = parser_class.parse

    @functools.lru_cache(maxsize=1024)
    def parsed(expression: str, names: tuple[tuple[str, str], ...], types: tuple[tuple[str, str], ...]) -> Any:
        by_placeholder = parser_class(expression, dict(names), {name: {kind: name} for name, kind in types})
        return (
            original(by_placeholder),
            tuple(by_placeholder.expr_attr_names_found),
            tuple(by_placeholder.expr_attr_values_found),
        )

    def parse(self: Any) -> Any:
        names = self.expression_attribute_names or {}
        values = self.expression_attribute_values or {}
        well_formed = all(isinstance(v, str) for v in names.values()) and all(
            isinstance(v, dict) and len(v) == 1 for v in values.values()
        )
        if not self.condition_expression or not well_formed:
            return original(self)
        types = tuple(sorted((name, next(iter(value))) for name, value in values.items()))
        try:
            tree, names_found, values_found = parsed(self.condition_expression, tuple(sorted(names.items())), types)
        except Exception:  # noqa: BLE001 - a refused expression: moto's own parse raises moto's own error
            return original(self)
        self.expr_attr_names_found.extend(names_found)
        self.expr_attr_values_found.extend(values_found)
        return _with_values(tree, values, comparisons, {})

    _replace(parser_class, "parse", parse)


def _with_values(node: Any, values: dict[str, Any], comparisons: Any, copies: dict[int, Any]) -> Any:
    """A copy of a condition tree parsed with placeholders as values, holding these values instead."""
    if isinstance(node, comparisons.AttributeValue):
        return comparisons.AttributeValue(values[node.value])  # node.value: the placeholder it stands for
    if isinstance(node, tuple):
        return tuple(_with_values(part, values, comparisons, copies) for part in node)
    if not isinstance(node, comparisons.Op | comparisons.Func):
        return node  # an attribute path, None: only read
    if id(node) not in copies:  # a Func holds its operands twice (by name and in `arguments`)
        bound = copies[id(node)] = copy.copy(node)
        for name, part in vars(node).items():
            setattr(bound, name, _with_values(part, values, comparisons, copies))
    return copies[id(node)]


def _patch_attribute_value_serialisation() -> None:
    """DynamoDB's attribute values serialised from the keys they hold instead of through moto's picker.

    moto serialises a response by walking the service model and asking its attribute picker for every
    member of every structure: an AttributeValue has ten members (S, N, B, SS, ..., BOOL), each looked up
    under four or five aliases, about 30 us per attribute value and two fifths of a 1,000-row stock
    import. A moto item's value is a dict keyed by the model's own member names, and for such a dict the
    picker finds each member under its own name or not at all (no alias of a member is another member's
    name), so the members it holds are serialised directly, by moto's own serialisers, in the model's
    order. Anything else (another shape, another key, a response transformer) goes moto's way."""
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        direct = (
            key
            and shape.name == "AttributeValue"
            and self.service_model.service_name in ("dynamodb", "dynamodbstreams")
            and isinstance(value, dict)
            and value.keys() <= shape.members.keys()
            and not getattr(self._value_picker, "response_transformers", None)
        )
        if not direct:
            original(self, serialized, value, shape, key)
            return
        wrapper = self.MAP_TYPE()
        for member_key, member_shape in shape.members.items():
            member_value = value.get(member_key)
            if member_value is not None:
                member_shape.parent = shape
                self._serialize(wrapper, member_value, member_shape, member_key)
        self._default_serialize(serialized, wrapper, shape, key)

    _replace(BaseJSONSerializer, "_serialize_type_structure", serialize_structure)


class _Touched(NamedTuple):
    """An item a transaction names, and a copy of it as it was before (None: it did not exist)."""

    table: Any
    hash_value: Any
    range_value: Any
    before: Any

    def restore(self) -> None:
        items = self.table.items
        if self.range_value is not None:
            if self.before is None:
                items.get(self.hash_value, {}).pop(self.range_value, None)
            else:
                items[self.hash_value][self.range_value] = self.before
        elif self.before is None:
            items.pop(self.hash_value, None)
        else:
            items[self.hash_value] = self.before
        partitions.refile(self.table, (self.hash_value, self.range_value))


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[_Touched]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    found = []
    for entry in transact_items:
        for op in entry.values():
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            key = (op.get("Key") or op.get("Item")) if table is not None else None
            if table is None or not key or table.hash_key_attr not in key:
                continue  # moto itself refuses it
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            if table.has_range_key and range_value is None:
                continue
            found.append(
                _Touched(table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value)))
            )
    return found


_COPY = object()  # what a _CopyModule's `instead` answers for a value deep-copied as usual


class _CopyModule:
    """The `copy` module as one of moto's modules sees it, whose deepcopy(value) is `instead(value)`
    unless that answers _COPY."""

    def __init__(self, instead: Callable[[Any], Any]) -> None:
        self._instead = instead

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        replaced = self._instead(value)
        return copy.deepcopy(value, memo) if replaced is _COPY else replaced


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
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        undo = _touched(self, transact_items)
        streams = {
            id(t.table): (t.table.stream_shard, len(t.table.stream_shard.items)) for t in undo if t.table.stream_shard
        }
        try:
            original(self, transact_items)
        except Exception:
            for touched in reversed(undo):
                touched.restore()
            for shard, length in streams.values():
                del shard.items[length:]  # a cancelled transaction wrote no stream record
            raise

    # The `copy` module as moto's backend sees it: a Table is its own backup.
    _replace(dynamodb_models, "copy", _CopyModule(lambda value: value if isinstance(value, Table) else _COPY))
    _replace(DynamoDBBackend, "transact_write_items", transact_write_items)


def _patch_stream_records_serialisation() -> None:
    """GetRecords answered as the JSON of moto's records instead of through moto's model-driven serialiser.

    moto serialises a GetRecords answer by walking the output model for every record, image and
    attribute value: about half of what the local stream readers spend (a 500-record batch of the stock
    table's NEW_AND_OLD_IMAGES). Its records are already in the wire's shape: plain dicts, lists, strings,
    numbers and booleans, binary values as base64 text or bytes (nested ones), and the creation time a
    naive UTC datetime, which the serialiser writes as epoch seconds to the millisecond. So the answer is
    those records as JSON, with bytes base64-encoded and the time in seconds the same way. An error goes
    moto's way (the original raises it)."""
    import base64
    import calendar
    import datetime

    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    def wire_value(value: Any) -> Any:
        if isinstance(value, datetime.datetime):
            seconds = calendar.timegm(value.timetuple())
            return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        raise TypeError(f"{type(value).__name__} is not in a stream record")

    original = DynamoDBStreamsHandler.get_records

    def get_records(self: Any) -> Any:
        body = json.dumps(original(self).result, default=wire_value)
        return body.encode(), {"Content-Type": "application/x-amz-json-1.0"}

    _replace(DynamoDBStreamsHandler, "get_records", get_records)


class _Filed:
    """One table's items by the value of one attribute: value -> the primary keys of the items holding it.

    Only keys are kept: a Query reads each item from the table as it is now. A value that cannot be hashed
    (a set, list or map) is filed nowhere: it never equals the scalar a key condition names."""

    def __init__(self, attribute: str, items: list[Any]) -> None:
        self.attribute = attribute
        self.keys: dict[Any, dict[tuple[Any, Any], None]] = {}
        self._value_of: dict[tuple[Any, Any], Any] = {}
        for item in items:
            self.file((item.hash_key, item.range_key), item)

    def file(self, key: tuple[Any, Any], item: Any) -> None:
        """Where the item at `key` is now (None: there is none)."""
        if key in self._value_of:
            old = self._value_of.pop(key)
            del self.keys[old][key]
            if not self.keys[old]:
                del self.keys[old]
        value = item.attrs.get(self.attribute) if item is not None else None
        if value is None:
            return
        try:
            self.keys.setdefault(value, {})[key] = None
        except TypeError:
            return
        self._value_of[key] = value


class _Partitions:
    """Answers moto's Query from the queried partition instead of the whole table.

    moto answers every Query by walking and sorting all the table's items (Table.all_items), then keeping
    those of the partition: about 270 ms per index Query at 20,000 items, paid by every admin page per
    Query. Here a table's items are filed by the value of each attribute an index Query has named as its
    partition key (built at the first such Query, then kept by every write: put, delete, update in place,
    a transaction's undo), and for a base-table Query moto's own dict of partitions is read. moto's query
    then runs unchanged on those items alone: its key checks, ExclusiveStartKey, Limit, filters,
    projections and COUNT see what they saw, minus the other partitions' items, which they dropped
    anyway, and its sort (by the index keys, then the table's: unique per item) puts them in its order
    whatever order they come in. A Query that names no partition value goes moto's way."""

    def __init__(self) -> None:
        self._tables: weakref.WeakKeyDictionary[Any, dict[str, _Filed]] = weakref.WeakKeyDictionary()
        self._answering = threading.local()

    def refile(self, table: Any, key: tuple[Any, Any] | None) -> None:
        filed = self._tables.get(table)
        if filed and key is not None:
            item = _current(table, key)
            for by_attribute in filed.values():
                by_attribute.file(key, item)

    def candidates(self, table: Any, hash_key: Any, index_name: str | None, conditions: Any) -> list[Any] | None:
        """The items the Query can match (a superset: moto checks every condition again), None for all."""
        if index_name is None:
            return None if hash_key is None else _table_partition(table, hash_key)
        index = next((i for i in table.all_indexes() if i.name == index_name), None)
        # No such index: moto names the table's indexes in its error.
        attribute = next((k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"), None) if index else None
        value = dict(conditions or ()).get(attribute)
        if attribute is None or value is None or not _hashable(value):
            return None
        filed = self._tables.setdefault(table, {})
        if attribute not in filed:
            filed[attribute] = _Filed(attribute, table.all_items())
        found = (_current(table, key) for key in filed[attribute].keys.get(value, ()))
        return [item for item in found if item is not None]

    @contextlib.contextmanager
    def answering(self, table: Any, items: list[Any]) -> Iterator[None]:
        """Within it, `all_items(table)` on this thread is `items`."""
        self._answering.table, self._answering.items = table, items
        try:
            yield
        finally:
            self._answering.table = self._answering.items = None

    def all_items(self, table: Any) -> list[Any] | None:
        return self._answering.items if getattr(self._answering, "table", None) is table else None


partitions = _Partitions()


def _table_partition(table: Any, hash_key: Any) -> list[Any] | None:
    """A base-table partition's items, from moto's own dict of partitions."""
    if not _hashable(hash_key):
        return None
    partition = table.items.get(hash_key)  # .get: moto's defaultdict would add the key
    if not table.range_key_attr:
        return [] if partition is None or isinstance(partition, dict) else [partition]
    return list(partition.values()) if partition else []


def _in_range(table: Any, asked: dict[str, Any], items: list[Any]) -> list[Any]:
    """The partition's items whose sort key meets the Query's range condition (all of them when it names
    none), as DynamoDB reads only that range, and one item past the range in the Query's direction, if any.
    moto's query checks the condition again, but first sizes every item of the partition for its 1 MB page
    end, in range or not: a day's COUNT over a partition of every order sized them all. A page of Limit items
    ends at the next item moto walks, in the range or past it: the item past keeps moto's LastEvaluatedKey.
    A page could end at 1 MB at an item out of the range there; here it ends at the next one in it, as on
    DynamoDB (the items over all pages are the same)."""
    comparison, conditions = asked.get("range_comparison"), asked.get("range_key_conditions") or ()
    if not comparison or len(conditions) > 1:  # a multi-attribute sort key: moto's way
        return items
    attribute = conditions[0][0] if conditions else _sort_key(table, asked.get("index_name"))
    if attribute is None:  # moto answers a range condition on an index without a sort key with its error
        return items
    bounds = asked.get("range_objs") or []
    # Every condition keeps one span of sort keys: out of it an item is above its upper bound or below it.
    upper = None if comparison in (">", ">=") or not bounds else bounds[-1].cast_value
    forward = asked.get("scan_index_forward") is not False
    kept, past = [], None
    for item in items:
        value = item.attrs.get(attribute)
        if value is None:  # not in the index (moto leaves it out)
            continue
        if value.compare(comparison, bounds):
            kept.append(item)
        elif past is None and (upper is not None and value.cast_value > upper) == forward:
            past = item
    return kept if past is None else [*kept, past]


def _sort_key(table: Any, index_name: str | None) -> str | None:
    if index_name is None:
        return table.range_key_attr  # type: ignore[no-any-return]
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    return next((k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"), None) if index else None


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _current(table: Any, key: tuple[Any, Any]) -> Any:
    """The table's item at `key` now, or None, without adding a partition to moto's defaultdict."""
    hash_value, range_value = key
    found = table.items.get(hash_value)
    if range_value is None:
        return found if found is not None and not isinstance(found, dict) else None
    return found.get(range_value) if isinstance(found, dict) else None


def _key_of(table: Any, attributes: Any) -> tuple[Any, Any] | None:
    """The primary key a write names (wire attributes), None where moto refuses it itself."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_value = DynamoType(attributes[table.hash_key_attr])
        range_value = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
        hash(hash_value), hash(range_value)
    except Exception:  # noqa: BLE001 - a malformed key: moto's own validation answers it
        return None
    return hash_value, range_value


class _QueryCopies:
    """What moto's Table.query may skip on this thread, set for the length of one Query.

    For every matched item moto's query measures the item's size twice (for the 1 MB page limit), then
    deep-copies every item it keeps, projects each onto the index and applies the filter: about 1 ms per
    item of an order's size, paid even by a Select=COUNT Query, whose items the answer drops. Here, within
    one Query (no item changes meanwhile), an item's size is measured once; the deep copy is skipped where
    nothing keeps the table's own items (a COUNT, whose answer is only their number; an index projection
    or a ProjectionExpression, which build new items from a copy of their own); and a COUNT without a
    filter skips the index projection, which only the filter would read. On a KEYS_ONLY or INCLUDE index
    the size is the index entry's, as DynamoDB counts an index Query's 1 MB page and read units (moto
    sizes the whole table item: a page of small entries of big orders ended early, and a COUNT of 500
    orders walked each order whole). Otherwise sizes, page ends, counts and items are moto's own
    (tests/integration/test_moto_queries.py compares them)."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextlib.contextmanager
    def query(self, body: dict[str, Any]) -> Iterator[None]:
        """The Query `body` asks for answered within it."""
        self._local.counting = body.get("Select") == "COUNT"
        self._local.filtered = body.get("FilterExpression") is not None
        try:
            yield
        finally:
            self._local.counting = self._local.filtered = False

    @contextlib.contextmanager
    def table_query(self, table: Any, asked: dict[str, Any]) -> Iterator[None]:
        """Table.query's call (its bound arguments) within it."""
        counting, filtered = getattr(self._local, "counting", False), getattr(self._local, "filtered", False)
        index_name = asked.get("index_name")
        index = table.get_index(index_name) if index_name and _has_index(table, index_name) else None
        entries = index is not None and _projects(index)
        projected = entries or bool(asked.get("projection_expressions"))
        self._local.shared, self._local.unprojected = counting or projected, counting and not filtered
        self._local.sizes, self._local.entry = {}, _entry_attributes(table, index) if entries else None
        try:
            yield
        finally:
            self._local.shared = self._local.unprojected = False
            self._local.sizes = self._local.entry = None

    def sizes(self) -> dict[int, tuple[Any, int]] | None:
        return getattr(self._local, "sizes", None)

    def entry_attributes(self) -> frozenset[str] | None:
        """The attributes of an entry of the KEYS_ONLY or INCLUDE index the Query reads, which are sized."""
        return getattr(self._local, "entry", None)

    def shares(self) -> bool:
        return getattr(self._local, "shared", False)

    def leaves_unprojected(self) -> bool:
        return getattr(self._local, "unprojected", False)


query_copies = _QueryCopies()


def _has_index(table: Any, index_name: str) -> bool:
    return any(index.name == index_name for index in table.all_indexes())


def _entry_attributes(table: Any, index: Any) -> frozenset[str]:
    """What an entry of a KEYS_ONLY or INCLUDE index holds: the table's keys, the index's, the included."""
    names = [table.hash_key_attr, table.range_key_attr, *(key["AttributeName"] for key in index.schema)]
    names += index.projection.get("NonKeyAttributes", [])
    return frozenset(name for name in names if name)


def _entry_size(item: Any, attributes: frozenset[str]) -> int:
    """The size of the item's index entry, as moto's Item.size sizes an item (names and values)."""
    from moto.dynamodb.models.utilities import bytesize

    return sum(bytesize(name) + value.size() for name, value in item.attrs.items() if name in attributes)


def _projects(index: Any) -> bool:
    """Whether moto's index.project builds a new item (KEYS_ONLY, INCLUDE) rather than return the same."""
    return bool(index.projection) and index.projection.get("ProjectionType") in ("KEYS_ONLY", "INCLUDE")


def _patch_query_copies() -> None:
    """Table.query sizes once and copies only what it must (see _QueryCopies)."""
    import inspect

    from moto.dynamodb.models import table as table_module
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import SecondaryIndex, Table
    from moto.dynamodb.responses import DynamoHandler

    original_handler_query, original_table_query = DynamoHandler.query, Table.query
    original_size, original_project = Item.size, SecondaryIndex.project
    query_arguments = inspect.signature(original_table_query)

    def handler_query(self: Any) -> Any:
        with query_copies.query(self.body):
            return original_handler_query(self)

    @functools.wraps(original_table_query)
    def table_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        with query_copies.table_query(self, query_arguments.bind(self, *args, **kwargs).arguments):
            return original_table_query(self, *args, **kwargs)

    def size(self: Any) -> int:
        sizes = query_copies.sizes()
        if sizes is None:
            return original_size(self)
        found = sizes.get(id(self))
        if found is None:
            kept = query_copies.entry_attributes()
            measured = original_size(self) if kept is None else _entry_size(self, kept)
            found = sizes[id(self)] = (self, measured)  # kept: no other item takes its id
        return found[1]

    def project(self: Any, item: Any) -> Any:
        return item if query_copies.leaves_unprojected() else original_project(self, item)

    def results_copy(value: Any) -> Any:
        return list(value) if query_copies.shares() and isinstance(value, list) else _COPY

    # The `copy` module as moto's Table.query sees it: its results list is deep-copied only if kept.
    _replace(table_module, "copy", _CopyModule(results_copy))
    _replace(DynamoHandler, "query", functools.wraps(original_handler_query)(handler_query))
    # __wrapped__: moto's own query, under neither patch, which the tests compare with.
    table_query.__wrapped__ = inspect.unwrap(original_table_query)
    _replace(Table, "query", table_query)
    _replace(Item, "size", size)
    _replace(SecondaryIndex, "project", project)


def _patch_index_queries() -> None:
    """Query reads the queried partition, not the table (see _Partitions)."""
    import inspect

    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items
    original_put, original_delete = Table.put_item, Table.delete_item
    original_update = DynamoDBBackend.update_item
    query_arguments = inspect.signature(original_query)

    @functools.wraps(original_query)  # __wrapped__: moto's own, which the tests compare with
    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        asked = query_arguments.bind(self, *args, **kwargs).arguments
        items = partitions.candidates(
            self, asked.get("hash_key"), asked.get("index_name"), asked.get("hash_key_conditions")
        )
        if items is None:
            return original_query(self, *args, **kwargs)
        with partitions.answering(self, _in_range(self, asked, items)):
            return original_query(self, *args, **kwargs)

    def all_items(self: Any) -> list[Any]:
        answering = partitions.all_items(self)
        return original_all_items(self) if answering is None else answering

    def put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return original_put(self, item_attrs, *args, **kwargs)
        finally:
            partitions.refile(self, _key_of(self, item_attrs))

    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        try:
            return original_delete(self, hash_key, range_key)
        finally:
            partitions.refile(self, (hash_key, range_key))

    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        # The update changes moto's item in place (its index attributes too), or fails half-way through.
        try:
            return original_update(self, table_name, key, *args, **kwargs)
        finally:
            table = self.tables.get(table_name)
            if table is not None:
                partitions.refile(table, _key_of(table, key))

    _replace(Table, "query", query)
    _replace(Table, "all_items", all_items)
    _replace(Table, "put_item", put_item)
    _replace(Table, "delete_item", delete_item)
    _replace(DynamoDBBackend, "update_item", update_item)
