"""Partner webhooks: `POST /v1/webhooks/{channel_id}` and `.../notification` (Yandex Market).

Partners do not send the hub's API key: each channel authenticates with its own secret (token in the
URL or X-Signature HMAC over the raw body) and answers follow the partner's own rules.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.api import install_error_contract
from common.observability import logger, metrics, tracer
from connectors.base import Reply
from webhooks import services

app = APIGatewayRestResolver()
install_error_contract(app)


def _answer(reply: Reply) -> Response:
    return Response(status_code=reply.status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(reply.body))


def _receive(channel_id: str, route: str) -> Response:
    event = app.current_event
    raw = event.decoded_body.encode() if event.decoded_body else b""
    return _answer(services.receive(
        channel_id, route, raw, token=(event.query_string_parameters or {}).get("token"),
        signature=event.headers.get("x-signature") or event.headers.get("X-Signature"),
        source_ip=event.request_context.identity.source_ip))


@app.post("/v1/webhooks/<channel_id>")
def webhook(channel_id: str) -> Response:
    return _receive(channel_id, "")


@app.post("/v1/webhooks/<channel_id>/notification")
def notification(channel_id: str) -> Response:
    return _receive(channel_id, "notification")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
