"""Schedules, locally: the event EventBridge sends a scheduled function, and the clock that fires every
schedule at its rate or cron times (moto's EventBridge never fires scheduled rules)."""

from __future__ import annotations

import threading
import traceback
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from common.clock import HubClock
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
    """A background thread that calls `fire(name, due)` for each schedule when it is due on the hub clock,
    until stopped: rate(1 minute) at clock speed 60 fires every real second. Advancing the clock past
    several firings fires once, as EventBridge does not replay the runs it missed."""

    def __init__(self, schedules: Sequence[Schedule], fire: Callable[[str, datetime], object], clock: HubClock) -> None:
        self._schedules = {schedule.name: schedule for schedule in schedules}
        self._fire = fire
        self._clock = clock
        self._stopping = False
        self._woken = threading.Event()  # by stop() and by every advance of the clock
        self._thread = threading.Thread(target=self._tick, name="oms-hub-clock", daemon=True)

    def start(self) -> None:
        self._clock.watch(self._woken.set)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._woken.set()
        self._thread.join(timeout=30)
        self._clock.unwatch(self._woken.set)

    def _tick(self) -> None:
        now = self._clock.now()
        due = {name: schedule.next_after(now) for name, schedule in self._schedules.items()}
        while True:
            name = min(due, key=due.__getitem__)
            self._woken.wait(self._clock.real_seconds_until(due[name]))
            self._woken.clear()  # before reading the clock: an advance after this is not missed
            if self._stopping:
                return
            if self._clock.now() < due[name]:
                continue  # woken by an advance that did not reach it, or the wait ended early
            try:
                self._fire(name, due[name])
            except Exception:  # noqa: BLE001 - as on AWS, a failed run does not stop the schedule
                traceback.print_exc()
            due[name] = self._schedules[name].next_after(max(due[name], self._clock.now()))
