"""What each role may see and do. Page handlers call these; nothing here reads a request or a table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from admin.auth.identity import Identity
from common.errors import HubError

# Where each role lands after login (the first of the user's roles in this order wins).
LANDING = {
    "operator": "/admin/orders",
    "store_staff": "/admin/store",
    "manager": "/admin/dashboard",
    "admin": "/admin/settings",
}
# Roles that see customers' phones, e-mails and addresses in full.
_PERSONAL_DATA_ROLES = frozenset({"operator", "manager", "admin"})


class Forbidden(HubError):
    """The signed-in user's roles do not allow this page or action (403)."""

    code = "forbidden"


class _Allocation(Protocol):
    @property
    def location_id(self) -> str: ...


class _Delivery(Protocol):
    @property
    def location_id(self) -> str | None: ...


class _Order(Protocol):
    """What the policy reads of an order (orders.domain.models.Order has it)."""

    @property
    def allocations(self) -> Sequence[_Allocation]: ...

    @property
    def delivery(self) -> _Delivery: ...


def require(identity: Identity, *roles: str) -> None:
    """Raise Forbidden unless the user holds one of `roles`."""
    if not identity.roles & set(roles):
        raise Forbidden("your role does not allow this page", required=sorted(roles))


def landing(identity: Identity) -> str | None:
    """The page the user starts on; None for a user in none of the pool's groups."""
    return next((path for role, path in LANDING.items() if role in identity.roles), None)


def can_see_order(identity: Identity, order: _Order) -> bool:
    """Operators, managers and admins see every order; store staff only orders allocated to, or delivered
    through, one of their locations. Callers answer a hidden order with 404, so ids cannot be probed."""
    if identity.roles - {"store_staff"}:
        return True
    if "store_staff" not in identity.roles:
        return False
    locations = {a.location_id for a in order.allocations}
    if order.delivery.location_id:
        locations.add(order.delivery.location_id)
    return bool(locations & identity.location_ids)


def shows_personal_data(identity: Identity) -> bool:
    """Store staff see the customer's name and the phone's last 4 digits only; the other roles all of it."""
    return bool(identity.roles & _PERSONAL_DATA_ROLES)
