"""Inbound partner messages: who may post, and what a new marketplace order becomes. Pure."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import datetime

from pydantic import TypeAdapter, ValidationError

from common.models import EARLIEST, LATEST, Moment
from common.signatures import signature_matches, token_matches
from orders.domain.models import Customer, Delivery, Line, OrderIn, Payment, PaymentMethod
from partners.clients.base import NewOrder
from reference.models import DeliveryMethod


def authentic(secret: str | None, *, token: str | None, signature: str | None, body: bytes) -> bool:
    """HMAC over the raw body when the partner signs (X-Signature), else the token in the URL; both in
    constant time. A channel without a secret accepts nothing."""
    if not secret:
        return False
    if signature is not None:
        return signature_matches(secret, body, signature)
    return token_matches(secret, token)


def source_allowed(source_ip: str, allowed: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return False
    return any(address in network for network in allowed)


_MOMENT = TypeAdapter(Moment)
SHIP_BY_RANGE = f"must be between {EARLIEST.date()} and {LATEST.date()} (UTC)"


def ship_by_in_range(ship_by: datetime) -> bool:
    """A partner's new ship-by as the hub's own times are bounded (year 1 or 9999 overflow its arithmetic)."""
    try:
        _MOMENT.validate_python(ship_by)
    except ValidationError:
        return False
    return True


def order_in(channel_id: str, kind: str, new: NewOrder) -> OrderIn:
    """Marketplaces keep the buyer to themselves and collect the money: the order ships through the
    marketplace's own logistics by its ship-by deadline."""
    return OrderIn(
        channel=channel_id,
        external_id=new.external_id,
        customer=Customer(name=f"{kind} buyer"),
        lines=[Line(sku=line.sku, qty=line.qty, price=line.price) for line in new.lines],
        delivery=Delivery(method=DeliveryMethod.marketplace),
        payment=Payment(method=PaymentMethod.prepaid),
        ship_by=new.ship_by,
    )
