"""The call-centre operator's pages: find an order, see it whole, act on it, work the task queue.

Every action goes through the hub's own use cases, as the /v1 API's do, with the signed-in user as its
source (`operator:<username>` on the order's timeline). A refused action shows the order again with why.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from admin.auth.identity import Identity
from admin.auth.policy import can_see_order, require, shows_personal_data
from admin.rendering import render
from admin.web import Request, Response, Router, redirect
from common.api import http_status
from common.clock import utc_now
from common.errors import HubError, OrderNotFound, Problem, Unprocessable
from orders.adapters.workflow_catalog import workflow
from orders.domain.models import Order, OrderEventIn, ReturnIn
from orders.domain.returns import may_return, returnable
from orders.domain.substitution import SubstitutionIn
from orders.use_cases import events, queries, returns, search, substitution
from reference import config_table

router = Router()

OPERATORS = ("operator", "manager", "admin")  # who may look orders up and act on them
PAGE_SIZE = 25
# The events an operator sends from the order page, in the order the buttons show; `remind` resends the
# payment link (awaiting_payment -> payment_reminded asks the acquirer for a new one).
OPERATOR_EVENTS = ("confirm", "remind", "cancel")


@router.get("/admin/orders")
def search_page(request: Request, identity: Identity) -> Response:
    require(identity, *OPERATORS)
    text = request.query.get("q", "").strip()
    cursor = request.query.get("cursor") or None
    if not text:
        return render(request, identity, "orders.html", q="", found=None, next_cursor=None)
    found = search.find_orders(text, PAGE_SIZE, cursor)
    return render(
        request,
        identity,
        "orders.html",
        q=text,
        found=[_summary(o, identity) for o in found["items"]],
        next_cursor=found["next_cursor"],
    )


@router.get("/admin/orders/{order_id}")
def order_page(request: Request, identity: Identity) -> Response:
    return _order_page(request, identity, visible_order(request.params["order_id"], identity))


@router.get("/admin/orders/{order_id}/version")
def order_version(request: Request, identity: Identity) -> Response:
    """The order's version (its `updated_at`), which the order page compares with the one it shows."""
    order = visible_order(request.params["order_id"], identity)
    return Response(200, order.updated_at, content_type="text/plain; charset=utf-8")


def visible_order(order_id: str, identity: Identity) -> Order:
    """The order if this user may see it; an order they may not see is as unknown as a missing one."""
    order = queries.get_order(order_id)
    if not can_see_order(identity, order):
        raise OrderNotFound(order_id)
    return order


def _order_page(
    request: Request, identity: Identity, order: Order, *, status: int = 200, refused: str | None = None
) -> Response:
    return render(
        request,
        identity,
        "order.html",
        status=status,
        order=order,
        customer=customer_view(order, identity),
        personal=shows_personal_data(identity),
        operator=bool(identity.roles & set(OPERATORS)),
        events=_operator_events(order),
        returnable=_returnable(order),
        locations=sorted(config_table.locations()),
        return_id=f"ret-{secrets.token_hex(6)}",  # one per form shown: a double submit records one return
        refused=refused,
    )


@router.post("/admin/orders/{order_id}/events")
def post_event(request: Request, identity: Identity) -> Response:
    require(identity, *OPERATORS)
    order = visible_order(request.params["order_id"], identity)
    event, note = request.form.get("event", ""), request.form.get("note", "").strip()
    if event == "cancel" and not note:
        return _refused(
            request, identity, order, Unprocessable("give the reason for the cancellation", []), _order_page
        )
    return acted(
        request,
        identity,
        order,
        lambda: events.post_event(order.order_id, OrderEventIn(event=event, note=note or None), identity.source),
    )


@router.post("/admin/orders/{order_id}/substitution")
def post_substitution(request: Request, identity: Identity) -> Response:
    require(identity, *OPERATORS)
    order = visible_order(request.params["order_id"], identity)
    form = request.form
    body: dict[str, Any] = {"sku": form.get("sku", ""), "actor": identity.username, "note": form.get("note") or None}
    if form.get("replacement_sku"):
        body["replacement"] = {"sku": form["replacement_sku"], "qty": whole(form.get("replacement_qty", ""))}
    return acted(
        request,
        identity,
        order,
        lambda: substitution.substitute(order.order_id, SubstitutionIn.model_validate(body), utc_now()),
    )


@router.post("/admin/orders/{order_id}/returns")
def post_return(request: Request, identity: Identity) -> Response:
    require(identity, *OPERATORS)
    order = visible_order(request.params["order_id"], identity)
    form = request.form
    lines = [
        {"sku": sku, "qty": qty}
        for sku in sorted(_returnable(order))
        if (qty := whole(form.get(f"qty_{sku}", "0") or "0"))
    ]
    body = {
        "return_id": form.get("return_id", ""),
        "reason": form.get("reason", "").strip(),
        "location_id": form.get("location_id", ""),
        "lines": lines,
    }
    return acted(
        request,
        identity,
        order,
        lambda: returns.return_items(order.order_id, ReturnIn.model_validate(body), utc_now(), identity.source),
    )


PageOf = Callable[..., Response]  # (request, identity, order, *, status, refused) -> the order's page


def acted(
    request: Request,
    identity: Identity,
    order: Order,
    act: Callable[[], object],
    *,
    page: PageOf | None = None,
    back: str | None = None,
) -> Response:
    """Run the action; then back to the order's page (a GET after the POST), or that page again with why not
    and the status the API would answer."""
    shown = page or _order_page
    try:
        act()
    except ValidationError as invalid:
        problems = [Problem(tuple(e["loc"]), e["msg"]) for e in invalid.errors()]
        return _refused(request, identity, order, Unprocessable("the form is not complete", problems), shown)
    except OrderNotFound:
        raise
    except HubError as error:
        return _refused(request, identity, order, error, shown)
    return redirect(request, back or f"/admin/orders/{order.order_id}")


def _refused(request: Request, identity: Identity, order: Order, error: HubError, page: PageOf) -> Response:
    problems = error.problems if isinstance(error, Unprocessable) else []
    details = "; ".join(f"{'.'.join(map(str, p.field))}: {p.msg}" for p in problems)
    message = f"{error}{' (' + details + ')' if details else ''}"
    return page(request, identity, queries.get_order(order.order_id), status=http_status(error), refused=message)


def whole(text: str) -> int:
    """A form's quantity; anything but a whole number is refused by the model as -1 is."""
    try:
        return int(text.strip())
    except ValueError:
        return -1


def _operator_events(order: Order) -> list[str]:
    """The events an operator may send now: none while one accepted is still being applied (the status shown
    is the one it leaves, so they would be refused as busy; refresh.js reloads the page until it is applied)."""
    if order.pending_event:
        return []
    allowed = workflow(order.workflow).transitions.get(order.status, {})
    return [e for e in OPERATOR_EVENTS if e in allowed]


def _returnable(order: Order) -> dict[str, int]:
    """Units per SKU the order may still return, once its lifecycle ended with the goods out of stock."""
    shown = order.model_dump(mode="json")
    if not may_return(shown, workflow(order.workflow)):
        return {}
    left = returnable(shown)
    return {sku: qty for sku, qty in left.items() if qty > 0}


def customer_view(order: Order, identity: Identity) -> dict[str, str | None]:
    """The customer as this user may see them: store staff get the name and the phone's last 4 digits."""
    customer = order.customer
    if shows_personal_data(identity):
        return {"name": customer.name, "phone": customer.phone, "email": customer.email}
    digits = "".join(c for c in customer.phone or "" if c.isdigit())
    return {"name": customer.name, "phone": f"…{digits[-4:]}" if digits else None, "email": None}


def _summary(order: Order, identity: Identity) -> dict[str, Any]:
    return {"order": order, "customer": customer_view(order, identity)}


@router.get("/admin/tasks")
def task_queue(request: Request, identity: Identity) -> Response:
    require(identity, *OPERATORS)
    page = queries.task_queue("open", PAGE_SIZE, request.query.get("cursor") or None)
    return render(request, identity, "tasks.html", tasks=page["items"], next_cursor=page["next_cursor"])
