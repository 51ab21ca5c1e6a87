"""What schemathesis does not generate, for every operation of the hub's own OpenAPI schema: odd content
types, deep, huge and broken bodies, missing and wrong API keys, and the transport answers the schema
declares (tests/support/fuzzing.py)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import given
from schemathesis.generation import GenerationMode

from oms_local.runtime import LocalHub
from tests.support.fuzzing import EXAMPLES_PER_OPERATION, each, examples, guarded, is_error_json, key_for

HEADER_SAFE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)  # what a header value may carry
CONTENT_TYPES = [
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/mixed; boundary=x",
    "application/x-www-form-urlencoded",
    "text/plain",
    "application/json; charset=latin-1",
    "application/json; charset=utf-16",
    "application/xml",
    "application/octet-stream",
    ";",
    "*/*",
    "application/json; charset",
    "application/",
]


def test_odd_content_types_are_415(hub: LocalHub, operations: list[Any]) -> None:
    """Valid bodies sent as something else than JSON (the schema declares only application/json)."""

    def run(operation: Any) -> None:
        @given(
            case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            content_type=st.sampled_from(CONTENT_TYPES) | st.text(HEADER_SAFE, max_size=40).map(str.strip),
        )
        @examples(max(EXAMPLES_PER_OPERATION // 2, 10))
        def fuzz(case: schemathesis.Case, content_type: str) -> None:
            response = case.call(headers={**key_for(hub, operation), "content-type": content_type})
            assert response.status_code < 500, (content_type, response.status_code, response.text[:300])
            if content_type in CONTENT_TYPES:  # or 404: a path parameter no route takes is refused first
                assert response.status_code == 415 or (response.status_code == 404 and operation.path_parameters), (
                    content_type,
                    response.status_code,
                    response.text[:300],
                )
            is_error_json(response)

        fuzz()

    each([op for op in operations if op.body and guarded(op)], run)


def test_every_operation_declares_the_transport_answers(operations: list[Any]) -> None:
    """413 and 415 (a body), 404 (a path parameter no route takes) are answers of the contract: the
    schema says which operations give them."""
    with_body = [op for op in operations if op.body]
    assert len(with_body) >= 8
    for operation in with_body:
        declared = set(operation.definition.raw["responses"])
        assert {"413", "415", "422"} <= declared, (operation.label, declared)
    for operation in [op for op in operations if "{" in op.path]:
        assert "404" in operation.definition.raw["responses"], operation.label


def test_deep_huge_and_broken_bodies_are_4xx(hub: LocalHub, operations: list[Any]) -> None:
    """Bodies no schema describes: nested 1,000 deep, over a mebibyte, empty, with a byte-order mark."""
    deep = "[" * 1000 + "]" * 1000
    bodies = [deep, '{"a":' + deep + "}", '{"a":"' + "x" * (1024 * 1024) + '"}', "", "\ufeff{}", "{"]

    def run(operation: Any) -> None:
        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        @examples(2)
        def fuzz(case: schemathesis.Case) -> None:
            for body in bodies:  # sent as they are, not as the JSON string schemathesis would make of them
                answer = hub.http(
                    case.method,
                    case.formatted_path,
                    query=urlencode(case.query or {}, doseq=True),
                    headers={**key_for(hub, operation), "content-type": "application/json"},
                    body=body.encode(),
                )
                assert 400 <= answer.status < 500, (body[:20], answer.status, answer.body[:300])
                error = json.loads(answer.body)
                assert {"error", "message"} <= set(error) or isinstance(error.get("error"), dict), error

        fuzz()

    each([op for op in operations if op.method.upper() in ("POST", "PUT")], run)


@pytest.mark.parametrize("key", [None, "wrong-key-000000000000"], ids=["no key", "wrong key"])
def test_no_operation_answers_without_the_api_key(hub: LocalHub, operations: list[Any], key: str | None) -> None:
    keyed = [op for op in operations if guarded(op)]
    assert len(keyed) >= 11

    def run(operation: Any) -> None:
        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        @examples(max(EXAMPLES_PER_OPERATION // 4, 5))
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers={"x-api-key": key} if key else {})
            body = response.json()
            # A path no route takes (a path parameter with a slash once decoded) is API Gateway's 404
            # before any key is checked: no data either.
            unrouted = response.status_code == 404 and body.get("error") == "not_found"
            assert response.status_code in (401, 403) or unrouted, (response.status_code, response.text[:300])
            assert set(body) <= {"error", "message"}, body  # nothing of the hub's data

        fuzz()

    each(keyed, run)
