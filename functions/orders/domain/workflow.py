"""Order workflows: statuses, the events that move them, which ones cancel.

The state machine in state_machines/ implements the same graph; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from common.errors import InvalidTransition
from common.models import DeliveryMethod


@dataclass(frozen=True)
class Workflow:
    name: str
    delivery_methods: tuple[DeliveryMethod, ...]
    initial_statuses: tuple[str, ...]
    transitions: dict[str, dict[str, str]]
    terminal_statuses: tuple[str, ...] = field(default=())

    def next_status(self, status: str, event: str, *, recovering: bool = False) -> str:
        allowed = self.recovery_events(status) if recovering else self.transitions.get(status, {})
        if event not in allowed:
            raise InvalidTransition(
                f"event {event!r} is not allowed in status {status!r}",
                status=status, allowed_events=sorted(allowed))
        return allowed[event]

    def recovery_events(self, status: str) -> dict[str, str]:
        """After a step failed for good: run it again, or cancel if the status still allows it."""
        moves = {"retry": status}
        if "cancel" in self.transitions.get(status, {}):
            moves["cancel"] = self.transitions[status]["cancel"]
        return moves

    def statuses(self) -> list[str]:
        seen = dict.fromkeys(self.initial_statuses)
        for source, moves in self.transitions.items():
            seen.setdefault(source)
            for target in moves.values():
                seen.setdefault(target)
        return list(seen)


# An order whose lifecycle step failed after its retries: only `retry` and `cancel` move it.
LIFECYCLE_FAILED = "lifecycle_failed"

_CANCEL = {"cancel": "cancelled"}
# A hold that ran out (reserve in store, an unpaid order): the sweeper posts `expire`; it releases like cancel.
_EXPIRE = {"expire": "expired"}

COURIER = Workflow(
    name="courier",
    # Until per-method workflows land, every delivery method runs the default lifecycle.
    delivery_methods=tuple(DeliveryMethod),
    initial_statuses=("reserved", "on_hold"),
    transitions={
        # `reserve` retries the missing units; the order stays on_hold while anything is still missing.
        "on_hold": {"reserve": "reserved", **_CANCEL, **_EXPIRE},
        "reserved": {"confirm": "confirmed", **_CANCEL, **_EXPIRE},
        "confirmed": {"pick": "picked", **_CANCEL},
        "picked": {"pack": "packed", **_CANCEL},
        "packed": {"ship": "shipped", **_CANCEL},
        "shipped": {"deliver": "delivered"},
    },
    terminal_statuses=("delivered", "cancelled", "expired"),
)

WORKFLOWS = {COURIER.name: COURIER}


def workflow_for(method: DeliveryMethod) -> Workflow:
    return next(w for w in WORKFLOWS.values() if method in w.delivery_methods)
