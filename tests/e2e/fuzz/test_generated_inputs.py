"""Schemathesis' valid and invalid inputs for every operation of the hub's own OpenAPI schema, through the
local HTTP front with API Gateway's semantics, as `oms-hub local` serves it: no input may end in a 5xx, a
valid one is answered as the schema declares, every error is `{error, message}` (tests/support/fuzzing.py)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import given
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance
from schemathesis.generation import GenerationMode

from oms_local.runtime import LocalHub
from tests.support.fuzzing import CHECKS, EXAMPLES_PER_OPERATION, each, examples, is_error_json, key_for


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_no_input_makes_the_hub_fail(hub: LocalHub, operations: list[Any], mode: GenerationMode) -> None:
    def run(operation: Any) -> None:
        @given(case=operation.as_strategy(generation_mode=mode))
        @examples(EXAMPLES_PER_OPERATION)
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers=key_for(hub, operation))
            # An invalid input may be refused with any declared 4xx; a valid one must be answered as declared.
            case.validate_response(
                response,
                checks=CHECKS
                if mode is GenerationMode.POSITIVE
                else [not_a_server_error, content_type_conformance, response_schema_conformance],
            )
            is_error_json(response)

        fuzz()

    each(operations, run)
