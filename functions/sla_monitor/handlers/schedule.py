"""Scheduled every minute: one SLA monitor run (template: SlaMonitorFunction, a Schedule event)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.clock import current, utc_moment
from common.observability import logger, metrics, tracer
from sla_monitor.use_cases.monitor import run


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return run(_scheduled_time(event), lambda: context.get_remaining_time_in_millis() / 1000)


def _scheduled_time(event: dict[str, Any]) -> datetime:
    """The time the schedule stood for (EventBridge's `time`), so a late or retried run judges what was due
    then; the clock for a direct invocation without one."""
    stamp = event.get("time")
    return utc_moment(stamp) if isinstance(stamp, str) and stamp else current()
