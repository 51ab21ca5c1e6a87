"""How orders created in a range of days ended up: the share of them cancelled, expired or returned to stock
unfilled (the manager's dashboard), and why the cancelled ones were cancelled."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from orders.adapters import outcomes

UNFULFILLED = ("cancelled", "expired", "returned_to_stock")  # the terminal statuses no customer got goods in
REASON_SAMPLE = 100  # cancelled orders read for their reasons: the newest of the range


def _reason(order: dict[str, Any]) -> str:
    """The cancel's note (the operator's or partner's reason), or who cancelled when it carries none."""
    entry: dict[str, Any] = next((e for e in reversed(order.get("timeline", [])) if e["status"] == "cancelled"), {})
    return str(entry.get("note") or f"({entry.get('source', 'unknown')})")


def outcome_report(first: date, last: date) -> dict[str, Any]:
    """Of the orders created from `first` to `last` (UTC days, both included): how many, how many of them
    are now in each unfulfilled status and their share, and the cancellations' reasons counted over the
    newest REASON_SAMPLE cancelled ones (`reasons_of` says how many were read). 2 + len(UNFULFILLED) Queries."""
    created = outcomes.count_created(first, last)
    counts = {status: outcomes.count_created(first, last, status) for status in UNFULFILLED}
    statuses = [
        {"status": status, "count": n, "share": round(n / created, 4) if created else None}
        for status, n in counts.items()
    ]
    cancelled = outcomes.newest_created("cancelled", first, last, REASON_SAMPLE)
    reasons = Counter(_reason(order) for order in cancelled)
    unfulfilled = sum(counts.values())
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "created": created,
        "unfulfilled": unfulfilled,
        "unfulfilled_share": round(unfulfilled / created, 4) if created else None,
        "statuses": statuses,
        "reasons": [{"reason": reason, "count": n} for reason, n in reasons.most_common()],
        "reasons_of": len(cancelled),
    }
