"""Typed errors of the hub. Adapters raise them instead of leaking ClientError; one handler maps them to HTTP."""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """An error with a stable code and HTTP status, safe to show to the caller."""

    status = 500
    code = "internal_error"
    retry_after: int | None = None  # seconds, for errors that the same request may get past later

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


class NotFound(HubError):
    status = 404
    code = "not_found"


class Unauthorized(HubError):
    status = 401
    code = "unauthorized"


class Unprocessable(HubError):
    status = 422
    code = "validation_error"


class InvalidTransition(HubError):
    status = 409
    code = "invalid_transition"


class OrderBusy(HubError):
    """The order's lifecycle is between two steps; the same call succeeds once it settles."""

    status = 409
    code = "order_busy"
    retry_after = 1


class Conflict(HubError):
    """The order moved on by itself (a deadline passed) before the caller's change arrived."""

    status = 409
    code = "conflict"


class InsufficientStock(HubError):
    """An operator's change needs more units than the order's locations have free."""

    status = 409
    code = "insufficient_stock"


class StockContention(HubError):
    """Stock moved between reading and reserving it, more times than one request retries.

    The class name is also the Step Functions error name that the lifecycle retries on.
    """

    status = 503
    code = "stock_contention"
    retry_after = 1


class LifecycleUnavailable(HubError):
    """The order is recorded but Step Functions did not take its execution; the same request again
    finds the order and starts it (the execution is named after the order)."""

    status = 503
    code = "lifecycle_unavailable"
    retry_after = 1


class BadRequest(HubError):
    """The request cannot be read at all (not a matter of its fields)."""

    status = 400
    code = "bad_request"


class PayloadTooLarge(HubError):
    status = 413
    code = "payload_too_large"
