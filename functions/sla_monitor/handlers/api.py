"""HTTP API of the SLA read side: time in status (GET /v1/kpis) and a channel's marketplace risk."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.api import declared_answers, install_error_contract
from common.models import Identifier
from common.observability import logger, metrics
from sla_monitor.domain.kpis import MAX_RANGE_DAYS
from sla_monitor.domain.reports import KpiReport, RiskReport
from sla_monitor.use_cases import kpis

app = APIGatewayRestResolver(enable_validation=True)
install_error_contract(app)

_FILTER = Query(min_length=1, max_length=64)


@app.get(
    "/v1/kpis",
    tags=["sla"],
    summary=f"Time in status per workflow and status over UTC days (at most {MAX_RANGE_DAYS}), with warnings "
    "and breaches",
    responses=declared_answers(
        {200: "The figures", 422: "A date that is not one, from after to, a longer range, an unknown filter"}
    ),
)
def get_kpis(
    first: Annotated[date, Query(alias="from", description="First UTC day, YYYY-MM-DD (included)")],
    last: Annotated[date, Query(alias="to", description="Last UTC day, YYYY-MM-DD (included)")],
    channel: Annotated[str | None, _FILTER] = None,
    location: Annotated[str | None, _FILTER] = None,
    workflow: Annotated[str | None, _FILTER] = None,
) -> KpiReport:
    return KpiReport.model_validate(kpis.kpi_report(first, last, channel=channel, location=location, workflow=workflow))


@app.get(
    "/v1/channels/<channel_id>/risk",
    tags=["sla"],
    summary="A channel's seller-fault cancellation and late-shipment shares against its marketplace's scale",
    responses=declared_answers({200: "The measures", 404: "Unknown channel"}),
)
def get_channel_risk(channel_id: Annotated[Identifier, Path()]) -> RiskReport:
    return RiskReport.model_validate(kpis.channel_risk_report(channel_id))


# No Tracer on an HTTP function (common.observability says why).
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
