"""The REST resolver every HTTP function uses: validation, OpenAPI and the error contract.

Every error answer is `{"error": code, "message": text, ...}`; validation errors carry
`details: [{loc, msg}]`; nothing the caller sends can end in a 5xx.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel, ConfigDict

from common.bodies import BodyRefused, json_text
from common.errors import BadRequest, HubError, PayloadTooLarge, Unprocessable
from common.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse


def raw_body(event: APIGatewayProxyEvent) -> bytes:
    """The bytes the caller sent: API Gateway hands a body over as text, or base64 when it is binary."""
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8", errors="surrogatepass")  # a lone surrogate: not UTF-8, refused later
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("the body is marked base64 but is not") from None


def checked_json_text(raw: bytes) -> str:
    """`raw` as text a JSON parser may be given (size, UTF-8, depth), else a 413/400 HubError."""
    try:
        return json_text(raw)
    except BodyRefused as refused:
        raise (PayloadTooLarge if refused.status == 413 else BadRequest)(str(refused)) from None


def _json_media_type(content_type: str) -> bool:
    """application/json or a +json type, in UTF-8 (JSON's only encoding); no header means JSON."""
    if not content_type.strip():
        return True
    media, *params = [part.strip().lower() for part in content_type.split(";")]
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        return False
    charsets = [
        value.strip().strip('"') for name, _, value in (p.partition("=") for p in params) if name.strip() == "charset"
    ]
    return all(charset in ("utf-8", "utf8") for charset in charsets)


def _unsupported(content_type: str) -> RequestUnsupportedContentType:
    return RequestUnsupportedContentType(
        "Unsupported content type",
        errors=[
            {
                "type": "unsupported_content_type",
                "loc": ("body",),
                "msg": f"Unsupported content type: {content_type}",
                "input": {},
                "ctx": {},
            }
        ],
    )


def _invalid_body(message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": message, "input": {}, "ctx": {}}])


def json_request_body(event: APIGatewayProxyEvent) -> Any:
    """The JSON body of an API request, refusing what powertools' own body handling would fail on
    (a multipart type without boundary, bad base64, deep nesting, a huge body) with a 4xx."""
    content_type = (event.headers or {}).get("content-type", "") or ""
    if not _json_media_type(content_type):
        raise _unsupported(content_type)
    raw = raw_body(event)
    if not raw.strip():
        return None  # "Field required" from validation, as for any missing body
    try:
        text = json_text(raw)
    except BodyRefused as refused:
        if refused.status == 413:
            raise PayloadTooLarge(str(refused)) from None
        raise _invalid_body(str(refused)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", error.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": error.msg},
                }
            ]
        ) from None


class _JsonBodies(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation with the hub's body reading: the API speaks JSON only."""

    def _get_body(self, app: Any) -> Any:
        return json_request_body(app.current_event)


class ErrorDetail(BaseModel):
    loc: list[str | int]
    msg: str


class ErrorAnswer(BaseModel):
    """Every error answer (docs/api.md): a code, a message, and what the code carries (details, status, ...)."""

    model_config = ConfigDict(extra="allow")

    error: str
    message: str
    details: list[ErrorDetail] | None = None


def declared_error(description: str) -> OpenAPIResponse:
    """An error answer for a route's OpenAPI `responses`: without its own content, powertools would give it
    the route's return model."""
    return {"description": description, "content": {"application/json": {"model": ErrorAnswer}}}


def declared_answers(answers: Mapping[int, str]) -> dict[int, OpenAPIResponse]:
    """A route's OpenAPI `responses` from status -> description: an error status (4xx, 5xx) answers the error
    contract (`declared_error`), another one the route's own model."""
    return {
        status: declared_error(text) if status >= 400 else {"description": text} for status, text in answers.items()
    }


# The one mapping of the hub's errors (by code) to HTTP: the status, and Retry-After seconds for an error
# the same request may get past later.
_HTTP: dict[str, tuple[int, int | None]] = {
    "bad_request": (400, None),
    "unauthorized": (401, None),
    "not_found": (404, None),
    "invalid_transition": (409, None),
    "order_busy": (409, 1),
    "action_pending": (409, None),
    "conflict": (409, None),
    "insufficient_stock": (409, None),
    "partner_unavailable": (409, 60),  # the partner sends the push again later
    "payload_too_large": (413, None),
    "validation_error": (422, None),
    "acquirer_unavailable": (502, None),
    "stock_contention": (503, 1),
    "lifecycle_unavailable": (503, 1),
}
_UNEXPECTED = (500, None)


def http_status(error: HubError) -> int:
    return _HTTP.get(error.code, _UNEXPECTED)[0]


def error_body(error: HubError) -> dict[str, Any]:
    """The answer's body; a validation error's problems become its details, located (body or query) as
    the request validation locates them."""
    if not (isinstance(error, Unprocessable) and error.problems):
        return error.body()
    details = [{"loc": [problem.part, *problem.field], "msg": problem.msg} for problem in error.problems]
    return {"error": error.code, "message": error.message, "details": details, **error.extra}


def error_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body), headers=headers
    )


def _invalid(error: RequestValidationError) -> Response[str]:
    details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "invalid")} for e in error.errors()]
    return error_response(422, {"error": "validation_error", "message": "the request is not valid", "details": details})


def _not_json(_: RequestUnsupportedContentType) -> Response[str]:
    return error_response(415, {"error": "unsupported_media_type", "message": "send the body as application/json"})


def _hub(error: HubError) -> Response[str]:
    status, retry_after = _HTTP.get(error.code, _UNEXPECTED)
    if status >= 500:
        logger.warning("request could not be served", extra={"error": error.code})
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return error_response(status, error_body(error), headers)


def _no_route(_: NotFoundError) -> Response[str]:
    return error_response(404, {"error": "not_found", "message": "no such route"})


def _unexpected(_: Exception) -> Response[str]:
    logger.exception("unhandled error")
    return error_response(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        {"error": "internal_error", "message": "unexpected error; it has been logged"},
    )


def install_error_contract(app: APIGatewayRestResolver) -> None:
    """Each handler module creates its own `app = APIGatewayRestResolver(...)` (the OpenAPI merge finds
    resolvers by that assignment) and calls this once."""
    # Every route's middleware stack is built on its first request and takes this one: bodies are
    # read by the hub's rules on AWS as locally, whichever function serves the route.
    app._request_validation_middleware = _JsonBodies()  # type: ignore[no-untyped-call]  # powertools' __init__ is unannotated
    # Registered by call, not as decorators: powertools' exception_handler returns an unannotated decorator.
    app.exception_handler(RequestValidationError)(_invalid)
    app.exception_handler(RequestUnsupportedContentType)(_not_json)
    app.exception_handler(HubError)(_hub)
    app.not_found(_no_route)
    app.exception_handler(Exception)(_unexpected)
