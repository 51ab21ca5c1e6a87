"""The catalog's products (ProductsTable: partition `kind` = "product", sort key `sku`).

One partition holds the whole catalog so that it lists in SKU order with a Query (no Scan); DynamoDB
splits a busy item collection by sort key ranges, so an import spread over SKUs is not held to one
partition's 1,000 writes per second for long. Item: the product's fields as sent and `updated_at`.
Writes are unconditional BatchWriteItems: a product keeps no invariant with any other item, and the
last writer of a SKU wins as with a single PUT.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from catalog.domain.products import Product, ProductItem
from common import aws
from common.config import settings
from common.dynamo import batch_get, batch_put, from_item, query_all
from orders.adapters.listing import Page, TablePartition, in_key_order

KIND = "product"


def _key(sku: str) -> dict[str, str]:
    return {"kind": KIND, "sku": sku}


def products(skus: Iterable[str], *, consistent: bool = False) -> dict[str, Product]:
    """sku -> its product, for the SKUs the catalog holds (BatchGetItem, 100 keys per call)."""
    items = batch_get(
        aws.dynamodb(), settings().products_table, [_key(sku) for sku in dict.fromkeys(skus)], consistent=consistent
    )
    return {str(item["sku"]): Product.model_validate(item) for item in items}


def put(items: Iterable[ProductItem], now: str) -> None:
    """Write the products (BatchWriteItem, 25 per call)."""
    batch_put(
        aws.dynamodb(),
        settings().products_table,
        ({**item.model_dump(), **_key(item.sku), "updated_at": now} for item in items),
    )


def page(limit: int, cursor: str | None) -> Page:
    """The catalog in SKU order, one page (Query of its partition, signed cursor)."""
    return in_key_order(TablePartition(settings().products_table, "kind", KIND, "sku"), limit, cursor)


def with_sku_prefix(prefix: str, limit: int) -> list[Product]:
    """Up to `limit` products whose SKU starts with `prefix`, in SKU order (a Query of the sort key's range)."""
    request = {
        "TableName": settings().products_table,
        "KeyConditionExpression": "kind = :kind AND begins_with(sku, :prefix)",
        "ExpressionAttributeValues": {":kind": {"S": KIND}, ":prefix": {"S": prefix}},
        "Limit": limit,
    }
    page = aws.dynamodb().query(**request)
    return [Product.model_validate(from_item(item)) for item in page["Items"]]


def in_sku_order(page_size: int = 500) -> Iterator[Product]:
    """The whole catalog in SKU order, read a page at a time as the caller consumes it."""
    request: dict[str, Any] = {
        "TableName": settings().products_table,
        "KeyConditionExpression": "kind = :kind",
        "ExpressionAttributeValues": {":kind": {"S": KIND}},
        "Limit": page_size,
    }
    for item in query_all(aws.dynamodb(), request):
        yield Product.model_validate(from_item(item))
