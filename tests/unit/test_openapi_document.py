"""The API's OpenAPI document is built with the code, and the HTTP functions' cold start skips what
only that build needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from oms_build import openapi
from oms_build.blocks import stale_files

FUNCTIONS = Path(__file__).parents[2] / "functions"


def test_the_committed_openapi_document_is_what_the_resolvers_generate() -> None:
    assert stale_files(openapi.rendered()) == [], "run `oms-hub workflows build`"


def test_the_document_describes_every_function_that_serves_http() -> None:
    paths = json.loads(openapi.DOCUMENT.read_text())["paths"]
    assert {"/v1/orders", "/v1/availability", "/v1/delivery-promise", "/v1/webhooks/{channel_id}"} <= set(paths)


def test_the_http_functions_import_neither_the_openapi_models_nor_the_xray_sdk() -> None:
    handlers = [
        "orders.handlers.api",
        "delivery.handlers.api",
        "inventory.handlers.api",
        "partners.handlers.webhooks",
        "catalog.handlers.api",
    ]
    heavy = ["aws_lambda_powertools.event_handler.openapi.models", "aws_xray_sdk"]
    code = f"import sys; import {', '.join(handlers)}; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=FUNCTIONS, capture_output=True, text=True, check=True, env={"PYTHONPATH": "."}
    )
    assert done.stdout.strip() == "[]"
