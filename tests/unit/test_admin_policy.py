"""The admin page's roles: who sees which order, who sees personal data, where each role lands."""

from __future__ import annotations

import pytest

from admin.auth.identity import Identity
from admin.auth.policy import Forbidden, can_see_order, landing, require, shows_personal_data
from orders.domain.models import Delivery, DeliveryMethod
from planning.sourcing import Allocation


class _Order:
    def __init__(self, allocated_at: list[str], delivered_through: str | None = None) -> None:
        self.allocations = [Allocation(sku="SKU-00001", location_id=loc, qty=1) for loc in allocated_at]
        method = DeliveryMethod.click_collect if delivered_through else DeliveryMethod.courier
        self.delivery = Delivery(method=method, location_id=delivered_through, address="Moscow, Tverskaya 7")


def identity(*roles: str, locations: tuple[str, ...] = ()) -> Identity:
    return Identity("anna", frozenset(roles), frozenset(locations))


def test_claims_give_roles_of_the_pool_only_and_locations_split_on_commas() -> None:
    claims = {"cognito:username": "anna", "cognito:groups": ["store_staff", "beta"], "custom:location_ids": "a, b,"}
    assert Identity.from_claims(claims) == Identity("anna", frozenset({"store_staff"}), frozenset({"a", "b"}))
    assert Identity.from_claims({"cognito:username": "bob"}) == Identity("bob", frozenset(), frozenset())
    assert identity("operator").source == "operator:anna"


def test_store_staff_see_only_orders_of_their_locations() -> None:
    staff = identity("store_staff", locations=("store-a",))
    assert can_see_order(staff, _Order(["store-a"]))
    assert can_see_order(staff, _Order(["wh-1"], delivered_through="store-a"))
    assert not can_see_order(staff, _Order(["store-b"], delivered_through="store-b"))
    assert not can_see_order(identity("store_staff"), _Order(["store-a"]))
    assert not can_see_order(identity(), _Order(["store-a"]))
    for role in ("operator", "manager", "admin"):
        assert can_see_order(identity(role), _Order(["store-b"]))


def test_personal_data_is_for_operators_managers_and_admins() -> None:
    assert not shows_personal_data(identity("store_staff", locations=("store-a",)))
    assert not shows_personal_data(identity())
    assert all(shows_personal_data(identity(role)) for role in ("operator", "manager", "admin"))


def test_require_refuses_other_roles_and_landing_follows_the_first_role() -> None:
    require(identity("manager", "operator"), "operator")
    with pytest.raises(Forbidden):
        require(identity("store_staff"), "operator", "manager")
    assert landing(identity("manager", "operator")) == "/admin/orders"
    assert landing(identity("store_staff")) == "/admin/store"
    assert landing(identity()) is None
