"""Property-based fuzzing of every operation in the hub's own OpenAPI schema (schemathesis): the checks
and helpers the tests in tests/e2e/fuzz share.

The contract's rule: no request may end in a 5xx because of what the caller sent, every answer is the
one the schema declares (status code, content type, body schema), every error is JSON with `error` and
`message`, and no operation answers data to a caller without the right API key.

OMS_FUZZ_EXAMPLES sets the examples per operation and generation mode (default 50: with the content
type, body, auth and stateful runs, about 160 requests per operation, 3,500 in all, which keeps make test
within its budget); raise it for a deeper run (OMS_FUZZ_EXAMPLES=200 make test).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from oms_local.runtime import LocalHub

EXAMPLES_PER_OPERATION = int(os.environ.get("OMS_FUZZ_EXAMPLES", "50"))
STATEFUL_SCENARIOS = max(EXAMPLES_PER_OPERATION, 5)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def examples(count: int) -> settings:
    """hypothesis' settings for `count` examples, none replayed from a database, no deadline."""
    return settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def guarded(operation: Any) -> bool:
    """Whether the schema says the operation takes the API key (partners and the acquirer authenticate
    with their own token or signature instead)."""
    declared = operation.definition.raw.get("security", [{"apiKey": []}])  # the API's default: the key
    return any("apiKey" in requirement for requirement in declared)


def key_for(hub: LocalHub, operation: Any) -> dict[str, str]:
    return {"x-api-key": hub.api_key} if guarded(operation) else {}


def is_error_json(response: Any) -> None:
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            raise AssertionError(f"{response.status_code} error is not JSON: {response.text!r}") from None
        assert isinstance(body, dict) and {"error", "message"} <= set(body), response.text


def each(operations: list[Any], run: Callable[[Any], None]) -> None:
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
