"""Partner webhooks: `POST /v1/webhooks/{channel_id}` and `.../notification` (Yandex Market).

Partners do not send the hub's API key: each channel authenticates with its own secret (token in the
URL or X-Signature HMAC over the raw body) and answers follow the partner's own rules.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.api import install_error_contract, raw_body
from common.observability import logger, metrics
from partners.use_cases import pushes

app = APIGatewayRestResolver(enable_validation=True)
install_error_contract(app)

ChannelId = Annotated[str, Path(max_length=64)]
Token = Annotated[str | None, Query(max_length=256, description="The channel's secret, for partners that cannot sign.")]
RESPONSES: dict[int, Any] = {
    200: {"description": "Processed (or queued), answered in the partner's own format"},
    400: {"description": "The body is not the partner's documented shape; nothing changed"},
    401: {"description": "Unknown channel, wrong token or signature, or a source outside the allow-list"},
    404: {"description": "A channel id with characters no route takes"},
    413: {"description": "A body larger than the hub takes (for queued partners: than one queue message)"},
}
# Partners do not hold the hub's API key: the channel's token (or an X-Signature HMAC) authenticates instead.
PUBLIC: list[dict[str, list[str]]] = [{"channelToken": []}]


def _receive(channel_id: str, route: str, token: str | None) -> Response[dict[str, Any]]:
    event = app.current_event
    reply = pushes.receive(
        channel_id,
        route,
        raw_body(event),
        token=token,
        signature=event.headers.get("x-signature"),
        source_ip=event.request_context.identity.source_ip,
    )
    return Response(status_code=reply.status, content_type=content_types.APPLICATION_JSON, body=reply.body)


@app.post(
    "/v1/webhooks/<channel_id>",
    tags=["partner webhooks"],
    security=PUBLIC,
    responses=RESPONSES,
    summary="A partner's push in its native shape (Ozon message_type, CDEK ORDER_STATUS, ...)",
)
def webhook(channel_id: ChannelId, token: Token = None) -> Response[dict[str, Any]]:
    return _receive(channel_id, "", token)


@app.post(
    "/v1/webhooks/<channel_id>/notification",
    tags=["partner webhooks"],
    security=PUBLIC,
    responses=RESPONSES,
    summary="Yandex Market notifications (acknowledged at once, applied from the partner queue)",
)
def notification(channel_id: ChannelId, token: Token = None) -> Response[dict[str, Any]]:
    return _receive(channel_id, "notification", token)


# No Tracer on an HTTP function (common.observability says why).
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
