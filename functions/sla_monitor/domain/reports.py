"""The SLA read side's answers as the API documents them (GET /v1/kpis, GET /v1/channels/{id}/risk); the use
cases (sla_monitor.use_cases.kpis) build them as plain dicts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Resolution(BaseModel):
    """How precise the percentiles are: they are read from histogram buckets, not from kept stays."""

    buckets: str
    ratio: float
    min_seconds: int
    max_seconds: int
    relative_error: float = Field(description="The most a p50/p90 may be off, as a share of the true value")


class StatusKpis(BaseModel):
    workflow: str
    status: str
    count: int = Field(description="Stays in the status that ended in the range")
    p50_seconds: float | None
    p90_seconds: float | None
    max_seconds: float | None
    mean_seconds: float | None
    warnings: int = Field(description="Warnings fired in the range")
    escalations: int
    breaches: int


class KpiFilters(BaseModel):
    channel: str | None
    location: str | None
    workflow: str | None


class KpiReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    first: str = Field(alias="from", description="First UTC day (included)")
    last: str = Field(alias="to", description="Last UTC day (included)")
    days: int = Field(description="Days the figures cover: the range, cut at today")
    filters: KpiFilters
    resolution: Resolution
    items: list[StatusKpis]


class Window(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    first: str = Field(alias="from")
    last: str = Field(alias="to")


class RiskMeasure(BaseModel):
    """One share over its window; its two counts are named after their facts (seller_cancelled of accepted,
    shipped_late of shipped). Graded measures carry the marketplace's threshold, band and source."""

    model_config = ConfigDict(extra="allow")

    measure: str
    share: float | None
    window: Window
    threshold: float | None = None
    over_threshold: bool | None = None
    band: str | None = None
    source: str | None = None


class RiskReport(BaseModel):
    channel_id: str
    kind: str
    as_of: str = Field(description="Today (UTC): the windows end today, today so far included")
    risk_scale: bool = Field(description="Whether a marketplace publishes a scale the measures are graded on")
    note: str | None
    measures: list[RiskMeasure]
