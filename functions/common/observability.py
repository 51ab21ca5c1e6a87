"""Logger, metrics and tracer shared by every function (powertools; configured by POWERTOOLS_* env)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics()
# No SDK auto-patching: it added 170-450 ms to every cold start (bench/RESULTS.md). Lambda and Step
# Functions active tracing still record each invocation and state; this adds cold-start annotations
# and captured exceptions.
tracer = Tracer(auto_patch=False)


def count(metric: str, value: float = 1) -> None:
    """One metric per business event (OrderCreated, OrderOnHold, ...)."""
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)
