"""HTTP API of the product catalog."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog.handlers import products
from common.api import install_error_contract
from common.observability import logger, metrics

app = APIGatewayRestResolver(enable_validation=True)
install_error_contract(app)
app.include_router(products.router)


# No Tracer on an HTTP function (common.observability says why).
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
