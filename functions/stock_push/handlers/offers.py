"""Routes of the stock push API (offers): a marketplace channel's offer identities."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from common.api import declared_answers
from common.clock import utc_now
from common.models import Identifier
from stock_push.domain.offers import MAX_OFFERS_PAGE, OffersIn, OffersPage, OffersWritten
from stock_push.use_cases import offers

router = Router()  # type: ignore[no-untyped-call]  # powertools' __init__ is unannotated


@router.put(
    "/v1/channels/<channel_id>/offers",
    tags=["stock push"],
    summary="Map hub SKUs to the partner's offer ids (and Wildberries chrtIds), up to 1,000 per request",
    responses=declared_answers(
        {
            200: "How many mappings changed and how many already held what was sent",
            404: "Unknown channel",
            409: "The mappings kept changing under concurrent requests: send it again",
            422: "An item is not valid, or would push to an offer another SKU is pushed to; nothing changed",
        }
    ),
)
def put_offers(channel_id: Annotated[Identifier, Path()], body: Annotated[OffersIn, Body()]) -> OffersWritten:
    return offers.put_offers(channel_id, body, utc_now())


@router.get(
    "/v1/channels/<channel_id>/offers",
    tags=["stock push"],
    summary="The channel's offer identities in SKU order",
    responses=declared_answers(
        {200: "A page of mappings and the cursor of the next", 404: "Unknown channel", 422: "Bad limit or cursor"}
    ),
)
def list_offers(
    channel_id: Annotated[Identifier, Path()],
    limit: Annotated[int, Query(ge=1, le=MAX_OFFERS_PAGE)] = 100,
    cursor: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> OffersPage:
    return offers.list_offers(channel_id, limit, cursor)
