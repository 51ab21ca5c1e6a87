"""The hub's one time representation: aware UTC datetimes inside, one wire format outside (ISO 8601 in UTC
with milliseconds and `Z`, as every stored time and every JSON answer has it), and the hub's one "now".

On AWS `current()` is the system clock. The local runtime may install a HubClock (`use`) that runs faster
and can be moved on, so schedules, KPIs and state timeouts can be watched in a demo or a test; the
functions never know which clock they read."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta


class HubClock:
    """Hub time = start + (real time since the clock was made) * speed, moved on by `advance`.

    Real time is measured on the monotonic clock, so a change of the machine's clock does not move the
    hub's. Whoever waits for a hub time (the local schedules, Step Functions' timeouts) waits
    `real_seconds_until` it, and `watch`es the clock to be woken when a test advances it."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"the clock speed must be a number above 0, not {speed}")
        self.speed = speed
        self._real_start = time.monotonic()
        self._start = (start or datetime.now(UTC)).astimezone(UTC)
        self._lock = threading.Lock()
        self._watchers: set[Callable[[], None]] = set()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._real_start) * self.speed)

    def advance(self, delta: timedelta) -> None:
        """Move hub time on by `delta` at once (never back: what was due stays due)."""
        if delta < timedelta(0):
            raise ValueError("the hub clock does not go back")
        with self._lock:
            self._start += delta
            watchers = list(self._watchers)
        for wake in watchers:
            wake()

    def real_seconds_until(self, moment: datetime) -> float:
        """Real seconds until the hub clock shows `moment` (0 if it has passed), unless advanced meanwhile."""
        return max((moment - self.now()).total_seconds(), 0.0) / self.speed

    def watch(self, wake: Callable[[], None]) -> None:
        """Call `wake` after every advance until `unwatch`."""
        with self._lock:
            self._watchers.add(wake)

    def unwatch(self, wake: Callable[[], None]) -> None:
        with self._lock:
            self._watchers.discard(wake)


_hub_clock: HubClock | None = None  # None: the system clock, as on AWS


def use(clock: HubClock | None) -> None:
    """Make `clock` the hub's now for this process (the local runtime; None: the system clock again)."""
    global _hub_clock  # noqa: PLW0603 - the process's one clock, as the system's is
    _hub_clock = clock


def hub_clock() -> HubClock | None:
    """The clock `use` installed, if any."""
    return _hub_clock


def current() -> datetime:
    """Now, as an aware UTC datetime: the system clock's, or the installed HubClock's."""
    clock = _hub_clock
    return datetime.now(UTC) if clock is None else clock.now()


def utc_now() -> str:
    """Now in the wire format; sorts as text, which the created_key indexes rely on."""
    return utc_text(current())


def utc_text(moment: datetime) -> str:
    """An aware datetime as the hub writes every time: UTC, milliseconds, `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_moment(text: str) -> datetime:
    """A time the hub wrote (utc_text) as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def utc_day(text: str) -> date:
    """The UTC date of a time the hub wrote (utc_text)."""
    return utc_moment(text).date()


def epoch_seconds(text: str) -> int:
    """A time the hub wrote (utc_text) as Unix seconds, as DynamoDB TTL attributes want it."""
    return int(utc_moment(text).timestamp())
