"""The REST resolver every HTTP function uses: validation, OpenAPI and the error contract.

Every error answer is `{"error": code, "message": text, ...}`; validation errors carry
`details: [{loc, msg}]`; nothing the caller sends can end in a 5xx.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from common.errors import HubError
from common.observability import logger


def error_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body),
                    headers=headers)


def install_error_contract(app: APIGatewayRestResolver) -> None:
    """Each handler module creates its own `app = APIGatewayRestResolver(...)` (the OpenAPI merge finds
    resolvers by that assignment) and calls this once."""

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response:
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "invalid")} for e in error.errors()]
        return error_response(422, {"error": "validation_error", "message": "the request is not valid",
                                    "details": details})

    @app.exception_handler(RequestUnsupportedContentType)
    def _not_json(_: RequestUnsupportedContentType) -> Response:
        return error_response(415, {"error": "unsupported_media_type",
                                    "message": "send the body as application/json"})

    @app.exception_handler(HubError)
    def _hub(error: HubError) -> Response:
        if error.status >= 500:
            logger.warning("request could not be served", extra={"error": error.code})
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
        return error_response(error.status, error.body(), headers)

    @app.not_found
    def _no_route(_: NotFoundError) -> Response:
        return error_response(404, {"error": "not_found", "message": "no such route"})

    @app.exception_handler(Exception)
    def _unexpected(_: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR,
                              {"error": "internal_error", "message": "unexpected error; it has been logged"})
