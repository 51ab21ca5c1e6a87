"""Property-based fuzzing of every operation in the hub's own OpenAPI schema (schemathesis).

The contract's rule: no request may end in a 5xx because of what the caller sent, every answer is the
one the schema declares (status code, content type, body schema), every error is JSON with `error` and
`message`, and no operation answers data to a caller without the right API key. Schemathesis generates
bodies, path and query values from /v1/openapi.json (valid ones and invalid ones), walks the links it
infers between operations (an order created, then read, evented, returned), and the tests add what it
does not generate: odd content types, deep and huge bodies, missing and wrong keys. Everything goes
through the local HTTP front, with API Gateway's semantics, exactly as `oms-hub local` serves it.

OMS_FUZZ_EXAMPLES sets the examples per operation and generation mode (default 80: with the content
type, body, auth and stateful runs, about 250 requests per operation, 5,500 in all, about two minutes
on two cores); raise it for a deeper run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.schemas import OpenApiSchema

from oms_local.runtime import LocalHub
from oms_local.server import build_app
from tests.support.api import Api
from tests.support.builders import one_warehouse

EXAMPLES_PER_OPERATION = int(os.environ.get("OMS_FUZZ_EXAMPLES", "80"))
STATEFUL_SCENARIOS = max(EXAMPLES_PER_OPERATION, 5)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
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


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def hub() -> Iterator[LocalHub]:
    with LocalHub() as running:
        one_warehouse(Api(running), sku_units=50)
        yield running


@pytest.fixture(scope="module")
def schema(hub: LocalHub) -> OpenApiSchema:
    return schemathesis.openapi.from_asgi("/v1/openapi.json", build_app(hub))


@pytest.fixture(scope="module")
def operations(schema: OpenApiSchema) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 11
    return found


def _guarded(operation: Any) -> bool:
    """Whether the schema says the operation takes the API key (partners and the acquirer authenticate
    with their own token or signature instead)."""
    declared = operation.definition.raw.get("security", [{"apiKey": []}])  # the API's default: the key
    return any("apiKey" in requirement for requirement in declared)


def _is_error_json(response: Any) -> None:
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            raise AssertionError(f"{response.status_code} error is not JSON: {response.text!r}") from None
        assert isinstance(body, dict) and {"error", "message"} <= set(body), response.text


def _each(operations: list[Any], run: Callable[[Any], None]) -> None:
    """Run every operation, then report every one that failed (not only the first)."""
    failures = []
    for operation in operations:
        try:
            run(operation)
        except Unsatisfiable:
            continue  # an operation with no parameters has no invalid inputs to make
        except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - name the operation it came from
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)


def _key(hub: LocalHub, operation: Any) -> dict[str, str]:
    return {"x-api-key": hub.api_key} if _guarded(operation) else {}


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_no_input_makes_the_hub_fail(hub: LocalHub, operations: list[Any], mode: GenerationMode) -> None:
    def run(operation: Any) -> None:
        @given(case=operation.as_strategy(generation_mode=mode))
        @_settings(EXAMPLES_PER_OPERATION)
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers=_key(hub, operation))
            # An invalid input may be refused with any declared 4xx; a valid one must be answered as declared.
            case.validate_response(
                response,
                checks=CHECKS
                if mode is GenerationMode.POSITIVE
                else [not_a_server_error, content_type_conformance, response_schema_conformance],
            )
            _is_error_json(response)

        fuzz()

    _each(operations, run)


def test_odd_content_types_are_415(hub: LocalHub, operations: list[Any]) -> None:
    """Valid bodies sent as something else than JSON (the schema declares only application/json)."""

    def run(operation: Any) -> None:
        @given(
            case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            content_type=st.sampled_from(CONTENT_TYPES) | st.text(HEADER_SAFE, max_size=40).map(str.strip),
        )
        @_settings(max(EXAMPLES_PER_OPERATION // 2, 10))
        def fuzz(case: schemathesis.Case, content_type: str) -> None:
            response = case.call(headers={**_key(hub, operation), "content-type": content_type})
            assert response.status_code < 500, (content_type, response.status_code, response.text[:300])
            if content_type in CONTENT_TYPES:  # or 404: a path parameter no route takes is refused first
                assert response.status_code == 415 or (response.status_code == 404 and operation.path_parameters), (
                    content_type,
                    response.status_code,
                    response.text[:300],
                )
            _is_error_json(response)

        fuzz()

    _each([op for op in operations if op.body and _guarded(op)], run)


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
        @_settings(2)
        def fuzz(case: schemathesis.Case) -> None:
            for body in bodies:  # sent as they are, not as the JSON string schemathesis would make of them
                answer = hub.http(
                    case.method,
                    case.formatted_path,
                    query=urlencode(case.query or {}, doseq=True),
                    headers={**_key(hub, operation), "content-type": "application/json"},
                    body=body.encode(),
                )
                assert 400 <= answer.status < 500, (body[:20], answer.status, answer.body[:300])
                error = json.loads(answer.body)
                assert {"error", "message"} <= set(error) or isinstance(error.get("error"), dict), error

        fuzz()

    _each([op for op in operations if op.method.upper() in ("POST", "PUT")], run)


@pytest.mark.parametrize("key", [None, "wrong-key-000000000000"], ids=["no key", "wrong key"])
def test_no_operation_answers_without_the_api_key(hub: LocalHub, operations: list[Any], key: str | None) -> None:
    guarded = [op for op in operations if _guarded(op)]
    assert len(guarded) >= 11

    def run(operation: Any) -> None:
        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        @_settings(max(EXAMPLES_PER_OPERATION // 4, 5))
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers={"x-api-key": key} if key else {})
            body = response.json()
            # A path no route takes (a path parameter with a slash once decoded) is API Gateway's 404
            # before any key is checked: no data either.
            unrouted = response.status_code == 404 and body.get("error") == "not_found"
            assert response.status_code in (401, 403) or unrouted, (response.status_code, response.text[:300])
            assert set(body) <= {"error", "message"}, body  # nothing of the hub's data

        fuzz()

    _each(guarded, run)


def test_stateful_walks_along_the_inferred_links(hub: LocalHub, schema: OpenApiSchema) -> None:
    """The schema declares no links; schemathesis infers them from the operations' parameters and
    answers (an order's id from POST /v1/orders into its events, returns, substitutions)."""
    inferred = schema.apply_stateful_inference(None)
    assert inferred.selected >= 10, inferred
    api_key = hub.api_key
    steps: list[str] = []

    class Walk(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case) -> None:
            if _guarded(case.operation):
                case.headers = {**(case.headers or {}), "x-api-key": api_key}
            steps.append(case.operation.label)

        def validate_response(
            self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)
            _is_error_json(response)

    Walk.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=10,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert len(steps) >= STATEFUL_SCENARIOS and len(set(steps)) >= 5, steps
