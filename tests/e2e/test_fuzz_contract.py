"""Property-based fuzzing of every operation in the hub's own OpenAPI schema (schemathesis).

The contract's rule: no request may end in a 5xx because of what the caller sent, and every error
is JSON with `error` and `message`. Schemathesis generates bodies, path and query values from
/v1/openapi.json (valid ones and, for a share, invalid ones) and sends them through the local HTTP
front, with API Gateway's semantics, exactly as `oms-hub local` serves them.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from oms_local.runtime import LocalHub
from oms_local.server import build_app
from tests.conftest import Api, one_warehouse

EXAMPLES_PER_OPERATION = 25


def test_no_input_makes_the_hub_fail() -> None:
    with LocalHub() as hub:
        one_warehouse(Api(hub), sku_units=50)
        schema = schemathesis.openapi.from_asgi("/v1/openapi.json", build_app(hub))
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 11
        for operation, mode in [(op, mode) for op in operations for mode in GenerationMode]:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def fuzz(case: schemathesis.Case) -> None:
                response = case.call(headers={"x-api-key": hub.api_key})
                case.validate_response(response, checks=[not_a_server_error])
                if response.status_code >= 400:
                    try:
                        body = response.json()
                    except ValueError:
                        raise AssertionError(f"{response.status_code} error is not JSON: {response.text!r}") from None
                    assert {"error", "message"} <= set(body), response.text

            try:
                fuzz()
            except Unsatisfiable:
                continue  # an operation with no parameters has no invalid inputs to make
            except Exception as failure:  # name the operation the counter-example came from
                pytest.fail(f"{operation.label} ({mode.value} inputs): {failure}")
