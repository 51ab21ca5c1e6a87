"""HTTP API of the stock push: a marketplace channel's offer identities, its pushes on demand and their
status."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.api import install_error_contract
from common.observability import logger, metrics
from stock_push.handlers import offers, pushes

app = APIGatewayRestResolver(enable_validation=True)
install_error_contract(app)
app.include_router(offers.router)
app.include_router(pushes.router)


# No Tracer on an HTTP function (common.observability says why).
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
