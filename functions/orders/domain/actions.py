"""On-entry actions as the order records them: which entry of a status an action belongs to, its record,
and whether an event must wait for one (docs/actions.md). Pure: the order is passed in as read.

An action's key is (action, status, n): the n-th time the order entered that status, counted on its
timeline. The key makes a repeated announcement (a duplicate delivery, a retried Announce state) find the
record of the first and do nothing again, while a later entry of the same status is a new action.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

ACTOR = "actions"  # the timeline's source of every attempt's outcome

State = Literal["running", "retrying", "done", "failed", "skipped"]
FINAL_STATES = frozenset({"done", "failed", "skipped"})
SATISFIED = frozenset({"done", "skipped"})  # what an event that requires the action accepts
IN_PROGRESS = frozenset({"not_started", "running"})  # may be done in a moment


class ActionRecord(BaseModel):
    """One action of one status entry, as `GET /v1/orders/{id}` shows it."""

    name: str
    status: State = Field(
        description="running (claimed), retrying (a transient failure, tried again with backoff), done, "
        "failed (for good: the order's attention is set and an operator task is open), skipped."
    )
    attempts: int = 0
    last_error: str | None = None
    result: dict[str, Any] | None = Field(None, description="What the partner answered (ids, numbers).")
    on_status: str = Field(description="The order status whose entry runs the action.")
    entry: int = Field(description="Which entry of that status (1 = the first time the order entered it).")
    updated_at: str


def action_key(name: str, status: str, entry: int) -> str:
    return f"{name}:{status}:{entry}"


def _starts(timeline: Sequence[Mapping[str, Any]], status: str) -> list[Mapping[str, Any]]:
    """The timeline entries that began a stay in `status`: a run of entries in it counts once (notes written
    while the order stays, such as a short pick or an action's outcome, begin nothing)."""
    starts, previous = [], None
    for entry in timeline:
        if entry.get("source") == ACTOR:
            continue
        if entry["status"] == status and previous != status:
            starts.append(entry)
        previous = entry["status"]
    return starts


def entries_of(timeline: Sequence[Mapping[str, Any]], status: str) -> int:
    """How many times the order entered `status`."""
    return len(_starts(timeline, status))


def entry_of(timeline: Sequence[Mapping[str, Any]], status: str, entry: int) -> Mapping[str, Any] | None:
    """The timeline entry that began the `entry`-th stay in `status` (who moved the order there, and why)."""
    starts = _starts(timeline, status)
    return starts[entry - 1] if 0 < entry <= len(starts) else None


def records(order: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    stored: dict[str, dict[str, Any]] = order.get("actions") or {}
    return stored


def done_results(order: Mapping[str, Any], name: str, field: str) -> list[Any]:
    """`field` of the results of every `name` action of the order that is done (a supply, a shipment's uuid),
    in the order they were claimed."""
    return [
        record["result"][field]
        for record in shown(order)
        if record["name"] == name and record["status"] == "done" and (record.get("result") or {}).get(field)
    ]


def shown(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The records in the order they were first claimed."""
    return sorted(records(order).values(), key=lambda r: (r.get("claimed_at", ""), r["name"]))


def latest(order: Mapping[str, Any], name: str) -> tuple[str, dict[str, Any]] | None:
    """The key and record of the order's latest `name` action (the one an operator would retry), if any."""
    named = [(key, r) for key, r in records(order).items() if r["name"] == name]
    return max(named, key=lambda pair: (pair[1].get("claimed_at", ""), pair[0])) if named else None


RETRIED_AFTER = "retried_after"  # on a record an operator retried: its attempts before the retry
RETURN_KEY = ":return:"  # a return's action is keyed <name>:return:<return_id>, not by a status entry


def return_of(key: str) -> str | None:
    """The return id an action's key names, if it is a return's action."""
    return key.split(RETURN_KEY, 1)[1] if RETURN_KEY in key else None


@dataclass(frozen=True)
class Target:
    """The status entry an announcement is about, or why there is none yet."""

    entry: int | None  # None: no entry of the status without a record: early (not written yet) or a duplicate
    record: dict[str, Any] | None = None


def target(order: Mapping[str, Any], name: str, status: str) -> Target:
    """The earliest entry of `status` whose `name` action is not final (its record, if claimed)."""
    held = records(order)
    for entry in range(1, entries_of(order.get("timeline", []), status) + 1):
        record = held.get(action_key(name, status, entry))
        if record is None or record["status"] not in FINAL_STATES:
            return Target(entry, record)
    return Target(None)


@dataclass(frozen=True)
class Unmet:
    """An action an event waits for, and how it stands."""

    name: str
    status: str
    last_error: str | None


def unmet(order: Mapping[str, Any], required: Sequence[str]) -> list[Unmet]:
    """The actions of the order's current status entry that `required` names and that are neither done nor
    skipped (skipped: nothing was to be sent, e.g. the partner reported the move itself)."""
    status = order["status"]
    entry = entries_of(order.get("timeline", []), status)
    held = records(order)
    missing = []
    for name in required:
        record = held.get(action_key(name, status, entry)) or {}
        if record.get("status") not in SATISFIED:
            missing.append(Unmet(name, record.get("status", "not_started"), record.get("last_error")))
    return missing
