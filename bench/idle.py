"""What an idle hub costs: CPU share of this process while nothing happens, with the event sources
looking every 0.05 s (as they polled before waiting on writes) and as they run now, in one run."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable

from oms_local.event_sources import QueuePoller, StreamPoller
from oms_local.runtime import LocalHub

SECONDS = 10.0
POLLED = 0.05  # the fixed poll interval of the event sources before they waited on writes


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _idle_share() -> float:
    with LocalHub():
        time.sleep(1)  # the start's own work settles
        cpu, started = _cpu_seconds(), time.monotonic()
        time.sleep(SECONDS)
        return (_cpu_seconds() - cpu) / (time.monotonic() - started)


def main(emit: Callable[[str, float, str], None]) -> None:
    waiting = (QueuePoller.IDLE_SECONDS, StreamPoller.IDLE_SECONDS)
    try:
        QueuePoller.IDLE_SECONDS = StreamPoller.IDLE_SECONDS = POLLED
        polled = _idle_share()
    finally:
        QueuePoller.IDLE_SECONDS, StreamPoller.IDLE_SECONDS = waiting
    emit("idle_cpu_polling_cores", round(polled, 3), "cores")
    emit("idle_cpu_cores", round(_idle_share(), 3), "cores")
