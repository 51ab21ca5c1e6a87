"""HTTP API of the orders function: intake, queries, operator events, workflows, API docs."""

from __future__ import annotations

import functools
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from aws_lambda_powertools import event_handler
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from common.api import checked_json_text, declared_answers, install_error_contract, raw_body
from common.clock import utc_now
from common.errors import NotFound, Problem, Unauthorized, Unprocessable
from common.models import Moment
from common.observability import logger, metrics
from common.signatures import signature_matches
from orders.domain.models import Order, OrderEventIn, OrderIn, PaymentCallbackIn, ReturnIn, ShortPickIn
from orders.domain.substitution import SubstitutionIn
from orders.use_cases import action_retry, events, intake, payments, queries, returns, substitution

app = APIGatewayRestResolver(enable_validation=True)
install_error_contract(app)
# The whole API's OpenAPI document, merged from every function's resolver by `oms-hub workflows build`
# (oms_build/openapi.py): merging it here would load powertools' OpenAPI models into every cold start.
OPENAPI_DOCUMENT = FilePath(__file__).parents[1] / "openapi.json"


@app.post(
    "/v1/orders",
    tags=["orders"],
    summary="Accept an order (idempotent on channel + external_id)",
    responses=declared_answers({201: "Created", 200: "Already accepted: the same order"}),
)
def create_order(body: Annotated[OrderIn, Body()]) -> Response[Order]:
    order, created = intake.accept_order(body, utc_now())
    return Response(
        status_code=201 if created else 200,
        content_type=content_types.APPLICATION_JSON,
        # The JSON form: powertools validates a Response's body against its declared model (Order) itself.
        body=order.model_dump(mode="json"),  # type: ignore[arg-type]
    )


STATUS_MAX = 32


@app.get(
    "/v1/orders",
    tags=["orders"],
    summary="List orders, newest first; with due_before, the due list: soonest deadline first (docs/sla.md)",
)
def list_orders(
    status: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=(STATUS_MAX + 1) * queries.MAX_DUE_STATUSES,
            description=f"One status (at most {STATUS_MAX} characters); with due_before, S[,S2] "
            f"(up to {queries.MAX_DUE_STATUSES}, each a status some workflow waits in)",
        ),
    ] = None,
    channel: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    due_before: Annotated[
        Moment | None,
        Query(description="The due list: orders whose deadline in their status is before this time (with offset)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> dict[str, Any]:
    if due_before is not None:
        return queries.due_orders(status.split(",") if status else [], due_before, channel, limit, cursor)
    if status is not None and len(status) > STATUS_MAX:
        # One status, as before the due list took several: the same 422 as the query's own limit gave.
        too_long = Problem(("status",), f"String should have at most {STATUS_MAX} characters", part="query")
        raise Unprocessable("the request is not valid", [too_long])
    return queries.list_orders(status, channel, limit, cursor)


@app.get(
    "/v1/orders/<order_id>",
    tags=["orders"],
    summary="One order with its timeline",
    responses=declared_answers({200: "The order", 404: "Unknown order"}),
)
def get_order(order_id: Annotated[str, Path(max_length=64)]) -> Order:
    return queries.get_order(order_id)


@app.post(
    "/v1/orders/<order_id>/events",
    tags=["orders"],
    summary="Apply an operator event (confirm, pick, ...)",
    responses=declared_answers(
        {
            202: "Accepted: the status changes within seconds",
            404: "Unknown order",
            409: "The current status does not allow the event, or the order is busy",
        }
    ),
)
def post_order_event(
    order_id: Annotated[str, Path(max_length=64)], body: Annotated[OrderEventIn, Body()]
) -> Response[dict[str, Any]]:
    source = f"operator:{body.actor}" if body.actor else "operator"
    accepted = events.post_event(order_id, body, source)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=accepted)


@app.post(
    "/v1/orders/<order_id>/returns",
    tags=["orders"],
    summary="Return some or all units of a delivered order; they go back on hand at a chosen location",
    responses=declared_answers(
        {
            201: "Recorded",
            200: "This return_id was recorded already",
            404: "Unknown order",
            409: "The order has nothing to return yet",
        }
    ),
)
def post_return(
    order_id: Annotated[str, Path(max_length=64)], body: Annotated[ReturnIn, Body()]
) -> Response[dict[str, Any]]:
    record, created = returns.return_items(order_id, body, utc_now())
    return Response(
        status_code=201 if created else 200,
        content_type=content_types.APPLICATION_JSON,
        body={"order_id": order_id, "return": record},
    )


@app.post(
    "/v1/orders/<order_id>/actions/<name>/retry",
    tags=["orders"],
    summary="Run a failed on-entry action again, once its cause is fixed (docs/actions.md)",
    responses=declared_answers(
        {
            202: "Queued: the action runs again; done, its operator task closes and the attention clears",
            404: "Unknown order, or the order has no such action",
            409: "The action has not failed (it is done, skipped, running or retrying)",
        }
    ),
)
def post_action_retry(
    order_id: Annotated[str, Path(max_length=64)], name: Annotated[str, Path(max_length=64)]
) -> Response[dict[str, Any]]:
    queued = action_retry.retry(order_id, name, utc_now())
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=queued)


@app.post(
    "/v1/orders/<order_id>/short-picks",
    tags=["orders"],
    summary="Units not found at picking: written off at the location; the order carries on with the rest",
    responses=declared_answers(
        {200: "The order after the write-off", 404: "Unknown order", 409: "The order's status takes no short pick"}
    ),
)
def post_short_pick(order_id: Annotated[str, Path(max_length=64)], body: Annotated[ShortPickIn, Body()]) -> Order:
    return returns.short_pick(order_id, body, utc_now())


# API Gateway takes the acquirer's callback without the API key: its X-Signature authenticates it.
@app.post(
    "/v1/payments/<provider>/callback",
    tags=["payments"],
    security=[{"acquirerSignature": []}],
    summary="The acquirer's payment callback, signed: X-Signature: sha256=<HMAC-SHA256 of the body>",
    responses={
        401: {"description": "Missing or wrong signature: nothing changes"},
        404: {"description": "Unknown provider or order"},
        413: {"description": "A body larger than the hub takes; nothing changes"},
    },
)
def payment_callback(provider: Annotated[str, Path(max_length=32, pattern=r"^[a-z][a-z0-9_-]*$")]) -> dict[str, Any]:
    from partners.clients import acquirer  # httpx and the rate limiter: only on the callback's path

    body = raw_body(app.current_event)
    secret = acquirer.webhook_secret(provider)
    if secret is None:
        raise NotFound(f"no payment provider {provider!r}", provider=provider)
    if not signature_matches(secret, body, app.current_event.headers.get("x-signature")):
        raise Unauthorized("missing or wrong X-Signature")
    try:
        callback = PaymentCallbackIn.model_validate_json(checked_json_text(body))
    except ValidationError as invalid:
        raise Unprocessable(
            "invalid payment callback",
            [Problem(tuple(error["loc"]), error["msg"]) for error in invalid.errors()],
        ) from None
    return payments.payment_settled(provider, callback, utc_now())


@app.post(
    "/v1/orders/<order_id>/substitutions",
    tags=["orders"],
    summary="Replace or drop a line of an order on hold and re-reserve (operator)",
    responses=declared_answers(
        {
            200: "The order after the change",
            404: "Unknown order",
            409: "The order is not on hold, or the new SKU lacks stock",
        }
    ),
)
def post_substitution(order_id: Annotated[str, Path(max_length=64)], body: Annotated[SubstitutionIn, Body()]) -> Order:
    return substitution.substitute(order_id, body, utc_now())


@app.get("/v1/tasks", tags=["operators"], summary="Operator tasks (e.g. orders short of stock), newest first")
def list_tasks(
    state: Annotated[Literal["open", "closed"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> dict[str, Any]:
    return queries.list_tasks(state, limit, cursor)


@app.get("/v1/workflows", tags=["workflows"], summary="Order lifecycles and the events that move them")
def list_workflows() -> dict[str, Any]:
    return queries.list_workflows()


@functools.cache
def _openapi_json() -> str:
    return OPENAPI_DOCUMENT.read_text(encoding="utf-8")


@app.get("/v1/openapi.json", include_in_schema=False)
def openapi_schema() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=_openapi_json())


@app.get("/v1/docs", include_in_schema=False)
def docs_page() -> Response[str]:
    return Response(status_code=200, content_type="text/html", body=_swagger_page())


@functools.cache
def _swagger_page() -> str:
    """Swagger UI over the document, with powertools' bundled script and style inlined (no CDN)."""
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    bundle = FilePath(event_handler.__file__).parent / "openapi" / "swagger_ui"
    return generate_swagger_html(
        _openapi_json().replace("</", "<\\/"),  # no `</script>` inside the page's script
        (bundle / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (bundle / "swagger-ui.min.css").read_text(encoding="utf-8"),
        swagger_base_url="",
        oauth2_config=None,
    )


# No Tracer on an HTTP function (common.observability says why).
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
