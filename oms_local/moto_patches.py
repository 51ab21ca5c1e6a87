"""What the hub changes in moto, each for a measured reason (see DESIGN.md).

moto is not thread-safe, so one re-entrant lock serialises its request dispatch; its Lambda backend is
replaced by a dispatcher to the real handlers, returning errorType/errorMessage on exceptions so
Retry/Catch behave as on AWS; Step Functions skips re-validating a definition it accepted and hides
executions still starting; the ASL retrier's sleeps can be scaled; TransactWriteItems keeps an undo
record instead of copying every table it names.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
import time
import traceback
from typing import Any, ClassVar, NamedTuple

from oms_local.invocation import context_for, handlers, run_as

moto_lock = threading.RLock()


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
    asking moto 20 times a second. Sources still look again after `wait`'s timeout: a message whose
    delay or visibility timeout runs out becomes receivable without any write."""

    OPERATIONS: ClassVar[dict[str, frozenset[str]]] = {
        "sqs": frozenset(
            {"SendMessage", "SendMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"}
        ),
        "dynamodb": WriteCount.OPERATIONS["dynamodb"],
    }
    _changed: ClassVar[threading.Condition] = threading.Condition()
    _generation: ClassVar[int] = 0

    @classmethod
    def seen(cls, event_name: str) -> None:
        _, _, rest = event_name.partition(".")
        service, _, operation = rest.rpartition(".")
        if operation in cls.OPERATIONS.get(service, ()):
            cls.wake()

    @classmethod
    def wake(cls) -> None:
        """Every waiting source looks again (also how a stopping source is woken)."""
        with cls._changed:
            cls._generation += 1
            cls._changed.notify_all()

    @classmethod
    def generation(cls) -> int:
        """Read before looking, passed to `wait` after finding nothing: a write in between is not missed."""
        return cls._generation

    @classmethod
    def wait(cls, generation: int, timeout: float) -> None:
        with cls._changed:
            cls._changed.wait_for(lambda: cls._generation != generation, timeout)


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
    _replace(BotocoreStubber, "__call__", locked_call)
    _replace(LambdaSimpleBackend, "invoke", _invoke)
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
    validated: set[str] = set()

    def validate_once(definition: str) -> None:
        # CreateStateMachine parses the definition with moto's ANTLR grammar only to validate it, and
        # throws the parse away: about 0.7 s per machine, nine tenths of a hub's start. A definition
        # accepted once is accepted again; a new or changed one is still parsed (and refused if invalid).
        if definition not in validated:
            original_validate(definition=definition)
            validated.add(definition)

    _replace(StepFunctionsParserBackend, "_get_executions", started_executions)
    _replace(StepFunctionsParserBackend, "_validate_definition", staticmethod(validate_once))
    _patch_execution_start()


def _patch_execution_start() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    parse_trees: dict[str, Any] = {}
    parsing = threading.Lock()  # executions started together wait for one parse, not one each

    def program_from_one_parse(worker: Any) -> Any:
        # Every StartExecution runs the definition through moto's ANTLR grammar again (0.15-0.3 s of a
        # 0.2-0.35 s start). The parse tree is only read; the program built from it holds the execution's
        # state, so each execution still gets its own, built from the tree in about 0.035 s.
        definition = worker._evaluation_details.state_machine_details.definition
        with parsing:
            tree = parse_trees.get(definition)
            if tree is None:
                tree = parse_trees[definition] = AmazonStateLanguageParser.parse(definition)[1]
        return Preprocessor().visit(tree)

    _replace(ExecutionWorker, "_get_evaluation_entrypoint", program_from_one_parse)


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

    class _TablesNotCopied:
        """The `copy` module as moto's backend sees it: a Table is its own backup."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

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

    _replace(dynamodb_models, "copy", _TablesNotCopied())
    _replace(DynamoDBBackend, "transact_write_items", transact_write_items)
