"""What went wrong, in the hub's own terms. Adapters raise these instead of leaking ClientError; use cases
and the domain raise them for what a caller asked that cannot be done.

Each error has a stable code, a message safe to show the caller and the facts that go with it (`extra`);
invalid input names its fields (`problems`). What each becomes over HTTP (status, Retry-After, the body)
is common.api's one table: nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Problem:
    """One wrong field of what a caller sent: its path (names and list indexes), why, and whether it is in
    what the caller sent (`body`) or in the parameters it asked with (`query`)."""

    field: tuple[str | int, ...]
    msg: str
    part: Literal["body", "query"] = "body"


class HubError(Exception):
    """An error with a stable code, safe to show to the caller."""

    code = "internal_error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The error as a caller reads it: its code, its message and the facts that go with it."""
        return {"error": self.code, "message": self.message, **self.extra}


class NotFound(HubError):
    code = "not_found"


class OrderNotFound(NotFound):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} does not exist", order_id=order_id)


class Unauthorized(HubError):
    code = "unauthorized"


class Unprocessable(HubError):
    code = "validation_error"

    def __init__(self, message: str, problems: Sequence[Problem] = (), **extra: Any) -> None:
        super().__init__(message, **extra)
        self.problems = tuple(problems)


class InvalidTransition(HubError):
    code = "invalid_transition"


class OrderBusy(HubError):
    """The order's lifecycle is between two steps; the same call succeeds once it settles."""

    code = "order_busy"


class ActionPending(HubError):
    """The event needs an action of the status done first (the workflow's `requires`), e.g. the marketplace
    must have taken the shipment before the order is handed over."""

    code = "action_pending"


class Conflict(HubError):
    """The order moved on by itself (a deadline passed) before the caller's change arrived."""

    code = "conflict"


class InsufficientStock(HubError):
    """An operator's change needs more units than the order's locations have free."""

    code = "insufficient_stock"


class StockContention(HubError):
    """Stock moved between reading and reserving it, more times than one request retries.

    The class name is also the Step Functions error name that the lifecycle retries on.
    """

    code = "stock_contention"


class LifecycleUnavailable(HubError):
    """The order is recorded but Step Functions did not take its execution; the same request again
    finds the order and starts it (the execution is named after the order)."""

    code = "lifecycle_unavailable"


class BadRequest(HubError):
    """The request cannot be read at all (not a matter of its fields)."""

    code = "bad_request"


class PayloadTooLarge(HubError):
    code = "payload_too_large"
