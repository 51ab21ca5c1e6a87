"""HTTP API of the delivery function: the delivery promise and the carriers' transit times."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.api import install_error_contract
from common.clock import current, utc_now
from common.models import Identifier
from common.observability import logger, metrics
from delivery import services
from delivery.models import PromiseAnswer, PromiseRequest
from reference.models import Carrier, CarrierIn

app = APIGatewayRestResolver(enable_validation=True)
install_error_contract(app)


@app.post(
    "/v1/delivery-promise",
    tags=["delivery"],
    summary="Earliest delivery date range per delivery method for a cart and a destination",
)
def post_delivery_promise(body: Annotated[PromiseRequest, Body()]) -> PromiseAnswer:
    return services.promise(body, current())


@app.put("/v1/carriers/<carrier_id>", tags=["delivery"], summary="Create or replace a carrier's transit times")
def put_carrier(carrier_id: Annotated[Identifier, Path()], body: Annotated[CarrierIn, Body()]) -> Carrier:
    return services.put_carrier(carrier_id, body, utc_now())


@app.get("/v1/carriers", tags=["delivery"], summary="Carriers and their transit times")
def list_carriers() -> dict[str, Any]:
    return {"items": [c.model_dump(mode="json") for c in services.list_carriers()]}


# No Tracer on an HTTP function (common.observability says why).
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
