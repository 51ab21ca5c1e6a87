"""Schedules, locally: the event EventBridge sends a scheduled function, and the clock that fires every
schedule at its rate or cron times (moto's EventBridge never fires scheduled rules)."""

from __future__ import annotations

import threading
import traceback
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from oms_local.template import ACCOUNT, LocalTemplate, Schedule


def scheduled_event(template: LocalTemplate, schedule: Schedule, moment: datetime) -> dict[str, Any]:
    """The schedule's Input if it has one, else EventBridge's "Scheduled Event" envelope."""
    if schedule.payload is not None:
        return schedule.payload
    rule = f"arn:aws:events:{template.region}:{ACCOUNT}:rule/{template.stack}-{schedule.name}"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": template.region,
        "resources": [rule],
        "detail": {},
    }


class ScheduleClock:
    """A background thread that calls `fire(name, due)` for each schedule when it is due, until stopped."""

    def __init__(self, schedules: Sequence[Schedule], fire: Callable[[str, datetime], object]) -> None:
        self._schedules = {schedule.name: schedule for schedule in schedules}
        self._fire = fire
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="oms-hub-clock", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _tick(self) -> None:
        now = datetime.now(UTC)
        due = {name: schedule.next_after(now) for name, schedule in self._schedules.items()}
        while True:
            name = min(due, key=due.__getitem__)
            wait = (due[name] - datetime.now(UTC)).total_seconds()
            if self._stop.wait(max(wait, 0)):
                return
            try:
                self._fire(name, due[name])
            except Exception:  # noqa: BLE001 - as on AWS, a failed run does not stop the schedule
                traceback.print_exc()
            due[name] = self._schedules[name].next_after(max(due[name], datetime.now(UTC)))
