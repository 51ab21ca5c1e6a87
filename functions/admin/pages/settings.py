"""The admin's pages: channels and their rules, locations and their capabilities, each marketplace's stock
push status, and every workflow drawn as a diagram of its statuses (with their KPIs) and events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from admin.auth.identity import Identity
from admin.auth.policy import require
from admin.rendering import render
from admin.web import Request, Response, Router
from orders.adapters.workflow_catalog import catalog
from orders.domain.workflow import Workflow
from reference import config_table
from stock_push.use_cases import pushes

router = Router()

ADMINS = ("admin",)
BOX_W, BOX_H, COL, ROW, MARGIN = 170, 46, 240, 64, 12  # diagram geometry in SVG user units


@dataclass(frozen=True)
class Box:
    status: str
    kpi: str | None
    terminal: bool
    x: int
    y: int


@dataclass(frozen=True)
class Arrow:
    event: str
    x1: int
    y1: int
    x2: int
    y2: int
    ending: bool  # into a status that gives the units back: drawn dashed, its event named once in the legend

    @property
    def label_x(self) -> int:
        return (self.x1 + self.x2) // 2

    @property
    def label_y(self) -> int:
        return (self.y1 + self.y2) // 2 - 4


@dataclass(frozen=True)
class Diagram:
    name: str
    description: str
    boxes: list[Box]
    arrows: list[Arrow]
    width: int
    height: int

    @property
    def ending_events(self) -> list[str]:
        return sorted({a.event for a in self.arrows if a.ending})


def diagram(flow: Workflow) -> Diagram:
    """Statuses in columns by their distance from the first status (breadth first over the events), each
    event an arrow from its status to the one it leads to."""
    depth: dict[str, int] = {}
    frontier = [s for s in flow.start_statuses() if s in flow.statuses] or list(flow.statuses)[:1]
    for status in frontier:
        depth[status] = 0
    while frontier:
        following = []
        for status in frontier:
            for target in flow.statuses[status].events.values():
                if target not in depth:
                    depth[target] = depth[status] + 1
                    following.append(target)
        frontier = following
    for status in flow.statuses:  # a status no event leads to still shows
        depth.setdefault(status, 0)
    # The statuses an order ends in by giving its units back (cancelled, expired, ...) sit on a lane of their own
    # below the rest, so the arrows into them do not cross the main path.
    released = [n for n, s in flow.statuses.items() if s.terminal and s.stock == "release"]
    rows: dict[int, int] = {}
    place: dict[str, tuple[int, int]] = {}
    for status in flow.statuses:
        if status in released:
            continue
        column = depth[status]
        row = rows.get(column, 0)
        rows[column] = row + 1
        place[status] = (MARGIN + column * COL, MARGIN + row * ROW)
    lane = MARGIN + max(rows.values(), default=0) * ROW + ROW // 2
    for n, status in enumerate(released):
        place[status] = (MARGIN + (n + 1) * COL, lane)
    boxes = [Box(name, s.kpi, s.terminal, *place[name]) for name, s in flow.statuses.items()]
    middle = BOX_H // 2
    arrows = [
        Arrow(
            event,
            place[name][0] + BOX_W,
            place[name][1] + middle,
            place[target][0] + (BOX_W // 2 if target in released else 0),
            place[target][1] + (0 if target in released else middle),
            target in released,
        )
        for name, s in flow.statuses.items()
        for event, target in s.events.items()
    ]
    width = MARGIN * 2 + max(x for x, _ in place.values()) + BOX_W
    height = MARGIN * 2 + max(y for _, y in place.values()) + BOX_H
    return Diagram(flow.name, flow.description, boxes, arrows, width, height)


@router.get("/admin/settings")
def settings_page(request: Request, identity: Identity) -> Response:
    require(identity, *ADMINS)
    channels = config_table.channels()
    push_status: dict[str, list[dict[str, Any]]] = {
        channel_id: pushes.recent_pushes(channel_id, 3) for channel_id in pushes.pushable_channels()
    }
    return render(
        request,
        identity,
        "settings.html",
        channels=sorted(channels, key=lambda c: c.channel_id),
        locations=sorted(config_table.locations().values(), key=lambda loc: loc.location_id),
        push_status=push_status,
        workflows=[diagram(flow) for flow in catalog().workflows.values()],
        box_w=BOX_W,
        box_h=BOX_H,
    )
