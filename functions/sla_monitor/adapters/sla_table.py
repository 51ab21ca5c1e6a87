"""SlaTable: what the SLA monitor counts and the read side reports (docs/sla.md).

- `KPI#<day>` / `<workflow>#<status>#<channel>#<location>`: a day's stays (the day each ended, UTC): count,
  total_seconds, max_seconds, one counter per histogram bucket (`h<n>`, domain.kpis), and the tiers fired that
  day (warned, escalated, breached). Counters are ADDed: writers never read first.
- `RISK#<channel>` / `<day>`: the channel's risk facts of the day (accepted, seller_cancelled, shipped,
  shipped_late).
- `DUE#<status>` / `<due_at>#<order_id>`: the due list (orders.adapters.due_list owns the key shapes).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from common import aws
from common.clock import utc_moment, utc_text
from common.config import settings
from common.dynamo import from_item, query_all, to_item, update_if
from orders.adapters.due_list import due_partition, due_sort_key
from sla_monitor.domain.kpis import NO_LOCATION, KpiRow, RiskFact, Stay, bucket_of, tier_counter

_COUNTERS = ("count", "total_seconds", "max_seconds", "warned", "escalated", "breached")


def _kpi_key(day: date, workflow: str, status: str, channel: str, location: str | None) -> dict[str, Any]:
    return {
        "pk": {"S": f"KPI#{day.isoformat()}"},
        "sk": {"S": f"{workflow}#{status}#{channel}#{location or NO_LOCATION}"},
    }


def record_stay(stay: Stay) -> None:
    """Count one ended stay into its day's figures: one UpdateItem, and a second only when it is the longest
    of its row so far (the first write returns the row's max)."""
    key = _kpi_key(stay.day, stay.workflow, stay.status, stay.channel, stay.location)
    seconds = Decimal(str(round(stay.seconds, 3)))
    answer = aws.dynamodb().update_item(
        TableName=settings().sla_table,
        Key=key,
        UpdateExpression="ADD #count :one, total_seconds :s, #bucket :one"
        " SET max_seconds = if_not_exists(max_seconds, :s)",
        ExpressionAttributeNames={"#count": "count", "#bucket": f"h{bucket_of(stay.seconds)}"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":s": {"N": str(seconds)}},
        ReturnValues="ALL_NEW",  # max_seconds is in UPDATED_NEW only when if_not_exists set it
    )
    if Decimal(answer["Attributes"]["max_seconds"]["N"]) < seconds:
        # Conditional: a concurrent longer stay is never lowered.
        update_if(
            aws.dynamodb(),
            TableName=settings().sla_table,
            Key=key,
            UpdateExpression="SET max_seconds = :s",
            ConditionExpression="max_seconds < :s",
            ExpressionAttributeValues={":s": {"N": str(seconds)}},
        )


def record_tier(workflow: str, status: str, channel: str, location: str | None, day: date, tier_kind: str) -> None:
    """Count a tier fired on `day` (the monitor calls this once, after its conditional tier write won)."""
    aws.dynamodb().update_item(
        TableName=settings().sla_table,
        Key=_kpi_key(day, workflow, status, channel, location),
        UpdateExpression="ADD #counter :one",
        ExpressionAttributeNames={"#counter": tier_counter(tier_kind)},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )


def record_risk(channel: str, day: date, fact: RiskFact) -> None:
    aws.dynamodb().update_item(
        TableName=settings().sla_table,
        Key={"pk": {"S": f"RISK#{channel}"}, "sk": {"S": day.isoformat()}},
        UpdateExpression="ADD #fact :one",
        ExpressionAttributeNames={"#fact": fact},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )


def _time_text(moment: datetime | str) -> str:
    """The hub's one time format, whichever form the caller holds the time in (sort keys compare as text)."""
    return utc_text(moment if isinstance(moment, datetime) else utc_moment(moment))


def put_due(status: str, due_at: datetime | str, order_id: str, channel: str, workflow: str) -> None:
    """List the order in its status's due list (idempotent: the same entry again writes the same item)."""
    aws.dynamodb().put_item(
        TableName=settings().sla_table,
        Item=to_item(
            {
                "pk": due_partition(status),
                "sk": due_sort_key(_time_text(due_at), order_id),
                "order_id": order_id,
                "channel": channel,
                "workflow": workflow,
            }
        ),
    )


def remove_due(status: str, due_at: datetime | str, order_id: str) -> None:
    """Take the order off its status's due list (nothing to remove is not an error)."""
    aws.dynamodb().delete_item(
        TableName=settings().sla_table,
        Key={"pk": {"S": due_partition(status)}, "sk": {"S": due_sort_key(_time_text(due_at), order_id)}},
    )


# ------------------------------------------------------------------ the read side


def kpi_rows(day: date, workflow: str | None) -> Iterator[KpiRow]:
    """The day's figures, of one workflow only when one is given (its rows share a sort-key prefix)."""
    condition, values = "pk = :day", {":day": {"S": f"KPI#{day.isoformat()}"}}
    if workflow is not None:
        condition += " AND begins_with(sk, :workflow)"
        values[":workflow"] = {"S": f"{workflow}#"}
    request = {
        "TableName": settings().sla_table,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
    }
    for item in query_all(aws.dynamodb(), request):
        row = from_item(item)
        flow, status, channel, location = row["sk"].split("#")
        counters = {name: row.get(name, 0) for name in _COUNTERS}
        yield KpiRow(
            flow,
            status,
            channel,
            location,
            count=int(counters["count"]),
            total_seconds=float(counters["total_seconds"]),
            max_seconds=float(counters["max_seconds"]),
            warned=int(counters["warned"]),
            escalated=int(counters["escalated"]),
            breached=int(counters["breached"]),
            histogram={int(name[1:]): int(n) for name, n in row.items() if name[:1] == "h" and name[1:].isdigit()},
        )


def risk_days(channel: str, first: date, last: date) -> dict[date, dict[str, int]]:
    """The channel's risk facts per day, `first` to `last` both included: one Query."""
    request = {
        "TableName": settings().sla_table,
        "KeyConditionExpression": "pk = :channel AND sk BETWEEN :first AND :last",
        "ExpressionAttributeValues": {
            ":channel": {"S": f"RISK#{channel}"},
            ":first": {"S": first.isoformat()},
            ":last": {"S": last.isoformat()},
        },
    }
    days = {}
    for item in query_all(aws.dynamodb(), request):
        row = from_item(item)
        days[date.fromisoformat(row["sk"])] = {name: int(n) for name, n in row.items() if name not in ("pk", "sk")}
    return days
