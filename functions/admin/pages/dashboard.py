"""The manager's dashboard: server-rendered SVG charts (no script) whose every number is also in a table
beside it, taken from the same use cases the /v1 API answers with: orders at work and open tasks (now), time
in status per store and status with the SLA tiers fired, the unfulfilled share with the cancellations'
reasons (over the range the form picks, last 7 days by default), each channel's marketplace risk (now), and the
modelled AWS cost per 1,000 orders (common.cost_model)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from admin.auth.identity import Identity
from admin.auth.policy import require
from admin.rendering import render
from admin.web import Request, Response, Router
from common import cost_model
from common.clock import current
from common.errors import Problem, Unprocessable
from orders.use_cases import outcomes, queries
from reference import config_table
from sla_monitor.use_cases import kpis

router = Router()

VIEWERS = ("manager", "admin")
TASK_PAGES = 10  # open tasks read for the chart, 100 a page: the queue is worked down, so it stays short
WIDTH, BAR, GAP, LABEL = 640, 22, 6, 260  # the charts' geometry in SVG user units
DEFAULT_DAYS = 7
# The per-store figures are one KPI report per location, each one Query per day: the range is kept short so
# the page's Queries stay few (days x (locations + 1)).
MAX_DAYS = 31


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str
    y: int
    width: int


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart laid out for the template: bars scaled to the largest value."""

    key: str
    bars: list[Bar]
    height: int
    label_width: int = LABEL
    width: int = WIDTH


def bar_chart(key: str, rows: Iterable[tuple[str, float]], shown: str = "{:g}") -> Chart:
    rows = list(rows)
    top = max((value for _, value in rows), default=0) or 1
    room = WIDTH - LABEL - 70  # the value is written after the bar
    bars = [
        Bar(label, value, shown.format(value), i * (BAR + GAP), round(room * value / top))
        for i, (label, value) in enumerate(rows)
    ]
    return Chart(key, bars, max(len(bars), 1) * (BAR + GAP))


@dataclass(frozen=True)
class Table:
    """A chart's numbers: column headings (i18n keys) and rows of cells, each row with its `data-key`."""

    key: str
    columns: list[str]
    rows: list[tuple[str, list[Any]]]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    key: str
    charts: list[Chart]
    table: Table


def _open_tasks() -> Counter[str]:
    kinds: Counter[str] = Counter()
    cursor = None
    for _ in range(TASK_PAGES):
        page = queries.list_tasks("open", 100, cursor)
        kinds.update(task["kind"] for task in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return kinds


def report_range(query: dict[str, str], today: date) -> tuple[date, date]:
    """The form's `from` and `to` (ISO days), the last 7 days by default; 422 for a day that is not one, or a
    range the page does not cover (to before from, over 31 days)."""
    try:
        last = date.fromisoformat(query["to"]) if query.get("to") else today
        first = date.fromisoformat(query["from"]) if query.get("from") else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError as error:
        raise Unprocessable("a day is written YYYY-MM-DD", [Problem(("from",), str(error), part="query")]) from None
    if first <= last and (last - first).days >= MAX_DAYS:
        raise Unprocessable(f"the dashboard covers at most {MAX_DAYS} days", [Problem(("to",), "too long", "query")])
    return first, last


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


def _time_in_status(first: date, last: date) -> Section:
    """p50/p90 and the tiers per status (all stores), then per store and status; a row per figure."""
    overall = kpis.kpi_report(first, last)["items"]
    per_store = [
        (location, item)
        for location in sorted(config_table.locations())
        for item in kpis.kpi_report(first, last, location=location)["items"]
    ]
    columns = ["kpi.store", "kpi.workflow", "kpi.status", "kpi.count", "kpi.p50", "kpi.p90"]
    columns += ["kpi.warnings", "kpi.escalations", "kpi.breaches"]
    rows = [
        (
            f"{where}#{item['workflow']}#{item['status']}",
            [
                where,
                item["workflow"],
                item["status"],
                item["count"],
                _minutes(item["p50_seconds"]),
                _minutes(item["p90_seconds"]),
                item["warnings"],
                item["escalations"],
                item["breaches"],
            ],
        )
        for where, item in [("*", item) for item in overall] + per_store
    ]
    p90 = [(f"{where} · {item['status']}", (item["p90_seconds"] or 0) / 60) for where, item in per_store]
    tiers = [
        (f"{item['status']} · {kind}", item[kind])
        for item in overall
        for kind in ("warnings", "escalations", "breaches")
        if item[kind]
    ]
    charts = [bar_chart("p90_by_store", p90, "{:.1f}"), bar_chart("sla_tiers", tiers)]
    return Section("time_in_status", charts, Table("time_in_status", columns, rows, ["kpi.note"]))


def _unfulfilled(first: date, last: date) -> Section:
    report = outcomes.outcome_report(first, last)
    rows: list[tuple[str, list[Any]]] = [("created", ["created", report["created"], ""])]
    rows += [(f"status#{s['status']}", [s["status"], s["count"], _percent(s["share"])]) for s in report["statuses"]]
    rows.append(("unfulfilled", ["unfulfilled", report["unfulfilled"], _percent(report["unfulfilled_share"])]))
    rows += [(f"reason#{r['reason']}", [r["reason"], r["count"], ""]) for r in report["reasons"]]
    shares = [(s["status"], 100 * (s["share"] or 0)) for s in report["statuses"]]
    charts = [
        bar_chart("unfulfilled", shares, "{:.1f} %"),
        bar_chart("cancel_reasons", [(r["reason"], r["count"]) for r in report["reasons"]]),
    ]
    table = Table("unfulfilled", ["outcome.what", "outcome.count", "outcome.share"], rows, ["outcome.note"])
    return Section("unfulfilled", charts, table)


def _percent(share: float | None) -> str:
    return "" if share is None else f"{100 * share:.1f}"


def _risk(channels: list[str]) -> Section:
    rows = []
    for channel in channels:
        report = kpis.channel_risk_report(channel)
        for m in report["measures"]:
            cells = [channel, m["measure"], _percent(m["share"]), _percent(m.get("threshold")), m.get("band") or ""]
            rows.append((f"{channel}#{m['measure']}", cells))
    shares = [(f"{cells[0]} · {cells[1]}", float(cells[2] or 0)) for _, cells in rows]
    columns = ["risk.channel", "risk.measure", "risk.share", "risk.threshold", "risk.band"]
    return Section("risk", [bar_chart("risk", shares, "{:.1f} %")], Table("risk", columns, rows, ["risk.note"]))


def _cost() -> Section:
    rows = []
    for workflow, usage in cost_model.MEASURED.items():
        parts = cost_model.cost_per_1000(usage)
        rows.append((workflow, [workflow, f"{sum(parts.values()):.3f}", *(f"{usd:.4f}" for usd in parts.values())]))
    columns = ["cost.workflow", "cost.total", *(f"cost.{part}" for part in ("sfn", "lambda", "dynamodb"))]
    columns += ["cost.events", "cost.sqs", "cost.ses"]
    chart = bar_chart("cost", [(cells[0], float(cells[1])) for _, cells in rows], "${:.3f}")
    return Section("cost", [chart], Table("cost", columns, rows, ["cost.note"]))


@router.get("/admin/dashboard")
def dashboard(request: Request, identity: Identity) -> Response:
    require(identity, *VIEWERS)
    today = current().date()
    channels = sorted(c.channel_id for c in config_table.channels())
    counts = [row for row in queries.open_orders_by_status(channels) if row["count"]]
    by_status: Counter[str] = Counter()
    by_channel: Counter[str] = Counter(dict.fromkeys(channels, 0))
    for row in counts:
        by_status[row["status"]] += row["count"]
        by_channel[row["channel"]] += row["count"]
    tasks = _open_tasks()
    charts = [
        bar_chart("by_status", by_status.items()),
        bar_chart("by_channel", sorted(by_channel.items())),
        bar_chart("tasks", sorted(tasks.items())),
    ]
    try:
        first, last = report_range(dict(request.query), today)
        sections = [_time_in_status(first, last), _unfulfilled(first, last), _risk(channels), _cost()]
        refused, status, shown = False, 200, (first.isoformat(), last.isoformat())
    except Unprocessable:  # the range as asked, refused on the form; the charts of now still shown
        sections, refused, status = [], True, 422
        shown = (request.query.get("from", ""), request.query.get("to", ""))
    return render(
        request,
        identity,
        "dashboard.html",
        status=status,
        counts=counts,
        first=shown[0],
        last=shown[1],
        range_refused=refused,
        max_days=MAX_DAYS,
        measured_on=cost_model.MEASURED_ON,
        charts=charts,
        sections=sections,
    )
