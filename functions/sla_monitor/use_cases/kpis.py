"""The SLA read side (docs/sla.md): time in status per (workflow, status) over a range of days, and a channel's
marketplace risk, as the API's answers (GET /v1/kpis, GET /v1/channels/{id}/risk; the admin dashboard)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from common.clock import current
from common.errors import NotFound, Problem, Unprocessable
from orders.adapters.workflow_catalog import catalog
from reference import config_table
from sla_monitor.adapters import sla_table
from sla_monitor.domain.kpis import RESOLUTION, RISK_DAYS, SCALES, channel_risk, report_days, status_figures


def _unknown_filters(channel: str | None, location: str | None, workflow: str | None) -> list[Problem]:
    """A filter naming nothing the hub knows is a mistake, not an empty report."""
    problems = []
    if workflow is not None and workflow not in catalog().workflows:
        problems.append(Problem(("workflow",), f"unknown workflow {workflow!r}", part="query"))
    if channel is not None and config_table.channel(channel) is None:
        problems.append(Problem(("channel",), f"unknown channel {channel!r}", part="query"))
    if location is not None and location not in config_table.locations():
        problems.append(Problem(("location",), f"unknown location {location!r}", part="query"))
    return problems


def kpi_report(
    first: date, last: date, *, channel: str | None = None, location: str | None = None, workflow: str | None = None
) -> dict[str, Any]:
    """Per (workflow, status), the stays that ended from `first` to `last` (UTC days, both included, <= 92 days,
    none after today): count, p50/p90/max/mean seconds read from the histograms, warnings, escalations and
    breaches fired those days. One Query per day (of the workflow's rows only, when one is given); 422 for a
    range that is not valid or a filter naming an unknown workflow, channel or location."""
    problems = _unknown_filters(channel, location, workflow)
    if problems:
        raise Unprocessable(problems[0].msg, problems)
    days = report_days(first, last, current().date())
    rows = [
        row
        for day in days
        for row in sla_table.kpi_rows(day, workflow)
        if (channel is None or row.channel == channel) and (location is None or row.location == location)
    ]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        # A range reaching past today is cut at today: the days the figures cover.
        "days": len(days),
        "filters": {"channel": channel, "location": location, "workflow": workflow},
        "resolution": RESOLUTION,
        "items": [figures.answer() for figures in status_figures(rows)],
    }


def channel_risk_report(channel_id: str) -> dict[str, Any]:
    """The channel's risk measures up to today (today so far included), graded on its marketplace's published
    scales; a channel of a kind with none gets both shares ungraded and says so. 404 for an unknown channel."""
    channel = config_table.channel(channel_id)
    if channel is None:
        raise NotFound(f"no channel {channel_id!r}", channel_id=channel_id)
    today = current().date()
    days = sla_table.risk_days(channel_id, today - timedelta(days=RISK_DAYS - 1), today)
    scaled = channel.kind in SCALES
    return {
        "channel_id": channel_id,
        "kind": channel.kind,
        "as_of": today.isoformat(),
        "risk_scale": scaled,
        "note": None
        if scaled
        else f"no marketplace risk scale applies to channels of kind {channel.kind!r}: the shares are not graded",
        "measures": channel_risk(channel.kind, days, today),
    }
