"""Store staff's pages (their own locations only, enforced here): the queue by urgency, refreshed by
refresh.js from its partial every 20 s; a picking list per order with the short pick in one step; the
hand-over to the courier or, against the pickup code, to the customer; their stores' stock."""

from __future__ import annotations

from collections.abc import Callable

from admin.auth.identity import Identity
from admin.auth.policy import can_see_order, require
from admin.pages.orders import acted, customer_view, visible_order, whole
from admin.rendering import render
from admin.web import Request, Response, Router, redirect
from catalog.use_cases.stock_lookup import stock_at
from common.clock import utc_now
from common.errors import NotFound
from orders.adapters.workflow_catalog import workflow
from orders.domain.models import Order, OrderEventIn, ShortPickIn
from orders.use_cases import events, returns, store
from reference import config_table

router = Router()

STAFF = ("store_staff",)
QUEUE_PAGE = 100  # orders shown per section, read per store and section at each refresh
STOCK_FOUND = 25  # products shown per stock search
# What the store does next in each status, as buttons: the workflow says which of them the order takes.
STORE_EVENTS = ("pick", "pack", "ready", "ship", "confirm", "sell")


@router.get("/admin/store")
def queue_page(request: Request, identity: Identity) -> Response:
    require(identity, *STAFF)
    return render(request, identity, "store.html", queue=_queue(identity))


@router.get("/admin/store/queue")
def queue_part(request: Request, identity: Identity) -> Response:
    """The queue alone, for refresh.js to swap in."""
    require(identity, *STAFF)
    return render(request, identity, "store_queue.html", queue=_queue(identity))


def _queue(identity: Identity) -> dict[str, list[Order]]:
    return store.store_queue(identity.location_ids, lambda order: can_see_order(identity, order), QUEUE_PAGE)


@router.get("/admin/store/orders/{order_id}")
def picking_list(request: Request, identity: Identity) -> Response:
    require(identity, *STAFF)
    return _picking_page(request, identity, visible_order(request.params["order_id"], identity))


def _picking_page(
    request: Request, identity: Identity, order: Order, *, status: int = 200, refused: str | None = None
) -> Response:
    # An accepted event the lifecycle is still applying: the status shown is the one it leaves, so its
    # buttons would be refused as busy (the page says so and refresh.js reloads it until it is applied).
    allowed = {} if order.pending_event else workflow(order.workflow).transitions.get(order.status, {})
    mine = sorted(identity.location_ids)
    return render(
        request,
        identity,
        "picking.html",
        status=status,
        order=order,
        customer=customer_view(order, identity),
        picks=[a for a in order.allocations if a.location_id in identity.location_ids],
        location_id=next((a.location_id for a in order.allocations if a.location_id in mine), mine[0] if mine else ""),
        events=[e for e in STORE_EVENTS if e in allowed],
        short_pick=workflow(order.workflow).statuses[order.status].short_pick,
        collect="collect" in allowed,
        refused=refused,
    )


def _acted_here(request: Request, identity: Identity, order: Order, act: Callable[[], object]) -> Response:
    """The action, then back to the picking list (or the list again with why not)."""
    return acted(request, identity, order, act, page=_picking_page, back=f"/admin/store/orders/{order.order_id}")


@router.post("/admin/store/orders/{order_id}/events")
def post_event(request: Request, identity: Identity) -> Response:
    require(identity, *STAFF)
    order = visible_order(request.params["order_id"], identity)
    event = request.form.get("event", "")
    if event not in STORE_EVENTS:
        event = ""  # refused by the model below: store staff send the store's events only
    return _acted_here(
        request, identity, order, lambda: events.post_event(order.order_id, OrderEventIn(event=event), identity.source)
    )


@router.post("/admin/store/orders/{order_id}/short-pick")
def post_short_pick(request: Request, identity: Identity) -> Response:
    require(identity, *STAFF)
    order = visible_order(request.params["order_id"], identity)
    location_id = request.form.get("location_id", "")
    if location_id not in identity.location_ids:
        location_id = ""  # another store's stock is not this user's to write off: refused by the model
    lines = [
        {"sku": a.sku, "missing": missing}
        for a in order.allocations
        if a.location_id == location_id and (missing := whole(request.form.get(f"missing_{a.sku}") or "0"))
    ]
    body = {"location_id": location_id, "lines": lines, "note": request.form.get("note") or None}
    return _acted_here(
        request,
        identity,
        order,
        lambda: returns.short_pick(order.order_id, ShortPickIn.model_validate(body), utc_now(), identity.source),
    )


@router.post("/admin/store/orders/{order_id}/collect")
def post_collect(request: Request, identity: Identity) -> Response:
    require(identity, *STAFF)
    order = visible_order(request.params["order_id"], identity)
    return _acted_here(
        request, identity, order, lambda: store.collect(order.order_id, request.form.get("code", ""), identity.source)
    )


@router.get("/admin/store/stock")
def stock_home(request: Request, identity: Identity) -> Response:
    require(identity, *STAFF)
    mine = sorted(identity.location_ids)
    if not mine:
        raise NotFound("you have no store")
    return redirect(request, f"/admin/store/stock/{mine[0]}")


@router.get("/admin/store/stock/{location_id}")
def stock_page(request: Request, identity: Identity) -> Response:
    """On hand, reserved and free units of what the search names, at one of the user's own stores; another
    store's stock is as unknown as a missing store (404)."""
    require(identity, *STAFF)
    location_id = request.params["location_id"]
    if location_id not in identity.location_ids:
        raise NotFound(f"location {location_id!r}")
    text = request.query.get("q", "").strip()[:100]
    return render(
        request,
        identity,
        "store_stock.html",
        location_id=location_id,
        location=config_table.locations().get(location_id),
        mine=sorted(identity.location_ids),
        q=text,
        found=stock_at(text, [location_id], STOCK_FOUND) if text else None,
    )
