"""The courier's packages built from an order's lines and the catalog (catalog.domain.packages), as
properties: whatever the lines, the package weighs what its units weigh, every unit fits in it, and a SKU
the catalog lacks is named, never guessed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.domain.packages import ProductsMissing, packages
from catalog.domain.products import MAX_SIDE_MM, MAX_WEIGHT_GRAMS, ProductIn


@dataclass(frozen=True)
class Line:
    sku: str
    qty: int
    price: Decimal


products = st.builds(
    ProductIn,
    name=st.just("Товар"),
    weight_grams=st.integers(1, MAX_WEIGHT_GRAMS),
    length_mm=st.integers(1, MAX_SIDE_MM),
    width_mm=st.integers(1, MAX_SIDE_MM),
    height_mm=st.integers(1, MAX_SIDE_MM),
)
catalogs = st.dictionaries(st.sampled_from([f"SKU-{n}" for n in range(6)]), products, min_size=1)


@st.composite
def orders(draw: st.DrawFn) -> tuple[dict[str, ProductIn], list[Line]]:
    catalog = draw(catalogs)
    skus = st.sampled_from(sorted(catalog))
    prices = st.decimals(0, 100_000, places=2)
    lines = draw(st.lists(st.builds(Line, skus, st.integers(1, 50), prices), min_size=1, max_size=8))
    return catalog, lines


@given(orders(), st.booleans())
def test_one_package_weighs_its_units_and_every_unit_fits_in_it(
    order: tuple[dict[str, ProductIn], list[Line]], cash_on_delivery: bool
) -> None:
    catalog, lines = order
    (package,) = packages("ord_1", lines, catalog, cash_on_delivery=cash_on_delivery)
    assert package["number"] == "ord_1-1"
    assert package["weight"] == sum(catalog[line.sku].weight_grams * line.qty for line in lines)
    box = sorted((package["length"] * 10, package["width"] * 10, package["height"] * 10))
    for line in lines:
        product = catalog[line.sku]
        sides = sorted((product.length_mm, product.width_mm, product.height_mm))
        assert all(side <= room for side, room in zip(sides, box, strict=True))  # a unit fits, turned
    stacked = sum(
        min(catalog[one.sku].length_mm, catalog[one.sku].width_mm, catalog[one.sku].height_mm) * one.qty
        for one in lines
    )
    assert package["height"] == math.ceil(stacked / 10)  # stacked on their smallest sides, rounded up
    amounts = {item["ware_key"]: item["amount"] for item in package["items"]}
    assert amounts == {sku: sum(one.qty for one in lines if one.sku == sku) for sku in amounts}
    assert set(amounts) == {line.sku for line in lines}
    for item in package["items"]:
        assert (item["payment"]["value"] == item["cost"]) if cash_on_delivery else item["payment"]["value"] == 0


def test_every_sku_the_catalog_lacks_is_named_once_in_order() -> None:
    catalog = {"A": ProductIn(name="a", weight_grams=1, length_mm=1, width_mm=1, height_mm=1)}
    lines = [Line("Z", 1, Decimal(1)), Line("A", 1, Decimal(1)), Line("B", 2, Decimal(1)), Line("Z", 1, Decimal(1))]
    with pytest.raises(ProductsMissing) as missing:
        packages("ord_1", lines, catalog)
    assert missing.value.skus == ["B", "Z"]
    assert missing.value.body()["skus"] == ["B", "Z"]
