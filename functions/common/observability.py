"""Logger, metrics and tracer shared by every function (powertools; configured by POWERTOOLS_* env)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics()
tracer = Tracer()


def count(metric: str, value: float = 1) -> None:
    """One metric per business event (OrderCreated, OrderOnHold, ...)."""
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)

