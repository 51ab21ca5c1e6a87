"""What a waiting status promises (its SLA): when to warn, whom to tell, the escalation ladder, and the
per-channel / per-location overrides; and the one resolver the SLA monitor plans an entry with.

Part of the workflow model (orders.domain.workflow): the fields live on each status in workflows/*.yaml.
Pure: the order's channel and location are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

from common.clock import utc_moment

if TYPE_CHECKING:
    from orders.domain.workflow import Status

Duration = Annotated[str, Field(pattern=r"^[1-9][0-9]*[smhd]$", description="e.g. 30m, 48h, 14d")]
Percent = Annotated[str, Field(pattern=r"^[1-9][0-9]?%$", description="a share of the KPI, 1% .. 99%")]
# `store_*` roles are scoped to the order's location (the store's own staff); the others are hub-wide.
Role = Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,39}$")]
DEFAULT_ROLE = "ops"
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(duration: str) -> int:
    return int(duration[:-1]) * _UNIT_SECONDS[duration[-1]]


class Escalation(BaseModel):
    """One rung of the ladder: `after` this long in the status, tell `to`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: Duration
    to: Role


class SlaTerms(BaseModel):
    """The SLA fields a status and each of its overrides may set (unset: the status's, then the default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warn_at: Percent | None = Field(None, description="Warn once this share of the KPI has passed.")
    warn_before: Duration | None = Field(None, description="... or this long before the KPI ends (not both).")
    warn_to: Role | None = Field(None, description="Told at the warning; default the first rung's role, else ops.")
    breach_to: Role | None = Field(None, description="Told when the KPI passes; default ops.")
    escalate: list[Escalation] | None = Field(
        None, description="`after` = time in the status, increasing; each rung fires once per status entry."
    )

    def warning(self) -> tuple[float | None, int | None]:
        """(share of the KPI, seconds before its end): the one that is set, or neither."""
        return (int(self.warn_at[:-1]) / 100 if self.warn_at else None), (
            seconds(self.warn_before) if self.warn_before else None
        )

    def terms_problems(self, kpi_seconds: int, flagged: bool) -> list[str]:
        problems = []
        if self.warn_at and self.warn_before:
            problems.append("`warn_at` or `warn_before`, not both")
        if self.warn_before and seconds(self.warn_before) >= kpi_seconds:
            problems.append("`warn_before` must be shorter than the KPI")
        afters = [seconds(rung.after) for rung in self.escalate or []]
        if any(later <= earlier for earlier, later in pairwise(afters)):
            problems.append("`escalate` `after` values must increase")
        if not flagged and afters and afters[-1] >= kpi_seconds:
            problems.append("an escalation at or after the KPI needs `on_timeout: flag` (the status has ended by then)")
        return problems


class SlaOverride(SlaTerms):
    """Different terms for some channels and/or locations (a flagship store picks faster); first match wins."""

    channels: list[str] = Field(default_factory=list, description="Only these channels' orders.")
    locations: list[str] = Field(default_factory=list, description="Only orders fulfilled at these locations.")
    kpi: Duration | None = Field(
        None, description="The SLA's KPI here, at most the status's (which stays the machine's hard deadline)."
    )

    def matches(self, channel: str, location: str | None) -> bool:
        return (not self.channels or channel in self.channels) and (not self.locations or location in self.locations)


@dataclass(frozen=True)
class StatusSla:
    """The terms one order's entry of a status is watched by (times in seconds after the entry)."""

    kpi_seconds: int  # the breach; for `deadline_from: ship_by` only the fallback of an order without one
    deadline_from: str | None
    warn_share: float | None
    warn_before_seconds: int | None
    warn_to: str
    breach_to: str
    escalate: tuple[tuple[int, str], ...]  # (after_seconds, role), increasing
    on_timeout: str

    def due_seconds(self, entered_at: str, ship_by: str | None) -> int:
        """From the entry to the breach: the order's ship_by for a `deadline_from` status (0 or less when it
        has passed already), else the KPI."""
        if self.deadline_from == "ship_by" and ship_by:
            return int((utc_moment(ship_by) - utc_moment(entered_at)).total_seconds())
        return self.kpi_seconds

    def warn_after(self, due_seconds: int) -> int | None:
        """From the entry to the warning, for a breach `due_seconds` after it; None: no warning."""
        if self.warn_share is not None:
            return int(max(due_seconds, 0) * self.warn_share)
        if self.warn_before_seconds is not None:
            return max(due_seconds - self.warn_before_seconds, 0)
        return None

    @property
    def warn_seconds(self) -> int | None:
        """The warning for the KPI itself (a status not counted from ship_by)."""
        return self.warn_after(self.kpi_seconds)


def resolve(status: Status, channel: str, location: str | None) -> StatusSla:
    """The status's terms with its first override matching the order's channel and location."""
    terms, kpi = _merged(status, next((o for o in status.sla if o.matches(channel, location)), None))
    ladder = tuple((seconds(rung.after), rung.to) for rung in terms.escalate or [])
    share, before = terms.warning()
    return StatusSla(
        kpi_seconds=kpi,
        deadline_from=status.deadline_from,
        warn_share=share,
        warn_before_seconds=before,
        warn_to=terms.warn_to or (ladder[0][1] if ladder else DEFAULT_ROLE),
        breach_to=terms.breach_to or DEFAULT_ROLE,
        escalate=ladder,
        on_timeout=status.on_timeout,
    )


def sla_problems(status: Status) -> list[str]:
    """The status's terms and each override's as an order matching it gets them, against their KPI."""
    flagged = status.on_timeout == "flag"
    problems = status.terms_problems(status.timeout_seconds(), flagged)
    for i, override in enumerate(status.sla):
        where = f"sla[{i}]: "
        if not (override.channels or override.locations):
            problems.append(where + "an override names `channels` and/or `locations`")
        if override.kpi and seconds(override.kpi) > status.timeout_seconds():
            problems.append(where + "`kpi` may be shorter than the status's (the hard deadline), not longer")
        terms, kpi = _merged(status, override)
        problems.extend(where + p for p in terms.terms_problems(kpi, flagged))
    return problems


def _merged(status: Status, override: SlaOverride | None) -> tuple[SlaTerms, int]:
    """The terms and the KPI (seconds) of an order `override` matches (None: the status's own)."""
    fields = set(SlaTerms.model_fields)
    terms = status.model_dump(include=fields)
    if override is None:
        return SlaTerms.model_validate(terms), status.timeout_seconds()
    terms |= override.model_dump(include=fields, exclude_unset=True)
    if override.warn_at or override.warn_before:  # a new warning replaces the status's, of either kind
        terms |= {"warn_at": override.warn_at, "warn_before": override.warn_before}
    return SlaTerms.model_validate(terms), seconds(override.kpi) if override.kpi else status.timeout_seconds()
