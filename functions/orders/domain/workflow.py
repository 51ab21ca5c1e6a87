"""Order workflows as data: statuses, the events that move them, deadlines, stock effects, actions.

The sources are workflows/*.yaml; `oms-hub workflows build` validates them with these models and writes
the catalog the functions read (orders/workflows.json, loaded by orders.adapters.workflow_catalog) and the
state machines (state_machines/). Pure: no AWS, no environment, no files: the workflows are passed in.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from common.clock import utc_moment
from common.errors import InvalidTransition
from orders.domain.sla import Duration, SlaOverride, SlaTerms, StatusSla, resolve, seconds, sla_problems
from reference.models import DeliveryMethod

# An order whose lifecycle step failed after its retries: only `retry` and `cancel` move it.
LIFECYCLE_FAILED = "lifecycle_failed"
# Intake writes one of these, atomically with the reservations; every workflow starts from them.
INITIAL_STATUSES = ("reserved", "on_hold")
# ... or this one, for a prepaid order whose payment is still pending, where the workflow declares it.
AWAITING_PAYMENT = "awaiting_payment"
# The reservation sweeper posts `expire` when a hold's expires_at passes.
EXPIRE = "expire"
DEFAULT_WORKFLOW = "courier"

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
MAX_WAIT_SECONDS = 365 * 86400  # a Standard execution lives at most one year


# What a status may do on entering (docs/actions.md); the marketplace actions act on the order's own channel.
ActionName = Literal[
    "notify_customer",
    "create_shipment",
    "cancel_shipment",
    "open_task",
    "close_task",
    "confirm_to_marketplace",
    "hand_over_to_marketplace",
    "cancel_at_marketplace",
    "loyalty_hold",
    "loyalty_write_off",
    "loyalty_accrue",
    "loyalty_give_back",
]


class Status(SlaTerms):
    """One status: how it is left (events), how long it may last (KPI), what entering it does, and (SlaTerms)
    who is warned and escalated to while it lasts."""

    description: str = ""
    events: dict[Name, Name] = Field(default_factory=dict, description="event -> next status; none: terminal")
    kpi: Duration | None = Field(None, description="Maximum time in the status; required unless terminal.")
    deadline_from: Literal["ship_by"] | None = Field(
        None,
        description="Take the KPI from the order's own deadline (counted from its creation); `kpi` is "
        "the fallback for orders without one. Only on the statuses intake writes.",
    )
    on_timeout: Name | Literal["flag"] = Field(
        "cancel",
        description="When the KPI passes: one of this status's events, sent by the deadline, or `flag`"
        " (mark the order for an operator and keep waiting).",
    )
    attention: Name = Field("kpi_breached", description="What `flag` writes on the order.")
    stock: Literal["reserve", "consume", "release"] | None = Field(
        None,
        description="On entering: reserve what is missing (from on_hold), take the reserved units out of "
        "on-hand (a sale or a shipment), or release them back to free stock.",
    )
    hold: bool = Field(False, description="A hold of reserved stock: must accept `expire`.")
    short_pick: bool = Field(False, description="Pickers may report units missing here; the rest carries on.")
    payment: Literal["request_link"] | None = Field(
        None, description="On entering: ask the acquirer for a new payment link for the customer."
    )
    actions: list[ActionName] = Field(
        default_factory=list,
        description="Published on the bus as OrderStatusEntered when the status is entered; OrderActionsFunction "
        "runs each once per entry (docs/actions.md).",
    )
    requires: dict[Name, list[ActionName]] = Field(
        default_factory=dict,
        description="event -> actions of this status that must be done before an operator's event is accepted "
        "(409 action_pending until then); a partner reporting the move itself is not held.",
    )
    sla: list[SlaOverride] = Field(
        default_factory=list, description="Other SLA terms for some channels and/or locations; first match wins."
    )

    @property
    def terminal(self) -> bool:
        return not self.events

    def timeout_seconds(self) -> int:
        return seconds(self.kpi) if self.kpi else 0


class Workflow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    description: str = ""
    delivery_methods: list[DeliveryMethod] = Field(min_length=1)
    channels: list[str] = Field(default_factory=list, description="Only for these channels; empty: every channel.")
    statuses: dict[Name, Status]

    @field_validator("statuses")
    @classmethod
    def _known_targets(cls, statuses: dict[str, Status]) -> dict[str, Status]:
        for name, status in statuses.items():
            unknown = set(status.events.values()) - set(statuses)
            if unknown:
                raise ValueError(f"status {name!r} leads to undeclared statuses {sorted(unknown)}")
        return statuses

    @model_validator(mode="after")
    def _consistent(self) -> Workflow:
        problems = [*self._start_problems(), *self._event_problems()]
        for name, status in self.statuses.items():
            problems.extend(f"status {name!r}: {p}" for p in _status_problems(name, status, self))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _start_problems(self) -> list[str]:
        problems = [f"every workflow starts from {s!r}: declare it" for s in INITIAL_STATUSES if s not in self.statuses]
        holds = [n for n, s in self.statuses.items() if s.hold or n in INITIAL_STATUSES]
        for name in holds:
            target = self.statuses.get(name, Status()).events.get(EXPIRE)
            if name in self.statuses and (target is None or self.statuses[target].stock != "release"):
                problems.append(f"hold status {name!r} must accept `expire` into a status that releases stock")
        return problems

    def _event_problems(self) -> list[str]:
        """An event always leads to one status, so a failed step is retried by its event alone."""
        targets: dict[str, str] = {}
        problems = []
        for status in self.statuses.values():
            for event, target in status.events.items():
                if targets.setdefault(event, target) != target:
                    problems.append(f"event {event!r} leads to both {targets[event]!r} and {target!r}")
        return problems

    # ------------------------------------------------------------------ queries
    @property
    def transitions(self) -> dict[str, dict[str, str]]:
        return {name: dict(s.events) for name, s in self.statuses.items() if s.events}

    @property
    def terminal_statuses(self) -> list[str]:
        return [name for name, s in self.statuses.items() if s.terminal]

    def event_target(self, event: str) -> str:
        return next(s.events[event] for s in self.statuses.values() if event in s.events)

    def events(self) -> list[str]:
        return list(dict.fromkeys(e for s in self.statuses.values() for e in s.events))

    def sources_into(self, target: str) -> list[str]:
        return sorted(name for name, s in self.statuses.items() if target in s.events.values())

    def sources_of(self, stock: str) -> list[str]:
        """Statuses from which an event leads into a status with this stock effect, sorted."""
        return sorted(
            name for name, s in self.statuses.items() if any(self.statuses[t].stock == stock for t in s.events.values())
        )

    def path(self, source: str, target: str, *, avoid: frozenset[str] = frozenset()) -> list[str] | None:
        """The shortest list of events that leads from `source` to `target` (empty if they are the same),
        never using an event in `avoid`; None when the workflow has no such way (e.g. backwards)."""
        ways: dict[str, list[str]] = {source: []}
        frontier = [source]
        while frontier and target not in ways:
            following = []
            for status in frontier:
                for event, reached in self.transitions.get(status, {}).items():
                    if event not in avoid and reached not in ways:
                        ways[reached] = [*ways[status], event]
                        following.append(reached)
            frontier = following
        return ways.get(target)

    def next_status(self, status: str, event: str, *, recovering: bool = False) -> str:
        allowed = self.recovery_events(status) if recovering else self.transitions.get(status, {})
        if event not in allowed:
            # `expire` is the reservation sweeper's, not an operator's choice: not offered to them.
            raise InvalidTransition(
                f"event {event!r} is not allowed in status {status!r}",
                status=status,
                allowed_events=sorted(set(allowed) - {EXPIRE}),
            )
        return allowed[event]

    def recovery_events(self, status: str) -> dict[str, str]:
        """After a step failed for good: run it again, or cancel if the status still allows it."""
        moves = {"retry": status}
        if "cancel" in self.transitions.get(status, {}):
            moves["cancel"] = self.transitions[status]["cancel"]
        return moves

    def deadlines(self, ship_by: str | None, created_at: str) -> dict[str, int]:
        """Seconds each `deadline_from` status may last for this order, from its creation (at least 1)."""
        out = {}
        for name, status in self.statuses.items():
            if status.deadline_from == "ship_by":
                left = status.timeout_seconds()
                if ship_by:
                    left = int((utc_moment(ship_by) - utc_moment(created_at)).total_seconds())
                out[name] = min(max(left, 1), MAX_WAIT_SECONDS)
        return out

    def sla_for(self, status: str, channel: str, location: str | None) -> StatusSla | None:
        """The SLA an order's entry of `status` is watched by (its channel, its fulfilling location);
        None for a terminal or unknown status."""
        found = self.statuses.get(status)
        return resolve(found, channel, location) if found is not None and not found.terminal else None

    def start_statuses(self) -> list[str]:
        """The statuses intake may write for this workflow."""
        return [*INITIAL_STATUSES, *([AWAITING_PAYMENT] if AWAITING_PAYMENT in self.statuses else [])]

    def serves(self, method: DeliveryMethod, channel: str) -> bool:
        return method in self.delivery_methods and (not self.channels or channel in self.channels)


def _status_problems(name: str, status: Status, workflow: Workflow) -> list[str]:
    if status.terminal:
        held = status.kpi or status.deadline_from or status.hold
        watched = status.model_dump(include=set(SlaTerms.model_fields), exclude_defaults=True) or status.sla
        problems = ["a terminal status has no KPI and holds nothing"] if held else []
        return problems + (["a terminal status has no SLA (warnings, escalations, overrides)"] if watched else [])
    problems = [*_wait_problems(status), *sla_problems(status)]
    if name == AWAITING_PAYMENT and not (status.hold and "pay" in status.events):
        problems.append("awaiting_payment is a hold that the acquirer's `pay` moves on")
    if status.short_pick and (status.terminal or status.stock):
        problems.append("units are reported missing while the order waits with its stock reserved")
    if status.payment and (status.stock or status.terminal):
        problems.append("a status that requests a payment link waits, and moves no stock")
    if status.deadline_from and name not in INITIAL_STATUSES:
        problems.append("`deadline_from` counts from the order's creation: only on reserved/on_hold")
    for event, required in status.requires.items():
        if event not in status.events:
            problems.append(f"`requires` names {event!r}, which is not one of its events")
        if set(required) - set(status.actions):
            problems.append(f"`requires` of {event!r} names actions the status does not run")
    return problems + _stock_problems(name, status, workflow)


def _wait_problems(status: Status) -> list[str]:
    """A waiting status's deadline and what its timeout does."""
    problems = []
    if not status.kpi:
        problems.append("every waiting status needs a `kpi` (its hard deadline)")
    elif status.timeout_seconds() > MAX_WAIT_SECONDS:
        problems.append("`kpi` is longer than a Standard execution may live (365d)")
    if status.on_timeout != "flag" and status.on_timeout not in status.events:
        problems.append(f"on_timeout {status.on_timeout!r} is neither `flag` nor one of its events")
    return problems


def _stock_problems(name: str, status: Status, workflow: Workflow) -> list[str]:
    """What a waiting status may do to stock: release only on the way out, reserve only as `reserved`."""
    problems = []
    if status.stock == "release":
        problems.append("a status that releases stock must be terminal")
    if status.stock == "reserve":
        if name != "reserved":
            problems.append("only `reserved` reserves (the retried reservation writes it)")
        if workflow.sources_of("reserve") != ["on_hold"]:
            problems.append("only on_hold may lead to a reserving status")
    return problems


# ------------------------------------------------------------------ the catalog the functions read


class Catalog(BaseModel):
    workflows: dict[str, Workflow]

    @model_validator(mode="after")
    def _one_per_method_and_channel(self) -> Catalog:
        if DEFAULT_WORKFLOW not in self.workflows:
            raise ValueError(f"the default workflow {DEFAULT_WORKFLOW!r} is missing")
        for method in DeliveryMethod:
            general = [w.name for w in self.workflows.values() if method in w.delivery_methods and not w.channels]
            if len(general) != 1:
                raise ValueError(
                    f"delivery method {method.value!r} needs exactly one workflow for all channels, has {general}"
                )
        seen: dict[tuple[str, str], str] = {}
        for w in self.workflows.values():
            for method in w.delivery_methods:
                for channel in w.channels:
                    if seen.setdefault((method, channel), w.name) != w.name:
                        raise ValueError(f"{method.value} on channel {channel!r} has two workflows")
        return self

    def for_order(self, method: DeliveryMethod, channel: str) -> Workflow:
        """The channel's own workflow for the method if it has one, else the method's workflow."""
        candidates = [w for w in self.workflows.values() if w.serves(method, channel)]
        return min(candidates, key=lambda w: not w.channels)


def catalog_json(workflows: list[Workflow]) -> str:
    document = Catalog(workflows={w.name: w for w in workflows}).model_dump(mode="json", exclude_defaults=True)
    return json.dumps(document, indent=1) + "\n"
