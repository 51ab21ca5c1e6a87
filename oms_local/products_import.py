"""`oms-hub products import FILE`: a CSV `sku,name,barcodes,weight_grams,length_mm,width_mm,height_mm` sent
to the catalog (PUT /v1/products) in parts of 1,000 rows.

`barcodes` holds a product's barcodes separated by `;` (empty: none). The file is read as a stream, so a
100,000-row file never sits in memory whole (only the SKUs seen, to report one listed twice). A row that
cannot be read is reported by its line and left out; a part the hub refuses for some of its items has
those items reported and the rest sent again (a refused request writes nothing). A part the hub could not
answer is sent again as it was (stock_import.put_part): the same products written twice are written once.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from catalog.domain.products import MAX_PRODUCT_ITEMS, ProductItem
from oms_local.stock_import import Refused, put_part

COLUMNS = ("sku", "name", "barcodes", "weight_grams", "length_mm", "width_mm", "height_mm")
WHOLE_COLUMNS = ("weight_grams", "length_mm", "width_mm", "height_mm")
_WHOLE = re.compile(r"\s*\+?[0-9]{1,19}\s*")


@dataclass
class ProductsReport:
    rows: int = 0
    written: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, field, reason)


def _parts(path: Path, report: ProductsReport) -> Iterator[list[tuple[int, ProductItem]]]:
    """Parts of at most MAX_PRODUCT_ITEMS readable rows with their line numbers; the others go to the report."""
    with path.open(newline="", encoding="utf-8-sig") as stream:
        reader = csv.DictReader(stream)
        missing = set(COLUMNS) - {"barcodes"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"{path.name}: header must name the columns {','.join(COLUMNS)} (barcodes optional); "
                f"missing {', '.join(sorted(missing))}"
            )
        first_line: dict[str, int] = {}
        part: list[tuple[int, ProductItem]] = []
        for row in reader:
            report.rows += 1
            line = reader.line_num
            if None in row:  # more fields than the header names
                report.errors.append((line, "row", "more columns than the header"))
                continue
            try:
                item = _item(row)
            except ValidationError as invalid:
                report.errors.extend((line, ".".join(map(str, e["loc"])), e["msg"]) for e in invalid.errors())
                continue
            if item.sku in first_line:
                report.errors.append((line, "sku", f"listed again (first on line {first_line[item.sku]})"))
                continue
            first_line[item.sku] = line
            part.append((line, item))
            if len(part) == MAX_PRODUCT_ITEMS:
                yield part
                part = []
        if part:
            yield part


def _item(row: dict[str, str | None]) -> ProductItem:
    """A row where every value is text: whole numbers become numbers, barcodes a list."""
    values: dict[str, Any] = {name: row.get(name) for name in COLUMNS if name != "barcodes"}
    for name in WHOLE_COLUMNS:
        text = values[name]
        if isinstance(text, str) and _WHOLE.fullmatch(text):
            values[name] = int(text)
    values["barcodes"] = [code.strip() for code in (row.get("barcodes") or "").split(";") if code.strip()]
    return ProductItem.model_validate(values)


def import_products(client: httpx.Client, path: Path) -> ProductsReport:
    """Send the file part by part; see the module's docstring."""
    report = ProductsReport()
    for number, part in enumerate(_parts(path, report)):
        _send(client, number, part, report)
    report.errors.sort()
    return report


def _send(client: httpx.Client, number: int, part: list[tuple[int, ProductItem]], report: ProductsReport) -> None:
    """One part; items the hub names as refused are reported and the rest sent again without them."""
    while part:
        body = {"items": [item.model_dump(mode="json") for _, item in part]}
        try:
            answer = put_part(client, "/v1/products", body, f"part {number}")
        except Refused as refused:
            named = refused.items(len(part))
            if not named:
                raise
            for index, (column, reason) in sorted(named.items()):
                report.errors.append((part[index][0], column, reason))
            part = [entry for index, entry in enumerate(part) if index not in named]
            continue
        report.written += answer["written"]
        report.unchanged += answer["unchanged"]
        return
