"""The local hub fires the template's schedules: on demand, and on their own clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from oms_local import template as local_template
from oms_local.runtime import LocalHub


def test_fire_schedules_sends_the_scheduled_event_and_the_clock_fires_on_time(monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalHub() as hub:
        seen: list[dict] = []
        fired = threading.Semaphore(0)
        real = hub._handlers["HoldSweeperFunction"]

        def spy(event: dict, context: object) -> object:
            seen.append(event)
            fired.release()
            return real(event, context)

        hub._handlers["HoldSweeperFunction"] = spy
        assert hub.fire_schedules("HoldSweeperFunction.Sweep") == {
            "HoldSweeperFunction.Sweep": {"expired": 0, "moved_on": 0, "busy": 0}
        }
        assert seen[0]["detail-type"] == "Scheduled Event" and seen[0]["source"] == "aws.events"
        with pytest.raises(KeyError):
            hub.fire_schedules("Nope.Never")
        assert fired.acquire(timeout=0)
        # The clock fires each schedule at its next time, again and again (every 0.2 s here).
        monkeypatch.setattr(
            local_template.Schedule,
            "next_after",
            lambda self, moment: max(moment, datetime.now(UTC)) + timedelta(seconds=0.2),
        )
        hub.start_clock()
        assert fired.acquire(timeout=5) and fired.acquire(timeout=5)
    assert len(seen) >= 3
