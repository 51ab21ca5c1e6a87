"""What an attempt at an action came to, and how long a transient failure waits before the next one."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

MAX_ATTEMPTS = 8  # transient failures in a row before the action is given up on (an operator's matter)
BACKOFF_MAX_SECONDS = 900  # SQS's longest visibility change that keeps the queue's pace sensible
EARLY_RETRY_SECONDS = 1  # an announcement ahead of its status write is looked at again this soon
EARLY_WINDOW_SECONDS = 300  # ... for this long after it was announced; later, it is a late duplicate


@dataclass(frozen=True)
class Done:
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    reason: str


@dataclass(frozen=True)
class Transient:
    """The partner may take it later (5xx, timeout, throttling, an expired token that did not refresh).
    `result`: what the attempt did achieve, kept for the next one (a notification's media that went)."""

    error: str
    result: dict[str, Any] | None = None


@dataclass(frozen=True)
class Permanent:
    """The partner refused it with a reason; trying again would not change its answer."""

    error: str


Outcome = Done | Skipped | Transient | Permanent


@dataclass(frozen=True)
class Grouped:
    """Not sent yet: the request goes with the queue batch's others of the same `group` (Market's status
    update takes 30 orders a call and answers each), `size` at a time; `send` sends one such chunk of
    items and answers each one's outcome, in order."""

    group: Hashable
    item: Any
    size: int
    send: Callable[[list[Any]], list[Outcome]]


def backoff_seconds(attempts: int, base: int) -> int:
    """Before attempt `attempts + 1`: base, twice that, four times, ... at most 15 minutes."""
    return int(min(base * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))
