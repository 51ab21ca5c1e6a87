"""The call-centre operator takes an order by phone: products found in the catalog, their live availability
per location for the call-centre channel, the delivery, the customer and their consent; the order goes
through the same intake use case as POST /v1/orders, with the operator on its timeline.

The lines travel in the page's URL (`lines=SKU*qty SKU*qty`: a SKU has no spaces), never the customer's
data: the order itself is a POST. Each form shown carries a fresh `external_id`, so a double submit finds
the order the first one made (intake is idempotent on channel + external_id).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError

from admin.auth.identity import Identity
from admin.auth.policy import require
from admin.pages.orders import OPERATORS, whole
from admin.rendering import render
from admin.web import Request, Response, Router, redirect
from catalog.use_cases.products import find_products
from common.api import http_status
from common.clock import utc_now
from common.errors import HubError, Problem, Unprocessable
from inventory.use_cases.availability import channel_availability
from orders.domain.models import OrderIn
from orders.use_cases import intake
from reference import config_table
from reference.models import Channel, DeliveryMethod, Location

router = Router()

CALL_CENTRE_KIND = "callcenter"  # the channel kind of the contract's PUT /v1/channels
FOUND = 20  # products shown per search
MAX_LINES = 20
METHODS = (DeliveryMethod.courier, DeliveryMethod.click_collect, DeliveryMethod.reserve_in_store)
# The customer pays when the goods reach them: the courier takes cash or card, the store at the desk.
PAYMENT = {DeliveryMethod.courier: "cod"}
PAID_AT_STORE = "on_pickup"


def call_centre() -> Channel | None:
    """The channel orders taken by phone belong to: the first of kind `callcenter` (by id)."""
    return next(
        (c for c in sorted(config_table.channels(), key=lambda c: c.channel_id) if c.kind == CALL_CENTRE_KIND), None
    )


def parse_lines(text: str) -> dict[str, int]:
    """`SKU*qty SKU*qty` -> {sku: qty}; a bad or non-positive quantity drops the line."""
    lines: dict[str, int] = {}
    for entry in text.split()[:MAX_LINES]:
        sku, _, qty = entry.rpartition("*")
        if sku and (units := whole(qty)) > 0:
            lines[sku] = units
    return lines


def lines_text(lines: Mapping[str, int]) -> str:
    return " ".join(f"{sku}*{qty}" for sku, qty in lines.items())


def amount(text: str) -> Decimal:
    """A form's price ("1 290,50" as well as "1290.50"); anything else is refused by the model as -1 is."""
    try:
        value = Decimal(text.replace(" ", "").replace("\u00a0", "").replace(",", "."))
    except InvalidOperation:
        return Decimal(-1)
    return value if value.is_finite() else Decimal(-1)


@router.get("/admin/new-order")
def new_order_page(request: Request, identity: Identity) -> Response:
    require(identity, *OPERATORS)
    lines = parse_lines(request.query.get("lines", ""))
    if (sku := request.query.get("add", "").strip()) and (sku in lines or len(lines) < MAX_LINES):
        lines[sku] = lines.get(sku, 0) + 1
    return _form(request, identity, lines, {})


@router.post("/admin/new-order")
def take_order(request: Request, identity: Identity) -> Response:
    require(identity, *OPERATORS)
    form = request.form
    # The quantities as typed; 0 drops a line. "Update" shows the availability for them and takes no order.
    lines = {
        sku: units for sku in parse_lines(form.get("lines", "")) if (units := whole(form.get(f"qty_{sku}", "0"))) > 0
    }
    if form.get("do") == "update":
        return _form(request, identity, lines, form)
    channel = call_centre()
    if channel is None:
        return _form(request, identity, lines, form, refused=Unprocessable("no call-centre channel is set up", []))
    method = form.get("method", "")
    delivery: dict[str, Any] = {"method": method}
    if method == DeliveryMethod.courier:
        delivery["address"] = form.get("address", "").strip() or None
    elif method in (DeliveryMethod.click_collect, DeliveryMethod.reserve_in_store):
        delivery["location_id"] = form.get(f"location_{method}") or None
    customer: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "phone": form.get("phone", "").strip() or None,
        "email": form.get("email", "").strip() or None,
        "consent": {"sms": "consent_sms" in form, "email": "consent_email" in form},
    }
    body = {
        "channel": channel.channel_id,
        "external_id": form.get("external_id", ""),
        "customer": customer,
        "lines": [
            {"sku": sku, "qty": qty, "price": amount(form.get(f"price_{sku}", ""))} for sku, qty in lines.items()
        ],
        "delivery": delivery,
        "payment": {"method": PAYMENT.get(DeliveryMethod(method), PAID_AT_STORE) if method in METHODS else "cod"},
    }
    try:
        order, _created = intake.accept_order(OrderIn.model_validate(body), utc_now(), identity.source)
    except ValidationError as invalid:
        problems = [Problem(tuple(e["loc"]), e["msg"]) for e in invalid.errors()]
        return _form(request, identity, lines, form, refused=Unprocessable("the order is not complete", problems))
    except HubError as error:
        return _form(request, identity, lines, form, refused=error)
    return redirect(request, f"/admin/orders/{order.order_id}")


def _form(
    request: Request,
    identity: Identity,
    lines: dict[str, int],
    form: Mapping[str, str],
    *,
    refused: HubError | None = None,
) -> Response:
    channel = call_centre()
    text = request.query.get("q", "").strip()[:100]
    found = find_products(text, FOUND) if text else None
    skus = list(dict.fromkeys([*lines, *(p.sku for p in found or [])]))
    offers = {item["sku"]: item for item in channel_availability(channel.channel_id, skus)} if channel and skus else {}
    locations = {lid: loc for lid, loc in sorted(config_table.locations().items()) if loc.active}
    problems = refused.problems if isinstance(refused, Unprocessable) else []
    return render(
        request,
        identity,
        "new_order.html",
        status=http_status(refused) if refused else 200,
        channel=channel,
        q=text,
        found=found,
        lines=lines,
        lines_text=lines_text(lines),
        add_url=lambda sku: request.url(
            "/admin/new-order?" + urlencode({"lines": lines_text(lines), "add": sku, "q": text})
        ),
        offers={sku: _per_location(offers.get(sku)) for sku in skus},
        locations=locations,
        pickup={m.value: _stocked(locations, offers, lines, m) for m in METHODS if m is not DeliveryMethod.courier},
        methods=[m.value for m in METHODS],
        form=form,
        external_id=form.get("external_id") or f"cc-{secrets.token_hex(8)}",
        refused=refused,
        problems={".".join(map(str, p.field)): p.msg for p in problems},
    )


def _per_location(offer: Mapping[str, Any] | None) -> dict[str, int]:
    """location -> units the call centre may sell there, and "" -> in all (an SKU never stocked: nothing)."""
    if offer is None:
        return {"": 0}
    return {"": int(offer["available"]), **{o["location_id"]: int(o["available"]) for o in offer["locations"]}}


def _stocked(
    locations: Mapping[str, Location], offers: Mapping[str, Any], lines: Mapping[str, int], method: DeliveryMethod
) -> list[str]:
    """Locations that hand over by `method` and have every line's units: where the customer may collect."""
    return [
        lid
        for lid, loc in locations.items()
        if method in loc.capabilities
        and lines
        and all(_per_location(offers.get(sku)).get(lid, 0) >= qty for sku, qty in lines.items())
    ]
