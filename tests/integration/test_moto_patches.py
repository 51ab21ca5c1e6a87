"""The local runtime's patches of moto keep AWS's behaviour and only remove moto's own costs."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from oms_local.runtime import LocalHub


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every definition moto's ANTLR grammar is run on from now, in order."""
    parsed: list[str] = []
    original = AmazonStateLanguageParser.parse

    def counting(definition: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(definition)
        return original(definition, *args, **kwargs)

    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(counting))
    return parsed


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
        valid = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
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
