"""Routes of the product catalog."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from catalog.domain.products import MAX_PRODUCTS_PAGE, Product, ProductIn, ProductsIn, ProductsPage, ProductsWritten
from catalog.use_cases import products
from common.api import declared_answers
from common.clock import utc_now
from common.models import Sku

router = Router()  # type: ignore[no-untyped-call]  # powertools' __init__ is unannotated


@router.put(
    "/v1/products/<sku>",
    tags=["catalog"],
    summary="Create or replace one product: name, barcodes, weight and packed dimensions",
    responses=declared_answers(
        {200: "The product as stored", 422: "A field is missing or out of bounds; nothing changed"}
    ),
)
def put_product(sku: Annotated[Sku, Path()], body: Annotated[ProductIn, Body()]) -> Product:
    return products.put_product(sku, body, utc_now())


@router.get(
    "/v1/products/<sku>",
    tags=["catalog"],
    summary="One product of the catalog",
    responses=declared_answers({200: "The product", 404: "The catalog has no such SKU", 422: "Not a SKU"}),
)
def get_product(sku: Annotated[Sku, Path()]) -> Product:
    return products.get_product(sku)


@router.put(
    "/v1/products",
    tags=["catalog"],
    summary="Create or replace up to 1,000 products; all or nothing, the same request again changes nothing",
    responses=declared_answers(
        {
            200: "How many products changed and how many already held what was sent",
            422: "An item is not valid (or a SKU is listed twice); nothing changed",
        }
    ),
)
def put_products(body: Annotated[ProductsIn, Body()]) -> ProductsWritten:
    return products.put_products(body, utc_now())


@router.get(
    "/v1/products",
    tags=["catalog"],
    summary="The catalog in SKU order",
    responses=declared_answers({200: "A page of products and the cursor of the next", 422: "Bad limit or cursor"}),
)
def list_products(
    limit: Annotated[int, Query(ge=1, le=MAX_PRODUCTS_PAGE)] = 100,
    cursor: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> ProductsPage:
    return products.list_products(limit, cursor)
