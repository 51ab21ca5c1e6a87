"""The pickup code of a click & collect order: six digits the customer shows at the desk. Pure.

It is made, not stored: an HMAC under the hub's key of the order and the moment it entered
ready_for_pickup, so each time the order is made ready it has a new code, nothing holding it can leak, and
the store checks it by making it again. Never logged.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

READY = "ready_for_pickup"
DIGITS = 6


def ready_since(timeline: Sequence[tuple[str, str]]) -> str | None:
    """When the order last entered ready_for_pickup, from its timeline's (status, at) pairs; None if it is
    not there now. Entries written while it stays (an action's outcome) begin nothing."""
    since = None
    for status, at in reversed(timeline):
        if status != READY:
            break
        since = at
    return since


def pickup_code(key: bytes, order_id: str, ready_at: str) -> str:
    mac = hmac.new(key, f"pickup\x1f{order_id}\x1f{ready_at}".encode(), hashlib.sha256).digest()
    return str(int.from_bytes(mac[:8], "big") % 10**DIGITS).zfill(DIGITS)


def code_matches(expected: str, given: str) -> bool:
    """Constant time, spaces and dashes ignored (`123 456`)."""
    typed = "".join(c for c in given if c.isdigit())
    return hmac.compare_digest(expected.encode(), typed.encode())
