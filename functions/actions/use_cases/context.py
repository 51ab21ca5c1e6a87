"""What a performer of an action gets: the order as read, which action of which status entry, the time."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from orders.domain.actions import action_key, entry_of
from reference import config_table
from reference.models import Channel


@dataclass(frozen=True)
class Context:
    order: dict[str, Any]
    name: str
    status: str  # the status whose entry runs the action
    entry: int  # which entry of it
    now: str

    @property
    def key(self) -> str:
        """The action's identity on the order, also sent to partners that take an idempotency key."""
        return action_key(self.name, self.status, self.entry)

    @property
    def entered_by(self) -> str:
        """The source of the event that entered the status (`partner:<channel>` when the partner moved it)."""
        entry = entry_of(self.order.get("timeline", []), self.status, self.entry) or {}
        return str(entry.get("source", ""))

    @functools.cached_property
    def channel(self) -> Channel | None:
        return config_table.channel(self.order["channel"])
