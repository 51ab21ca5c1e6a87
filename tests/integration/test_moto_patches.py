"""The local runtime's patches of moto keep AWS's behaviour and only remove moto's own costs."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from oms_local.runtime import LocalHub


def test_a_definition_moto_validated_once_is_not_parsed_again_and_a_bad_one_is_still_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalHub():
        pass  # every template definition validated once in this process
    parsed: list[str] = []
    original = AmazonStateLanguageParser.parse

    def counting(definition: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(definition)
        return original(definition, *args, **kwargs)

    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(counting))
    with LocalHub():
        assert parsed == []  # the same seven machines again: no grammar run
        sfn = boto3.client("stepfunctions")
        role = "arn:aws:iam::123456789012:role/lifecycle"
        with pytest.raises(ClientError) as refused:
            sfn.create_state_machine(name="broken", roleArn=role, definition=json.dumps(
                {"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "End": True, "Bogus": 1}}}))
        assert "ASLParserException" in refused.value.response["Error"]["Message"]  # moto's InvalidDefinition
        valid = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
        sfn.create_state_machine(name="fresh", roleArn=role, definition=valid)
        assert len(parsed) == 2  # a new definition is parsed, the refused one too
