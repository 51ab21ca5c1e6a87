"""The catalog's products: one (PUT/GET /v1/products/{sku}), many (PUT /v1/products), the list, and the
admin pages' search by SKU or name.

A bulk request is checked whole before anything is written (a SKU twice, a barcode twice: nothing is
written), then reads what is stored (one BatchGetItem per 100) and writes only the products that change
(one BatchWriteItem per 25): the same request again writes nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from catalog.adapters import product_table
from catalog.domain.products import (
    Product,
    ProductIn,
    ProductItem,
    ProductsIn,
    ProductsPage,
    ProductsWritten,
    checked,
    checked_one,
    same,
)
from common.errors import NotFound
from common.observability import count

# A name search reads the catalog's partition in SKU order and stops here: the catalog has no index of names
# (DynamoDB has no contains() on a key), and a search box must answer in a bounded time.
NAME_SEARCH_READ = 5000


def put_product(sku: str, product: ProductIn, now: str) -> Product:
    item = checked_one(sku, product)
    stored = product_table.products([sku], consistent=True).get(sku)
    if stored is not None and same(stored, item):
        return stored
    product_table.put([item], now)
    return Product(**item.model_dump(), updated_at=now)


def get_product(sku: str) -> Product:
    product = product_table.products([sku], consistent=True).get(sku)  # a PUT's caller reads its write
    if product is None:
        raise NotFound(f"product {sku!r} is not in the catalog", sku=sku)
    return product


def put_products(request: ProductsIn, now: str) -> ProductsWritten:
    items = checked(request.items)
    changed = _changed(items)
    product_table.put(changed, now)
    count("ProductsWritten", len(changed))
    return ProductsWritten(written=len(changed), unchanged=len(items) - len(changed))


def _changed(items: Sequence[ProductItem]) -> list[ProductItem]:
    stored = product_table.products((item.sku for item in items), consistent=True)
    return [item for item in items if not same(stored.get(item.sku), item)]


def list_products(limit: int, cursor: str | None) -> ProductsPage:
    page = product_table.page(limit, cursor)
    return ProductsPage(items=[Product.model_validate(item) for item in page.items], next_cursor=page.next_cursor)


def find_products(text: str, limit: int) -> list[Product]:
    """Products whose SKU starts with `text` (as typed, then in capitals), then those whose name contains it
    in any case, up to `limit`; names are looked for among the first NAME_SEARCH_READ products only."""
    text = text.strip()
    if not text:
        return []
    found: dict[str, Product] = {}
    for prefix in dict.fromkeys((text, text.upper())):
        for product in product_table.with_sku_prefix(prefix, limit):
            found.setdefault(product.sku, product)
    folded = text.casefold()
    for product in itertools.islice(product_table.in_sku_order(), NAME_SEARCH_READ):
        if len(found) >= limit:
            break
        if folded in product.name.casefold():
            found.setdefault(product.sku, product)
    return list(found.values())[:limit]
