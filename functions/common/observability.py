"""Logger, metrics and tracer shared by every function (powertools; configured by POWERTOOLS_* env)."""

from __future__ import annotations

import functools
import threading

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = Logger()
metrics = Metrics()
_adding = threading.Lock()


@functools.cache
def _tracer() -> Tracer:
    # No SDK auto-patching: it added 170-450 ms to every cold start (bench/RESULTS.md). Lambda and Step
    # Functions active tracing still record each invocation and state; this adds cold-start annotations
    # and captured exceptions.
    return Tracer(auto_patch=False)


def __getattr__(name: str) -> Tracer:
    """`tracer`, made when a module first imports it: the X-Ray SDK it loads costs about 0.2 s of import.
    The HTTP functions do without it (their resolver answers every exception, and Lambda's own trace
    shows the cold start), so their cold start does not pay for it."""
    if name == "tracer":
        return _tracer()
    raise AttributeError(name)


def count(metric: str, value: float = 1) -> None:
    """One metric per business event (OrderCreated, OrderOnHold, ...)."""
    # powertools' flush keeps the values when metrics are disabled (the local hub), so they would pile up
    # for the process's life and be printed anyway at every 100th value of a name.
    if is_metrics_disabled():
        return
    with _adding:  # powertools' metric set is not safe to add to from several threads at once
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)


def count_per(metric: str, dimensions: dict[str, str], value: float = 1) -> None:
    """A business event counted per dimensions (e.g. status and channel) beside `count`'s service-wide total,
    which is what alarms watch. A single metric is flushed at once, so it checks the local switch itself."""
    if is_metrics_disabled():
        return
    with single_metric(name=metric, unit=MetricUnit.Count, value=value, default_dimensions=dimensions) as one:
        one.add_dimension(name="service", value=metrics.service or "oms-hub")
