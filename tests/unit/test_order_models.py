"""Order request rules that do not need a running hub."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from orders.domain.models import OrderIn
from planning.cart import MAX_CART_LINES
from tests.support.builders import courier_order


def test_order_id_is_stable_per_channel_and_external_id() -> None:
    a = OrderIn.model_validate(courier_order("X-1"))
    assert a.order_id() == OrderIn.model_validate(courier_order("X-1")).order_id()
    assert a.order_id() != OrderIn.model_validate(courier_order("X-2")).order_id()
    assert a.order_id() != OrderIn.model_validate(courier_order("X-1", channel="app")).order_id()


def test_same_sku_on_two_lines_is_reserved_once() -> None:
    order = OrderIn.model_validate(
        courier_order(lines=[{"sku": "A", "qty": 1, "price": 1}, {"sku": "A", "qty": 2, "price": 0}])
    )
    assert order.quantities() == {"A": 3}


def test_line_count_fits_one_transaction() -> None:
    lines = [{"sku": f"S{n}", "qty": 1, "price": 1} for n in range(MAX_CART_LINES + 1)]
    with pytest.raises(ValidationError):
        OrderIn.model_validate(courier_order(lines=lines))
    assert 1 + 2 * MAX_CART_LINES + 1 <= 100  # order + (stock, reservation) per line + task


@pytest.mark.parametrize("delivery", [{"method": "post"}, {"method": "click_collect"}, {"method": "reserve_in_store"}])
def test_delivery_needs_where(delivery: dict) -> None:
    with pytest.raises(ValidationError):
        OrderIn.model_validate(courier_order(delivery=delivery))


def test_price_keeps_cents() -> None:
    order = OrderIn.model_validate(courier_order(lines=[{"sku": "A", "qty": 3, "price": 0.1}]))
    assert str(order.lines[0].price * order.lines[0].qty) == "0.3"
    with pytest.raises(ValidationError):
        OrderIn.model_validate(courier_order(lines=[{"sku": "A", "qty": 1, "price": 0.001}]))
