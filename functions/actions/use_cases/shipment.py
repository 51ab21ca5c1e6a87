"""`create_shipment` and `cancel_shipment`: the order registered with the courier (CDEK) when it is packed,
and its registration deleted when the order is cancelled (docs/actions.md).

The CDEK account is the hub's channel of kind `cdek` (its api_url, credentials `client_id` and
`client_secret`, and `warehouses`: the CDEK office each hub location hands parcels in at). Packages come
from the product catalog (weights and dimensions); the parcel goes from the location's office to the
customer's door (tariff 137, "parcel office-door"). A registration whose answer was lost is found by the
hub's order id before anything is registered again.
"""

from __future__ import annotations

from typing import Any

from actions.domain.outcomes import Done, Outcome, Permanent, Skipped
from actions.use_cases.context import Context
from catalog.domain.packages import ProductsMissing
from catalog.use_cases.shipments import packages_for
from orders.domain.actions import done_results
from orders.domain.models import Line
from partners.clients.cdek import CdekClient, Recipient, shipment_request
from partners.clients.http import Tuning
from reference import config_table
from reference.models import Channel

OFFICE_TO_DOOR = 137
# CDEK checks a registration within seconds: a few short reads, then the queue's retry follows it again.
TUNING: Tuning = {"timeout": 10.0, "attempts": 3, "max_backoff": 2.0}
POLLS = 4


def _client(account: Channel) -> CdekClient:
    return CdekClient(str(account.api_url), config_table.credentials(account.channel_id), **TUNING)


def create_shipment(ctx: Context) -> Outcome:
    account = config_table.cdek_account()
    if account is None:
        return Skipped("no CDEK account is configured (a channel of kind cdek with an api_url)")
    order = ctx.order
    request = _request(order, account)
    if isinstance(request, Permanent):
        return request
    client = _client(account)
    try:
        found = client.find(order["order_id"])
        uuid = found.uuid if found is not None else client.register(request).uuid
        shipment = client.follow(uuid, polls=POLLS, interval=0.5)
        label = client.label(uuid, polls=POLLS, interval=0.5)
    finally:
        client.tokens.close()
        client.http.close()
    return Done({"uuid": uuid, "cdek_number": shipment.cdek_number, "label_url": label})


def _request(order: dict[str, Any], account: Channel) -> dict[str, Any] | Permanent:
    locations = sorted({a["location_id"] for a in order.get("allocations", [])})
    offices = {loc: w.partner_warehouse_id for w in account.warehouses for loc in w.locations}
    origin = next((offices[loc] for loc in locations if loc in offices), None)
    if origin is None:
        return Permanent(f"CDEK account {account.channel_id!r} maps no office to {', '.join(locations)}")
    customer, delivery = order["customer"], order["delivery"]
    if not customer.get("phone") or not delivery.get("address"):
        return Permanent("CDEK needs the customer's phone and the delivery address")
    try:
        packages = packages_for(
            order["order_id"],
            [Line.model_validate(line) for line in order["lines"]],
            cash_on_delivery=order["payment"]["method"] == "cod",
        )
    except ProductsMissing as missing:
        return Permanent(missing.message)
    destination = {"address": delivery["address"], **({"city": delivery["city"]} if delivery.get("city") else {})}
    return shipment_request(
        order["order_id"],
        packages,
        tariff_code=OFFICE_TO_DOOR,
        recipient=Recipient(customer["name"], customer["phone"]),
        origin=origin,
        destination=destination,
    )


def cancel_shipment(ctx: Context) -> Outcome:
    registered = done_results(ctx.order, "create_shipment", "uuid")
    account = config_table.cdek_account()
    if not registered or account is None:
        return Skipped("no shipment was registered")
    client = _client(account)
    try:
        for uuid in registered:
            client.delete(uuid)
    finally:
        client.tokens.close()
        client.http.close()
    return Done({"deleted": registered})
