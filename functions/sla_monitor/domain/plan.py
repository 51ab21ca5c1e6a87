"""What the SLA monitor checks of one status entry, and when: pure, from the order item and its status's terms.

A status entry has tiers (`warn`, `escalate_<n>`, `breach`), each told to a role once per entry, and two
safety-net checks of its lifecycle: `start` (the intake status, 2 minutes after the order was written: did its
execution start?) and `alive` (5 minutes past the hard deadline of a status whose timeout moves the order: is
the execution still running?). The names are what the order's `sla_fired` set records.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from common.clock import utc_moment, utc_text
from orders.domain.sla import DEFAULT_ROLE, StatusSla
from sla_monitor.domain.kpis import RiskFact

START_AFTER = timedelta(minutes=2)  # Step Functions refused the start if the intake status has no token by then
ALIVE_AFTER = timedelta(minutes=5)  # the hard timeout should have moved the order by then
NOTIFY_RETRY = timedelta(minutes=1)  # a notification that failed is tried again at the next run
STORE_ROLE_PREFIX = "store_"  # store roles are told at the order's own location
LIFECYCLE_CHECKS = ("start", "alive")


@dataclass(frozen=True)
class Check:
    name: str  # warn | escalate_<n> | breach | start | alive
    at: datetime
    role: str = DEFAULT_ROLE  # who is told of a tier, or has the task of a lost lifecycle

    @property
    def kind(self) -> str:
        """warn, escalate, breach (the notification's kind), or the lifecycle check's name."""
        return self.name.partition("_")[0]

    @property
    def tier(self) -> bool:
        return self.name not in LIFECYCLE_CHECKS


@dataclass(frozen=True)
class EntryPlan:
    """The checks of the order's current status entry; `due_at` is when its KPI ends (None: terminal)."""

    status: str
    entered_at: str
    due_at: str | None
    location_id: str | None
    checks: tuple[Check, ...]

    def due(self, fired: Collection[str], now: datetime) -> list[Check]:
        """The checks whose time has come and that have not been done for this entry, in time order."""
        return sorted((c for c in self.checks if c.at <= now and c.name not in fired), key=lambda c: c.at)

    def next_at(self, done: Collection[str], now: datetime, *, unsent: bool) -> datetime | None:
        """When the monitor should look again: the earliest check not done (a past one: at the next run), or
        soon when a notification is still to be sent; None when nothing is left of the entry."""
        times = [c.at for c in self.checks if c.name not in done]
        if unsent:
            times.append(now + NOTIFY_RETRY)
        return min(times, default=None)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def record(self) -> dict[str, Any]:
        """What the order keeps of the entry the monitor last planned (its `sla` map)."""
        return {
            "status": self.status,
            "entered_at": self.entered_at,
            "due_at": self.due_at,
            "location_id": self.location_id,
        }


def fulfilling_location(order: Mapping[str, Any]) -> str | None:
    """The location that fulfils the order: its first allocation's, else the one it is delivered from/to."""
    allocations = order.get("allocations") or []
    if allocations:
        return str(allocations[0]["location_id"])
    location = (order.get("delivery") or {}).get("location_id")
    return str(location) if location else None


def plan_entry(order: Mapping[str, Any], sla: StatusSla | None, hard_seconds: int | None) -> EntryPlan:
    """The checks of the order's current entry. `sla` is None for a terminal status (nothing to watch);
    `hard_seconds` is the state machine's own deadline when its timeout moves the order (None for `flag`)."""
    entered_at = order["status_since"]
    entered = utc_moment(entered_at)
    location = fulfilling_location(order)
    checks: list[Check] = []
    due_at = None
    if sla is not None:
        ship_by = order.get("ship_by")
        due_seconds = sla.due_seconds(entered_at, ship_by)
        # The order's own deadline to the millisecond (due_seconds counts whole seconds).
        own = ship_by if sla.deadline_from == "ship_by" else None
        due = utc_moment(own) if own else entered + timedelta(seconds=due_seconds)
        due_at = utc_text(due)
        warn_after = sla.warn_after(due_seconds)
        if warn_after is not None:
            checks.append(Check("warn", entered + timedelta(seconds=warn_after), sla.warn_to))
        checks += [
            Check(f"escalate_{n}", entered + timedelta(seconds=after), role)
            for n, (after, role) in enumerate(sla.escalate, start=1)
        ]
        checks.append(Check("breach", due, sla.breach_to))
        if entered_at == order["created_at"]:
            checks.append(Check("start", utc_moment(order["created_at"]) + START_AFTER))
        if hard_seconds is not None:
            checks.append(Check("alive", entered + timedelta(seconds=hard_seconds) + ALIVE_AFTER))
    return EntryPlan(order["status"], entered_at, due_at, location, tuple(checks))


def told_at(role: str, location_id: str | None) -> str | None:
    """The location a role is told at: its own for a store role, none for the hub-wide ones."""
    return location_id if role.startswith(STORE_ROLE_PREFIX) else None


def sla_task_id(order_id: str, entered_at: str, role: str) -> str:
    """One task per (order, status entry, role): a later tier for the same role updates it."""
    return f"sla#{order_id}#{entered_at}#{role}"


def lost_task_id(order_id: str, entered_at: str) -> str:
    return f"lifecycle_lost#{order_id}#{entered_at}"


def of_entry(marks: Collection[str], entered_at: str) -> set[str]:
    """The task ids / unsent marks (`<...>#<entered_at>#...`) that belong to the entry `entered_at`."""
    return {mark for mark in marks if f"#{entered_at}#" in f"#{mark}#"}


# ------------------------------------------------------------------ what the timeline says happened


@dataclass(frozen=True)
class Entered:
    """One status entry read from the timeline."""

    status: str
    at: str
    source: str


def status_entries(timeline: Sequence[Mapping[str, Any]]) -> list[Entered]:
    """The timeline's status entries: its first entry and each one whose status differs from the one before
    (the other entries, e.g. an action's outcome or a moved ship-by, happen within a status)."""
    entries: list[Entered] = []
    for item in timeline:
        if not entries or item["status"] != entries[-1].status:
            entries.append(Entered(item["status"], item["at"], item.get("source", "")))
    return entries


def completed_stays(timeline: Sequence[Mapping[str, Any]], seen_from: str | None) -> list[tuple[Entered, str]]:
    """The stays (an entry, and when the next one began) that ended since the entry the monitor planned last
    (`seen_from`, its entered_at; None: it never saw the order), that one included."""
    entries = status_entries(timeline)
    return [(e, after.at) for e, after in pairwise(entries) if seen_from is None or e.at >= seen_from]


def risk_facts(
    timeline: Sequence[Mapping[str, Any]], seen_from: str | None, ship_by: str | None, shipped: str, cancelled: str
) -> list[tuple[date, RiskFact]]:
    """The marketplace risk facts (accepted, shipped, shipped_late, seller_cancelled) of the entries made since
    the entry the monitor planned last, each on its UTC day. A cancellation is the seller's unless the channel or
    its partner reported it (the customer cancels through the marketplace)."""
    facts: list[tuple[date, RiskFact]] = []
    for n, entry in enumerate(status_entries(timeline)):
        if seen_from is not None and entry.at <= seen_from:
            continue
        day = utc_moment(entry.at).date()
        if n == 0:
            facts.append((day, "accepted"))
        elif entry.status == shipped:
            facts.append((day, "shipped"))
            if ship_by and entry.at > ship_by:
                facts.append((day, "shipped_late"))
        elif entry.status == cancelled and not entry.source.startswith(("partner:", "channel:")):
            facts.append((day, "seller_cancelled"))
    return facts
