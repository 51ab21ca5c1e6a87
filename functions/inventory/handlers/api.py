"""HTTP API of the inventory function: locations, channels, staff roles' contacts, stock import, availability."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter, ValidationError

from common.api import declared_answers, install_error_contract
from common.clock import utc_now
from common.errors import Problem, Unprocessable
from common.models import Identifier, Sku
from common.observability import logger, metrics
from inventory.domain.stock_updates import StockUpdate, StockUpdateResult
from inventory.use_cases import reference_data
from inventory.use_cases.availability import channel_availability
from inventory.use_cases.stock_import import apply_stock_update
from reference.models import Channel, ChannelIn, Location, LocationIn, RoleContacts, RoleContactsIn, RoleName

_SKUS = TypeAdapter(list[Sku])

app = APIGatewayRestResolver(enable_validation=True)
install_error_contract(app)


@app.put("/v1/locations/<location_id>", tags=["reference data"], summary="Create or replace a location")
def put_location(location_id: Annotated[Identifier, Path()], body: Annotated[LocationIn, Body()]) -> Location:
    return reference_data.put_location(location_id, body, utc_now())


@app.get("/v1/locations", tags=["reference data"], summary="List locations")
def list_locations() -> dict[str, list[Location]]:
    return {"items": reference_data.list_locations()}


@app.put("/v1/channels/<channel_id>", tags=["reference data"], summary="Create or replace a sales channel")
def put_channel(channel_id: Annotated[Identifier, Path()], body: Annotated[ChannelIn, Body()]) -> Channel:
    return reference_data.put_channel(channel_id, body, utc_now())


@app.get("/v1/channels", tags=["reference data"], summary="List sales channels (secrets are never shown)")
def list_channels() -> dict[str, list[Channel]]:
    return {"items": reference_data.list_channels()}


@app.put(
    "/v1/roles/<role>/contacts",
    tags=["reference data"],
    summary="Set who hears of a role's SLA warnings and escalations (webhook secrets are never shown)",
)
def put_role_contacts(role: Annotated[RoleName, Path()], body: Annotated[RoleContactsIn, Body()]) -> RoleContacts:
    return reference_data.put_role_contacts(role, body, utc_now())


@app.get(
    "/v1/roles/<role>/contacts",
    tags=["reference data"],
    summary="Who hears of a role's SLA warnings and escalations",
    responses=declared_answers({200: "The role's contacts", 404: "No contacts set for the role"}),
)
def get_role_contacts(role: Annotated[RoleName, Path()]) -> RoleContacts:
    return reference_data.role_contacts(role)


@app.get("/v1/roles", tags=["reference data"], summary="List the roles with contacts (secrets are never shown)")
def list_roles() -> dict[str, list[RoleContacts]]:
    return {"items": reference_data.list_role_contacts()}


@app.put(
    "/v1/stock/<location_id>",
    tags=["stock"],
    summary="Import stock of one location (snapshot or delta)",
    responses=declared_answers({200: "What was applied, and the lines refused", 404: "Unknown location"}),
)
def put_stock(location_id: Annotated[Identifier, Path()], body: Annotated[StockUpdate, Body()]) -> StockUpdateResult:
    return apply_stock_update(location_id, body, utc_now())


@app.get("/v1/availability", tags=["stock"], summary="What a channel may sell, per SKU and location")
def get_availability(
    channel: Annotated[str, Query(min_length=1, max_length=64)],
    skus: Annotated[str, Query(min_length=1, max_length=6500, description="Comma-separated, at most 100")],
) -> dict[str, Any]:
    sku_list = list(dict.fromkeys(s.strip() for s in skus.split(",") if s.strip()))
    if not sku_list or len(sku_list) > 100:
        raise Unprocessable("give 1 to 100 skus", [Problem(("skus",), "1 to 100 skus", part="query")])
    try:
        _SKUS.validate_python(sku_list)
    except ValidationError as invalid:
        raise Unprocessable(
            "a sku is not valid",
            [Problem(("skus", *e["loc"]), e["msg"], part="query") for e in invalid.errors()],
        ) from None
    return {"channel": channel, "items": channel_availability(channel, sku_list)}


# No Tracer on an HTTP function (common.observability says why).
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
