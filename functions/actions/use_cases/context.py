"""What a performer of an action gets: the order as read, which action of which status entry, the time."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from orders.domain.actions import ACTOR, RETURN_KEY, action_key, entry_of
from reference import config_table
from reference.models import Channel


@dataclass(frozen=True)
class Context:
    order: dict[str, Any]
    name: str
    status: str  # the status whose entry runs the action
    entry: int  # which entry of it
    now: str
    return_id: str | None = None  # an action of a return (recorded in `status`), not of the status's entry

    @property
    def key(self) -> str:
        """The action's identity on the order, also sent to partners that take an idempotency key."""
        if self.return_id is not None:
            return f"{self.name}{RETURN_KEY}{self.return_id}"
        return action_key(self.name, self.status, self.entry)

    @property
    def label(self) -> str:
        """What the action is for, as the timeline notes it."""
        return f"return {self.return_id}" if self.return_id is not None else f"{self.status} #{self.entry}"

    @property
    def entered_by(self) -> str:
        """The source of the event that entered the status (`partner:<channel>` when the partner moved it)."""
        entry = entry_of(self.order.get("timeline", []), self.status, self.entry) or {}
        return str(entry.get("source", ""))

    @property
    def reported_since(self) -> str:
        """The source of the latest move after the status's entry (empty while the order stays in it)."""
        timeline = self.order.get("timeline", [])
        began = entry_of(timeline, self.status, self.entry)
        later = timeline[timeline.index(began) + 1 :] if began is not None else []
        moves = [e for e in later if e["status"] != self.status and e.get("source") != ACTOR]
        return str(moves[-1].get("source", "")) if moves else ""

    @functools.cached_property
    def channel(self) -> Channel | None:
        return config_table.channel(self.order["channel"])
