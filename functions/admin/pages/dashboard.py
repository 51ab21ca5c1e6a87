"""The manager's dashboard: server-rendered SVG charts (no script) whose every number is also in a table
beside it, taken from the same use cases the /v1 API answers with."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from admin.auth.identity import Identity
from admin.auth.policy import require
from admin.rendering import render
from admin.web import Request, Response, Router
from orders.use_cases import queries
from reference import config_table

router = Router()

VIEWERS = ("manager", "admin")
TASK_PAGES = 10  # open tasks read for the chart, 100 a page: the queue is worked down, so it stays short
WIDTH, BAR, GAP, LABEL = 640, 22, 6, 200  # the charts' geometry in SVG user units


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
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


def bar_chart(key: str, rows: Iterable[tuple[str, int]]) -> Chart:
    rows = list(rows)
    top = max((value for _, value in rows), default=0) or 1
    room = WIDTH - LABEL - 60  # the value is written after the bar
    bars = [Bar(label, value, i * (BAR + GAP), round(room * value / top)) for i, (label, value) in enumerate(rows)]
    return Chart(key, bars, max(len(bars), 1) * (BAR + GAP))


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


@router.get("/admin/dashboard")
def dashboard(request: Request, identity: Identity) -> Response:
    require(identity, *VIEWERS)
    channels = sorted(c.channel_id for c in config_table.channels())
    counts = [row for row in queries.open_orders_by_status(channels) if row["count"]]
    by_status: Counter[str] = Counter()
    by_channel: Counter[str] = Counter(dict.fromkeys(channels, 0))
    for row in counts:
        by_status[row["status"]] += row["count"]
        by_channel[row["channel"]] += row["count"]
    tasks = _open_tasks()
    return render(
        request,
        identity,
        "dashboard.html",
        counts=counts,
        charts=[
            bar_chart("by_status", by_status.items()),
            bar_chart("by_channel", sorted(by_channel.items())),
            bar_chart("tasks", sorted(tasks.items())),
        ],
    )
