"""The local runtime's patches of moto keep AWS's behaviour and only remove moto's own costs."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from oms_local.moto_patches import ASL_LOGGER
from oms_local.runtime import LocalHub


def _noting(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, note: Callable[..., Any], *, static: bool = False
) -> list[Any]:
    """What `note(*args)` says of every call of `owner.name` from now on (None: not noted); the real one runs."""
    noted: list[Any] = []
    original = getattr(owner, name)

    def noting(*args: Any, **kwargs: Any) -> Any:
        if (seen := note(*args, **kwargs)) is not None:
            noted.append(seen)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, staticmethod(noting) if static else noting)
    return noted


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every definition moto's ANTLR grammar is run on from now, in order."""
    return _noting(
        monkeypatch, AmazonStateLanguageParser, "parse", lambda definition, *_, **__: definition, static=True
    )


def test_a_definition_moto_validated_once_is_not_parsed_again_and_a_bad_one_is_still_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with LocalHub():
        pass  # every template definition validated once in this process
    parsed = _counting_parses(monkeypatch)
    with LocalHub():
        assert parsed == []  # the same seven machines again: no grammar run
        sfn = boto3.client("stepfunctions")
        role = "arn:aws:iam::123456789012:role/lifecycle"
        with pytest.raises(ClientError) as refused:
            sfn.create_state_machine(
                name="broken",
                roleArn=role,
                definition=json.dumps(
                    {"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "End": True, "Bogus": 1}}}
                ),
            )
        assert "ASLParserException" in refused.value.response["Error"]["Message"]  # moto's InvalidDefinition
        # New to this run's cache of accepted definitions too (oms_local/accepted_definitions.py).
        valid = json.dumps(
            {"Comment": uuid.uuid4().hex, "StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
        )
        sfn.create_state_machine(name="fresh", roleArn=role, definition=valid)
        assert len(parsed) == 2  # a new definition is parsed, the refused one too


def _backend() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends["123456789012"]["eu-central-1"]


def test_a_cancelled_transaction_changes_no_item_writes_no_stream_record_and_keeps_the_table() -> None:
    with LocalHub() as hub:
        ddb = boto3.client("dynamodb")
        stock = f"{hub.template.stack}-StockTable"
        row = {"sku": {"S": "SKU-T"}, "location_id": {"S": "wh"}}
        ddb.put_item(
            TableName=stock, Item={**row, "on_hand": {"N": "5"}, "reserved": {"N": "0"}, "available": {"N": "5"}}
        )
        table = _backend().tables[stock]
        records = len(table.stream_shard.items)
        with pytest.raises(ClientError) as cancelled:
            ddb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": stock,
                            "Key": row,
                            "UpdateExpression": "SET available = available - :q, reserved = reserved + :q",
                            "ExpressionAttributeValues": {":q": {"N": "2"}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": stock,
                            "Item": {"sku": {"S": "SKU-NEW"}, "location_id": {"S": "wh"}, "on_hand": {"N": "1"}},
                        }
                    },
                    {
                        "Update": {
                            "TableName": stock,
                            "Key": {"sku": {"S": "SKU-T"}, "location_id": {"S": "store"}},
                            "UpdateExpression": "SET on_hand = :x",
                            "ConditionExpression": "attribute_exists(sku)",
                            "ExpressionAttributeValues": {":x": {"N": "1"}},
                        }
                    },
                ]
            )
        assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
        assert ddb.get_item(TableName=stock, Key=row, ConsistentRead=True)["Item"]["available"] == {"N": "5"}
        assert "Item" not in ddb.get_item(TableName=stock, Key={"sku": {"S": "SKU-NEW"}, "location_id": {"S": "wh"}})
        assert _backend().tables[stock] is table  # not swapped for a copy (a stream reader keeps its shard)
        assert len(table.stream_shard.items) == records  # no record of what never happened


def test_a_transaction_cancelled_by_a_condition_names_the_item_and_undoes_the_earlier_ones() -> None:
    with LocalHub() as hub:
        ddb = boto3.client("dynamodb")
        stock = f"{hub.template.stack}-StockTable"
        a = {"sku": {"S": "SKU-A"}, "location_id": {"S": "wh"}}
        b = {"sku": {"S": "SKU-B"}, "location_id": {"S": "wh"}}
        for key, units in ((a, "5"), (b, "1")):
            ddb.put_item(
                TableName=stock,
                Item={**key, "on_hand": {"N": units}, "reserved": {"N": "0"}, "available": {"N": units}},
            )
        take = "SET available = available - :q, reserved = reserved + :q"
        with pytest.raises(ClientError) as cancelled:
            ddb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": stock,
                            "Key": key,
                            "UpdateExpression": take,
                            "ConditionExpression": "available >= :q",
                            "ExpressionAttributeValues": {":q": {"N": "2"}},
                        }
                    }
                    for key in (a, b)
                ]
            )
        reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
        assert reasons == ["None", "ConditionalCheckFailed"]
        for key, units in ((a, "5"), (b, "1")):
            item = ddb.get_item(TableName=stock, Key=key, ConsistentRead=True)["Item"]
            assert (item["available"], item["reserved"]) == ({"N": units}, {"N": "0"})
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": stock,
                        "Key": a,
                        "UpdateExpression": take,
                        "ExpressionAttributeValues": {":q": {"N": "2"}},
                    }
                }
            ]
        )
        assert ddb.get_item(TableName=stock, Key=a, ConsistentRead=True)["Item"]["available"] == {"N": "3"}


def test_executions_of_one_machine_share_one_parse_and_each_runs_its_own_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed = _counting_parses(monkeypatch)
    with LocalHub():
        sfn = boto3.client("stepfunctions")
        # A Choice on the input and a Pass that echoes it: a program shared between executions, or one
        # whose state leaked, would hand one execution's input or result to another.
        definition = json.dumps(
            {
                "StartAt": "Which",
                "States": {
                    "Which": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 4, "Next": "Big"}],
                        "Default": "Small",
                    },
                    "Big": {"Type": "Pass", "Parameters": {"size": "big", "n.$": "$.n"}, "End": True},
                    "Small": {"Type": "Pass", "Parameters": {"size": "small", "n.$": "$.n"}, "End": True},
                },
            }
        )
        machine = sfn.create_state_machine(
            name="parse-once", roleArn="arn:aws:iam::123456789012:role/lifecycle", definition=definition
        )["stateMachineArn"]
        started = [
            sfn.start_execution(stateMachineArn=machine, name=f"run-{n}", input=json.dumps({"n": n}))["executionArn"]
            for n in range(10)
        ]
        outputs = [_finished(sfn, arn) for arn in started]
    assert outputs == [{"size": "big" if n > 4 else "small", "n": n} for n in range(10)]
    # Validated at creation and parsed for the first execution; the other nine reuse that parse.
    assert parsed.count(definition) == 2


def _finished(sfn: Any, execution_arn: str) -> Any:
    deadline = time.monotonic() + 20
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, execution_arn
        time.sleep(0.02)
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])


def _machine(sfn: Any, name: str, states: dict[str, Any], start_at: str) -> str:
    arn: str = sfn.create_state_machine(
        name=name,
        roleArn="arn:aws:iam::123456789012:role/lifecycle",
        definition=json.dumps({"StartAt": start_at, "States": states}),
    )["stateMachineArn"]
    return arn


def _token_wait(table: str, timeout_seconds: int) -> dict[str, Any]:
    """A Task that stores its task token in the tasks table and waits for it, as the lifecycles do."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken",
        "Parameters": {
            "TableName": table,
            "Key": {"task_id": {"S.$": "$$.Execution.Name"}},
            "UpdateExpression": "SET task_token = :t",
            "ExpressionAttributeValues": {":t": {"S.$": "$$.Task.Token"}},
        },
        "TimeoutSeconds": timeout_seconds,
        "End": True,
    }


def _token(ddb: Any, table: str, name: str) -> str:
    deadline = time.monotonic() + 20
    while "Item" not in (item := ddb.get_item(TableName=table, Key={"task_id": {"S": name}}, ConsistentRead=True)):
        assert time.monotonic() < deadline, name
        time.sleep(0.02)
    token: str = item["Item"]["task_token"]["S"]
    return token


def _interpreter_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name.startswith("Thread-"))


def test_an_execution_waiting_for_its_task_token_holds_one_thread_and_still_gets_its_answer_or_times_out() -> None:
    with LocalHub() as hub:
        sfn, ddb = boto3.client("stepfunctions"), boto3.client("dynamodb")
        table = f"{hub.template.stack}-TasksTable"
        waits = _machine(sfn, "token-wait", {"Wait": _token_wait(table, 3600)}, "Wait")
        before = _interpreter_threads()
        started = [
            sfn.start_execution(stateMachineArn=waits, name=f"wait-{n}", input="{}")["executionArn"] for n in range(6)
        ]
        tokens = [_token(ddb, table, f"wait-{n}") for n in range(6)]
        # moto parks three threads per waiting execution (the program's, the Task's, the worker's join).
        assert _interpreter_threads() - before == 6
        for n, token in enumerate(tokens):
            sfn.send_task_success(taskToken=token, output=json.dumps({"answered": n}))
        assert [_finished(sfn, arn) for arn in started] == [{"answered": n} for n in range(6)]
        # Nobody answers: the wait on the execution's own thread still ends at TimeoutSeconds.
        unanswered = _machine(sfn, "token-timeout", {"Wait": _token_wait(table, 1)}, "Wait")
        arn = sfn.start_execution(stateMachineArn=unanswered, name="unanswered", input="{}")["executionArn"]
        described = _ended(sfn, arn)
        assert (described["status"], described.get("error")) == ("FAILED", "States.Timeout")


def test_a_task_token_ends_once_an_answer_after_its_deadline_is_refused_and_a_second_answer_too() -> None:
    with LocalHub() as hub:
        sfn, ddb = boto3.client("stepfunctions"), boto3.client("dynamodb")
        table = f"{hub.template.stack}-TasksTable"
        caught = {**_token_wait(table, 1), "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}]}
        states = {"Wait": caught, "TimedOut": _token_wait(table, 3600)}  # as a flagged status waits again
        late = _machine(sfn, "token-late", states, "Wait")
        arn = sfn.start_execution(stateMachineArn=late, name="late", input="{}")["executionArn"]
        token = _token(ddb, table, "late")
        deadline = time.monotonic() + 20
        while (again := _token(ddb, table, "late")) == token:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # On AWS the deadline decides: the late answer is refused, not taken by a task that has gone.
        with pytest.raises(ClientError) as refused:
            sfn.send_task_success(taskToken=token, output=json.dumps({"late": True}))
        assert refused.value.response["Error"]["Code"] == "TaskTimedOut"
        sfn.send_task_success(taskToken=again, output=json.dumps({"waited": "again"}))
        assert _finished(sfn, arn) == {"waited": "again"}

        answered = _machine(sfn, "token-answered", {"Wait": _token_wait(table, 3600)}, "Wait")
        arn = sfn.start_execution(stateMachineArn=answered, name="answered", input="{}")["executionArn"]
        token = _token(ddb, table, "answered")
        sfn.send_task_success(taskToken=token, output=json.dumps({"n": 1}))
        with pytest.raises(ClientError):
            sfn.send_task_success(taskToken=token, output=json.dumps({"n": 2}))
        assert _finished(sfn, arn) == {"n": 1}


def test_executions_sharing_one_program_keep_their_own_retry_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    built = _noting(monkeypatch, Preprocessor, "visitState_machine", lambda _, ctx: ctx)
    with LocalHub(retry_time_scale=0.01):
        sfn = boto3.client("stepfunctions")
        # A call that always fails, retried twice: an execution that saw another's attempt count in the
        # shared program would try fewer (or more) times than three.
        failing = {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem",
            "Parameters": {"TableName": "no-such-table", "Key": {"k": {"S": "x"}}},
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
            "End": True,
        }
        machine = _machine(sfn, "retries", {"Try": failing, "Caught": {"Type": "Pass", "End": True}}, "Try")
        built.clear()
        started = [
            sfn.start_execution(stateMachineArn=machine, name=f"retry-{n}", input="{}")["executionArn"]
            for n in range(4)
        ]
        for arn in started:
            _finished(sfn, arn)
            attempts = [
                e for e in sfn.get_execution_history(executionArn=arn)["events"] if e["type"] == "TaskScheduled"
            ]
            assert len(attempts) == 3, arn
    assert len(built) == 1  # one program for the four executions (moto builds one each)


def test_the_state_machines_service_clients_are_made_once_per_service(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.session

    made: list[str] = []
    original = botocore.session.Session.create_client

    def counting(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name.startswith("Thread-"):  # the interpreter's, not a handler's
            made.append(service_name)
        return original(self, service_name, *args, **kwargs)

    with LocalHub() as hub:
        sfn, ddb = boto3.client("stepfunctions"), boto3.client("dynamodb")
        table = f"{hub.template.stack}-TasksTable"
        writes = {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem",
            "Parameters": {"TableName": table, "Item": {"task_id": {"S.$": "$$.Execution.Name"}}},
            "End": True,
        }
        machine = _machine(sfn, "writes", {"Write": writes}, "Write")
        monkeypatch.setattr(botocore.session.Session, "create_client", counting)
        started = [
            sfn.start_execution(stateMachineArn=machine, name=f"write-{n}", input="{}")["executionArn"]
            for n in range(5)
        ]
        for arn in started:
            _finished(sfn, arn)
        monkeypatch.setattr(botocore.session.Session, "create_client", original)
        assert all("Item" in ddb.get_item(TableName=table, Key={"task_id": {"S": f"write-{n}"}}) for n in range(5))
    assert made.count("dynamodb") == 1  # moto makes a client for every Task it runs


def test_an_update_expression_is_parsed_once_per_text_and_each_update_applies_its_own_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.dynamodb.parsing.expressions import ExpressionTokenizer

    tokenised = _noting(monkeypatch, ExpressionTokenizer, "make_list", lambda expression: expression, static=True)
    with LocalHub() as hub:
        ddb = boto3.client("dynamodb")
        table = f"{hub.template.stack}-TasksTable"
        add = "SET units = if_not_exists(units, :zero) + :n"
        for n in range(1, 6):
            ddb.update_item(
                TableName=table,
                Key={"task_id": {"S": "counted"}},
                UpdateExpression=add,
                ExpressionAttributeValues={":zero": {"N": "0"}, ":n": {"N": str(n)}},
            )
        item = ddb.get_item(TableName=table, Key={"task_id": {"S": "counted"}}, ConsistentRead=True)["Item"]
        assert item["units"] == {"N": "15"}
        with pytest.raises(ClientError):
            ddb.update_item(TableName=table, Key={"task_id": {"S": "counted"}}, UpdateExpression="SET = broken")
        with pytest.raises(ClientError):
            ddb.update_item(TableName=table, Key={"task_id": {"S": "counted"}}, UpdateExpression="SET = broken")
    assert tokenised.count(add) == 1  # moto parses it twice per UpdateItem: 10 times
    assert tokenised.count("SET = broken") == 2  # a refused expression is not kept


def test_the_update_validator_copies_the_tree_without_deepcopy_and_each_update_still_gets_its_own_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import copy

    from moto.dynamodb.parsing.ast_nodes import Node
    from moto.dynamodb.parsing.validators import ActionCountValidator

    tree_checked = _noting(monkeypatch, ActionCountValidator, "traverse", lambda _, node: node)
    # copy._reconstruct (private) is where deepcopy rebuilds each object; copy.copy passes no memo.
    deep_copied = _noting(
        monkeypatch,
        copy,
        "_reconstruct",
        lambda value, memo, *_, **__: type(value).__name__ if isinstance(value, Node) and memo is not None else None,
    )
    with LocalHub() as hub:
        ddb = boto3.client("dynamodb")
        table = f"{hub.template.stack}-TasksTable"
        key = {"task_id": {"S": "validated"}}
        grow = "SET tags = list_append(if_not_exists(tags, :none), :more), units = if_not_exists(units, :zero) + :n"
        for n in range(1, 4):
            ddb.update_item(
                TableName=table,
                Key=key,
                UpdateExpression=grow,
                ExpressionAttributeValues={
                    ":none": {"L": []},
                    ":more": {"L": [{"S": f"t{n}"}]},
                    ":zero": {"N": "0"},
                    ":n": {"N": str(n)},
                },
            )
        item = ddb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        assert (item["units"], item["tags"]) == ({"N": "6"}, {"L": [{"S": "t1"}, {"S": "t2"}, {"S": "t3"}]})
        with pytest.raises(ClientError) as key_update:
            ddb.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET task_id = :x",
                ExpressionAttributeValues={":x": {"S": "y"}},
            )
        assert "Cannot update attribute task_id" in key_update.value.response["Error"]["Message"]
        by_name = "SET #a = :x"
        ddb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression=by_name,
            ExpressionAttributeNames={"#a": "label"},
            ExpressionAttributeValues={":x": {"S": "y"}},
        )
        for _ in range(2):  # the same text naming the key attribute: refused every time
            with pytest.raises(ClientError) as named_key:
                ddb.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression=by_name,
                    ExpressionAttributeNames={"#a": "task_id"},
                    ExpressionAttributeValues={":x": {"S": "y"}},
                )
            assert "Cannot update attribute task_id" in named_key.value.response["Error"]["Message"]
        with pytest.raises(ClientError) as missing:
            ddb.update_item(TableName=table, Key=key, UpdateExpression="SET units = nowhere + units")
        assert "attribute that does not exist" in missing.value.response["Error"]["Message"]
    assert deep_copied == []  # moto deep-copies every node of the tree at every update
    # The tree-only passes run once for `grow` and once for `by_name` with "label"; the refused key
    # updates (three) and the missing path (refused later) ran them without passing: 6 times. moto runs
    # them at every validation (`grow`'s first update validates twice, it creates the item): 9 times
    assert len(tree_checked) == 6


def test_a_condition_expression_is_parsed_once_per_text_and_each_request_is_decided_on_its_own_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    lexed = _noting(
        monkeypatch, ConditionExpressionParser, "_lex_condition_expression", lambda parser: parser.condition_expression
    )
    with LocalHub() as hub:
        ddb = boto3.client("dynamodb")
        table = f"{hub.template.stack}-TasksTable"
        ddb.put_item(TableName=table, Item={"task_id": {"S": "c1"}, "units": {"N": "1"}})
        was = "units = :was"

        def put(task_id: str, units: int, expected: int) -> None:
            ddb.put_item(
                TableName=table,
                Item={"task_id": {"S": task_id}, "units": {"N": str(units)}},
                ConditionExpression=was,
                ExpressionAttributeValues={":was": {"N": str(expected)}},
            )

        put("c1", 2, expected=1)
        with pytest.raises(ClientError) as stale:
            put("c1", 3, expected=1)  # it holds 2 now
        assert stale.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
        put("c1", 3, expected=2)
        with pytest.raises(ClientError) as cancelled:
            ddb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {"task_id": {"S": task_id}, "units": {"N": "9"}},
                            "ConditionExpression": was,
                            "ExpressionAttributeValues": {":was": {"N": expected}},
                        }
                    }
                    for task_id, expected in (("c1", "3"), ("c2", "0"))  # c2 does not exist
                ]
            )
        reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
        assert reasons == ["None", "ConditionalCheckFailed"]
        assert ddb.get_item(TableName=table, Key={"task_id": {"S": "c1"}}, ConsistentRead=True)["Item"]["units"] == {
            "N": "3"
        }
        refusals = []
        for _ in range(2):
            with pytest.raises(ClientError) as refused:
                ddb.put_item(
                    TableName=table,
                    Item={"task_id": {"S": "c1"}},
                    ConditionExpression="status = :s",  # a reserved word needs a name placeholder
                    ExpressionAttributeValues={":s": {"S": "open"}},
                )
            refusals.append(refused.value.response["Error"])
        assert refusals[0] == refusals[1]
        assert refusals[0]["Code"] == "ValidationException"
        assert "reserved keyword" in refusals[0]["Message"]
    # moto lexes it twice in every PutItem and up to three times in a transaction Put: 11 times here
    assert lexed.count(was) == 1


def test_attribute_values_are_serialised_without_moto_s_picker_and_every_type_comes_back_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.core.serialize import AttributePicker

    test_thread = threading.get_ident()  # the stream readers starting beside it serialise their own answers
    picked = _noting(
        monkeypatch,
        AttributePicker,
        "__call__",
        lambda _, context: context.key if threading.get_ident() == test_thread else None,
    )
    item = {
        "task_id": {"S": "every-type"},
        "n": {"N": "-1.5"},
        "b": {"B": b"\x00\xffbytes"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"x", b"y"]},
        "m": {"M": {"inner": {"L": [{"S": "deep"}, {"BOOL": False}, {"NULL": True}]}}},
        "empty": {"S": ""},
    }
    with LocalHub() as hub:
        ddb = boto3.client("dynamodb")
        table = f"{hub.template.stack}-TasksTable"
        ddb.put_item(TableName=table, Item=item)
        picked.clear()
        got = ddb.get_item(TableName=table, Key={"task_id": item["task_id"]}, ConsistentRead=True)["Item"]
        answered = list(picked)
        many = ddb.batch_get_item(RequestItems={table: {"Keys": [{"task_id": item["task_id"]}]}})

    def sets_sorted(attributes: dict[str, Any]) -> dict[str, Any]:  # a set's order is not kept
        return {
            k: {t: sorted(v) if t in ("SS", "NS", "BS") else v for t, v in a.items()} for k, a in attributes.items()
        }

    assert sets_sorted(got) == sets_sorted(item)
    assert many["Responses"][table] == [got]
    # GetItem's own members only; moto asks for each of the ten members of every attribute value, nested too
    assert answered == ["Item", "ConsumedCapacity"]


def test_a_state_timing_out_leaves_no_error_log_of_the_interpreter(caplog: pytest.LogCaptureFixture) -> None:
    with LocalHub() as hub, caplog.at_level(logging.ERROR):
        sfn = boto3.client("stepfunctions")
        table = f"{hub.template.stack}-TasksTable"
        unanswered = _machine(sfn, "quiet-timeout", {"Wait": _token_wait(table, 1)}, "Wait")
        arn = sfn.start_execution(stateMachineArn=unanswered, name="quiet", input="{}")["executionArn"]
        described = _ended(sfn, arn)
        assert described.get("error") == "States.Timeout"  # the history still says so
    # moto logs the failure with the state's whole parse tree (tens of KB) at ERROR.
    assert not [r for r in caplog.records if r.name.startswith(ASL_LOGGER)]


def _ended(sfn: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ended: dict[str, Any] = described
    return ended


def test_stream_records_are_answered_without_moto_s_serialiser_and_every_type_comes_back_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.config import Config
    from moto.core.serialize import ResponseSerializer

    test_thread = threading.get_ident()  # the hub's own stream readers serialise beside it
    serialised = _noting(
        monkeypatch,
        ResponseSerializer,
        "serialize",
        lambda serializer, *_: serializer.operation_model.name if threading.get_ident() == test_thread else None,
    )
    item = {
        "pk": {"S": "every-type"},
        "n": {"N": "-1.5"},
        "b": {"B": b"\x00\xffbytes"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"x", b"y"]},
        "m": {"M": {"inner": {"L": [{"S": "deep"}, {"BOOL": False}, {"NULL": True}, {"B": b"\x01nested"}]}}},
        "empty": {"S": ""},
    }
    key = {"pk": item["pk"]}
    second = {**key, "n": {"N": "2"}}
    with LocalHub():
        ddb = boto3.client("dynamodb")
        ddb.create_table(
            TableName="stream-serialisation",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        ddb.put_item(TableName="stream-serialisation", Item=item)
        ddb.put_item(TableName="stream-serialisation", Item=second)
        ddb.delete_item(TableName="stream-serialisation", Key=key)
        streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
        arn = ddb.describe_table(TableName="stream-serialisation")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        serialised.clear()
        answer = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=10)
        answered = list(serialised)
        later = streams.get_records(ShardIterator=answer["NextShardIterator"])

    def sets_sorted(attributes: dict[str, Any]) -> dict[str, Any]:  # a set's order is not kept
        return {
            k: {t: sorted(v) if t in ("SS", "NS", "BS") else v for t, v in a.items()} for k, a in attributes.items()
        }

    records = [record["dynamodb"] for record in answer["Records"]]
    assert [record["eventName"] for record in answer["Records"]] == ["INSERT", "MODIFY", "REMOVE"]
    assert [r["Keys"] for r in records] == [key] * 3
    assert sets_sorted(records[0]["NewImage"]) == sets_sorted(item) and "OldImage" not in records[0]
    assert sets_sorted(records[1]["OldImage"]) == sets_sorted(item) and records[1]["NewImage"] == second
    assert records[2]["OldImage"] == second and "NewImage" not in records[2]
    assert all(isinstance(r["SizeBytes"], int) and r["StreamViewType"] == "NEW_AND_OLD_IMAGES" for r in records)
    created = [r["ApproximateCreationDateTime"] for r in records]
    assert created == sorted(created) and all(c.tzinfo is not None and c.microsecond % 1000 == 0 for c in created)
    assert later["Records"] == []
    assert answered == []  # moto walks its output model for every record, image and attribute value
