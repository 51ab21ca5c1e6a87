"""A product of the catalog as a caller sends it and reads it back. Pure.

Weights are whole grams and dimensions whole millimetres, as a warehouse measures them; the bounds are
wide enough for any parcel a courier takes (CDEK: 1 t, 10 m) and keep every sum of a package's lines far
inside the integers the partners accept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from common.errors import Problem, Unprocessable
from common.models import CONTROLS, Sku

MAX_PRODUCT_ITEMS = 1000  # per bulk request; the CLI sends a bigger file in parts
MAX_PRODUCTS_PAGE = 1000
MAX_BARCODES = 20
MAX_WEIGHT_GRAMS = 1_000_000
MAX_SIDE_MM = 10_000

Grams = Annotated[StrictInt, Field(ge=1, le=MAX_WEIGHT_GRAMS, description="Whole grams, packed")]
Millimetres = Annotated[StrictInt, Field(ge=1, le=MAX_SIDE_MM, description="Whole millimetres, packed")]
# EAN-8/13, UPC-A, GTIN-14 and the longer GS1 codes: printable, one line, no spaces.
Barcode = Annotated[str, Field(min_length=1, max_length=64, pattern=rf"^[^\s{CONTROLS}]+$")]
Name = Annotated[
    str, Field(min_length=1, max_length=255, pattern=rf"^[^\s{CONTROLS}](?:[^{CONTROLS}]*[^\s{CONTROLS}])?$")
]


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="What the courier's waybill and the customer read")
    barcodes: list[Barcode] = Field(default_factory=list, max_length=MAX_BARCODES)
    weight_grams: Grams
    length_mm: Millimetres
    width_mm: Millimetres
    height_mm: Millimetres


class ProductItem(ProductIn):
    sku: Sku


class ProductsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ProductItem] = Field(min_length=1, max_length=MAX_PRODUCT_ITEMS)


class Product(ProductItem):
    model_config = ConfigDict(extra="ignore")

    updated_at: str


class ProductsWritten(BaseModel):
    written: int = Field(description="Products created or changed")
    unchanged: int = Field(description="Products that already held what was sent")


class ProductsPage(BaseModel):
    items: list[Product]
    next_cursor: str | None


def checked(items: Sequence[ProductItem]) -> list[ProductItem]:
    """The items of a bulk request, or Unprocessable naming each SKU listed twice or a barcode listed twice
    for one product (nothing is written then)."""
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for n, item in enumerate(items):
        if item.sku in first:
            problems.append(Problem(("items", n, "sku"), f"sku listed again (first as item {first[item.sku]})"))
        first.setdefault(item.sku, n)
        problems += _barcode_problems(item, ("items", n))
    if problems:
        raise Unprocessable("the products are not valid", problems)
    return list(items)


def checked_one(sku: str, product: ProductIn) -> ProductItem:
    problems = _barcode_problems(product, ())
    if problems:
        raise Unprocessable("the product is not valid", problems)
    return ProductItem(sku=sku, **product.model_dump())


def _barcode_problems(product: ProductIn, where: tuple[str | int, ...]) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for n, barcode in enumerate(product.barcodes):
        if barcode in seen:
            problems.append(Problem((*where, "barcodes", n), "barcode listed again"))
        seen.add(barcode)
    return problems


def same(stored: Product | None, product: ProductItem) -> bool:
    """Whether what is stored already holds what was sent (then nothing is written)."""
    return stored is not None and ProductItem.model_validate(stored.model_dump(exclude={"updated_at"})) == product
