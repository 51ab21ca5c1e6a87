"""The product catalog over HTTP on the local hub: one product, many at once (all or nothing, the same
request again writing nothing), the list with signed cursors, and refusals that change nothing; then the
courier's packages built from it."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import boto3
import pytest

from catalog.domain.packages import ProductsMissing
from catalog.use_cases.products import find_products
from catalog.use_cases.shipments import packages_for
from planning.cart import CartLine
from tests.support.api import Api
from tests.support.aws_calls import dynamodb_calls

MUG = {
    "name": "Кружка 350 мл",
    "barcodes": ["4601234567893"],
    "weight_grams": 420,
    "length_mm": 120,
    "width_mm": 95,
    "height_mm": 101,
}


def _table() -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=os.environ["PRODUCTS_TABLE"])["Items"]
    return sorted(items, key=str)


def _item(sku: str, **changes: Any) -> dict[str, Any]:
    return {"sku": sku, **MUG, **changes}


def test_a_product_is_written_read_back_and_the_same_put_again_writes_nothing(api: Api) -> None:
    first = api.put("/v1/products/MUG-1", MUG)
    assert first.status == 200, first.body
    assert {k: v for k, v in first.body.items() if k != "updated_at"} == {"sku": "MUG-1", **MUG}
    read = api.get("/v1/products/MUG-1")
    assert (read.status, read.body) == (200, first.body)
    with dynamodb_calls() as made:
        again = api.put("/v1/products/MUG-1", MUG)
    assert (again.status, again.body) == (200, first.body)  # updated_at unchanged too
    assert "BatchWriteItem" not in {call.operation for call in made}
    changed = api.put("/v1/products/MUG-1", {**MUG, "weight_grams": 430})
    assert changed.status == 200 and changed.body["weight_grams"] == 430
    assert api.get("/v1/products/NOPE").status == 404


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({**MUG, "weight_grams": 0}, ["body", "weight_grams"]),
        ({**MUG, "weight_grams": 1_000_001}, ["body", "weight_grams"]),
        ({**MUG, "length_mm": 12.5}, ["body", "length_mm"]),
        ({**MUG, "width_mm": "95"}, ["body", "width_mm"]),
        ({**MUG, "height_mm": True}, ["body", "height_mm"]),
        ({k: v for k, v in MUG.items() if k != "height_mm"}, ["body", "height_mm"]),
        ({**MUG, "name": " padded"}, ["body", "name"]),
        ({**MUG, "barcodes": ["1", "1"]}, ["body", "barcodes", 1]),
        ({**MUG, "barcodes": ["a b"]}, ["body", "barcodes", 0]),
        ({**MUG, "colour": "red"}, ["body", "colour"]),
    ],
)
def test_a_bad_product_is_refused_naming_the_field_and_nothing_is_written(
    api: Api, body: dict[str, Any], loc: list[Any]
) -> None:
    answer = api.put("/v1/products/MUG-1", body)
    assert answer.status == 422, answer.body
    assert answer.body["error"] == "validation_error"
    assert loc in [detail["loc"] for detail in answer.body["details"]], answer.body
    assert _table() == []


def test_a_bulk_put_is_all_or_nothing_and_idempotent(api: Api) -> None:
    items = [_item(f"SKU-{n:03d}", weight_grams=100 + n) for n in range(250)]
    bad = [*items[:10], _item("SKU-BAD", length_mm=0), _item("SKU-000")]
    refused = api.put("/v1/products", {"items": bad})
    assert refused.status == 422
    assert {tuple(d["loc"]) for d in refused.body["details"]} == {("body", "items", 10, "length_mm")}
    twice = api.put("/v1/products", {"items": [*items[:10], _item("SKU-000")]})
    assert twice.status == 422 and twice.body["details"][0]["loc"] == ["body", "items", 10, "sku"]
    assert _table() == []
    assert api.put("/v1/products", {"items": [_item(f"x{n}") for n in range(1001)]}).status == 422

    first = api.put("/v1/products", {"items": items})
    assert (first.status, first.body) == (200, {"written": 250, "unchanged": 0})
    stored = _table()
    with dynamodb_calls() as made:
        again = api.put("/v1/products", {"items": items})
    assert (again.status, again.body) == (200, {"written": 0, "unchanged": 250})
    assert _table() == stored
    assert [call.operation for call in made] == ["BatchGetItem"] * 3
    items[7] = _item("SKU-007", name="Кружка, новая")
    assert api.put("/v1/products", {"items": items}).body == {"written": 1, "unchanged": 249}
    assert api.get("/v1/products/SKU-007").body["name"] == "Кружка, новая"


def test_the_catalog_lists_in_sku_order_with_cursors_that_cannot_be_altered(api: Api) -> None:
    skus = [f"P-{n:02d}" for n in range(25)]
    assert api.put("/v1/products", {"items": [_item(s) for s in reversed(skus)]}).status == 200
    seen, cursor = [], None
    while True:
        answer = api.get("/v1/products", "limit=10" + (f"&cursor={cursor}" if cursor else ""))
        assert answer.status == 200, answer.body
        seen += [item["sku"] for item in answer.body["items"]]
        cursor = answer.body["next_cursor"]
        if cursor is None:
            break
        altered = api.get("/v1/products", f"cursor={cursor[:-2]}xx")
        assert altered.status == 422 and altered.body["details"][0]["loc"] == ["query", "cursor"]
    assert seen == skus
    assert api.get("/v1/products", "limit=0").status == 422
    assert api.get("/v1/products", "limit=1001").status == 422


def test_packages_for_an_order_come_from_the_catalog_and_a_missing_sku_is_named(api: Api) -> None:
    box = {"name": "Коробка", "weight_grams": 1500, "length_mm": 400, "width_mm": 300, "height_mm": 205}
    assert api.put("/v1/products", {"items": [_item("MUG-1"), {"sku": "BOX-1", **box}]}).status == 200

    class Line(CartLine):
        price: Decimal

    lines = [Line(sku="MUG-1", qty=2, price=Decimal("990.00")), Line(sku="BOX-1", qty=1, price=Decimal("2500"))]
    (package,) = packages_for("ord_1", lines)
    assert {k: v for k, v in package.items() if k != "items"} == {
        "number": "ord_1-1",
        "weight": 2 * 420 + 1500,
        "length": 40,  # the longest side of any unit, in whole centimetres
        "width": 30,
        "height": 40,  # the smallest sides stacked: 205 + 2 x 95 mm, rounded up to whole centimetres
    }
    assert package["items"][0] == {
        "name": "Кружка 350 мл",
        "ware_key": "MUG-1",
        "payment": {"value": 0},
        "cost": 990.0,
        "weight": 420,
        "amount": 2,
    }
    with pytest.raises(ProductsMissing) as missing:
        packages_for(
            "ord_2",
            [*lines, Line(sku="GHOST-2", qty=1, price=Decimal(1)), Line(sku="GHOST-1", qty=1, price=Decimal(1))],
        )
    assert missing.value.skus == ["GHOST-1", "GHOST-2"]
    assert "GHOST-1, GHOST-2" in missing.value.message


def test_products_are_found_by_sku_prefix_or_by_name_in_any_case(api: Api) -> None:
    """The admin pages' product search (a new order by phone, a store's stock): SKUs first, then names."""
    names = {"FIND-001": "Чайник электрический", "FIND-002": "Electric Kettle", "FIND-010": "Toaster"}
    assert api.put("/v1/products", {"items": [_item(sku, name=name) for sku, name in names.items()]}).status == 200
    assert [p.sku for p in find_products("FIND-00", 10)] == ["FIND-001", "FIND-002"]
    assert [p.sku for p in find_products("find-0", 10)] == ["FIND-001", "FIND-002", "FIND-010"]  # as capitals
    assert [p.sku for p in find_products("kettle", 10)] == ["FIND-002"]
    assert [p.sku for p in find_products("ЧАЙНИК", 10)] == ["FIND-001"]
    assert [p.sku for p in find_products("FIND", 2)] == ["FIND-001", "FIND-002"]
    assert find_products("  ", 10) == [] and find_products("no such thing", 10) == []
