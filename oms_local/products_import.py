"""`oms-hub products import FILE`: a CSV `sku,name,barcodes,weight_grams,length_mm,width_mm,height_mm` sent
to the catalog (PUT /v1/products) in parts of 1,000 rows (oms_local.csv_parts: streamed, bad rows
reported by line, refused items reported and the rest sent again, unanswered parts sent again).

`barcodes` holds a product's barcodes separated by `;` (empty or absent: none). A SKU listed again is
reported on its second line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from catalog.domain.products import MAX_PRODUCT_ITEMS, ProductItem
from oms_local.csv_parts import CsvParts, PartsReport, Row, send_parts

COLUMNS = ("sku", "name", "barcodes", "weight_grams", "length_mm", "width_mm", "height_mm")
WHOLE_COLUMNS = ("weight_grams", "length_mm", "width_mm", "height_mm")
_WHOLE = re.compile(r"\s*\+?[0-9]{1,19}\s*")


def _item(row: Row) -> ProductItem:
    """A row where every value is text: whole numbers become numbers, barcodes a list."""
    values: dict[str, Any] = {name: row.get(name) for name in COLUMNS if name != "barcodes"}
    for name in WHOLE_COLUMNS:
        text = values[name]
        if isinstance(text, str) and _WHOLE.fullmatch(text):
            values[name] = int(text)
    values["barcodes"] = [code.strip() for code in (row.get("barcodes") or "").split(";") if code.strip()]
    return ProductItem.model_validate(values)


def import_products(client: httpx.Client, path: Path) -> PartsReport:
    first_line: dict[str, int] = {}

    def clash(item: ProductItem, line: int) -> tuple[str, str] | None:
        if item.sku in first_line:
            return "sku", f"listed again (first on line {first_line[item.sku]})"
        first_line[item.sku] = line
        return None

    reading = CsvParts(
        ",".join(COLUMNS) + " (barcodes optional)",
        set(COLUMNS) - {"barcodes"},
        _item,
        clash,
        MAX_PRODUCT_ITEMS,
    )
    report = PartsReport()
    return send_parts(client, "/v1/products", reading.parts(path, report), report, lambda i: i.model_dump(mode="json"))
