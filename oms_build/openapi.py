"""The hub's OpenAPI document (functions/orders/openapi.json), merged from every function's resolver at
build time. Merging it in the orders function took powertools' OpenAPI models (about 0.2 s of pydantic
model building) into every cold start, for a document that only changes with the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, SecurityScheme

from common.bodies import MAX_BODY_BYTES
from oms_build import ROOT
from orders.handlers import api as orders_api
from partners.handlers import webhooks as webhooks_api

FUNCTIONS = ROOT / "functions"
DOCUMENT = FUNCTIONS / "orders" / "openapi.json"
TITLE = "oms-hub"
RESOLVERS = ["*/handlers/api.py", "*/handlers/webhooks.py"]  # every function that serves HTTP

# What every operation with a JSON body may also answer, whichever function serves it.
TRANSPORT_ERRORS = {
    "413": f"The body is larger than the API takes ({MAX_BODY_BYTES} bytes); nothing changed",
    "415": "The body is not sent as application/json (or a +json type) in UTF-8; nothing changed",
}
# What API Gateway answers before the function runs (template.yaml's GatewayResponses), for an
# operation that takes the API key.
GATEWAY_ERRORS = {
    "401": "Missing or invalid x-api-key; nothing changed",
    "429": "Too many requests for the caller's usage plan; retry later",
}
# Powertools routes a path parameter only if its characters are word characters or URI-safe ones: any
# other value (a control character, a symbol) is answered 404 before the route's own code runs.
UNROUTABLE = "No such route: a path parameter with characters no route takes"
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


def declare_transport_errors(document: dict[str, Any]) -> dict[str, Any]:
    """The transport answers added: 413 and 415 to every operation taking a body, 404 to every operation
    with a path parameter, 401 and 429 to every operation that takes the API key (unless it declares
    its own)."""
    default_security = document.get("security", [])
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            answers = dict(TRANSPORT_ERRORS) if "requestBody" in operation else {}
            if any("apiKey" in requirement for requirement in operation.get("security", default_security)):
                answers.update(GATEWAY_ERRORS)
            if "{" in path:
                answers["404"] = UNROUTABLE
            for status, description in answers.items():
                operation.setdefault("responses", {}).setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}
                )
    return document


def document() -> dict[str, Any]:
    signed: dict[str, SecurityScheme] = {
        # API Gateway takes the acquirer's callback without the API key: its X-Signature authenticates it.
        "acquirerSignature": APIKey(name="X-Signature", in_=APIKeyIn.header)
    }
    # The merge takes the resolvers already imported; each one's own schema must know the schemes its
    # routes name (configured here, not in the functions: the schemes' models would load at cold start).
    orders_api.app.configure_openapi(security_schemes=signed)
    webhooks_api.app.configure_openapi(security_schemes={"channelToken": APIKey(name="token", in_=APIKeyIn.query)})
    merge = OpenAPIMerge(
        title=TITLE,
        version="1.0.0",
        on_conflict="error",
        security_schemes={"apiKey": APIKey(name="x-api-key", in_=APIKeyIn.header), **signed},
        security=[{"apiKey": []}],
    )
    merge.discover(path=FUNCTIONS, pattern=RESOLVERS)
    return declare_transport_errors(json.loads(merge.get_openapi_json_schema()))


def rendered() -> dict[Path, str]:
    return {DOCUMENT: json.dumps(document(), indent=1, ensure_ascii=False) + "\n"}
