"""Routes of the stock push API (pushes): a push on demand, and the channel's recent pushes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from common.api import declared_answers
from common.clock import utc_now
from common.models import Identifier
from stock_push.use_cases import pushes

router = Router()  # type: ignore[no-untyped-call]  # powertools' __init__ is unannotated


class StockPushIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["changed", "full"] = Field(
        description="changed: the SKUs whose offer moved since they were last accepted; full: every SKU of the "
        "channel (the daily reconciliation does this)."
    )


@router.post(
    "/v1/channels/<channel_id>/stock-push",
    tags=["stock push"],
    summary="Push the channel's stock to its marketplace now",
    responses=declared_answers(
        {
            202: "Queued: the push record (follow it with GET)",
            404: "Unknown channel",
            409: "The channel is not a marketplace, or maps no partner warehouses",
        }
    ),
)
def post_stock_push(
    channel_id: Annotated[Identifier, Path()], body: Annotated[StockPushIn, Body()]
) -> Response[dict[str, Any]]:
    queued = pushes.request(channel_id, body.mode, utc_now())
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=queued)


@router.get(
    "/v1/channels/<channel_id>/stock-push",
    tags=["stock push"],
    summary="The channel's recent stock pushes, newest first",
    responses=declared_answers({200: "Pushes with their figures", 404: "Unknown channel"}),
)
def list_stock_pushes(
    channel_id: Annotated[Identifier, Path()], limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> dict[str, Any]:
    return {"channel_id": channel_id, "items": pushes.recent_pushes(channel_id, limit)}
