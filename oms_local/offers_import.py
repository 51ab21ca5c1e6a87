"""`oms-hub channel offers import FILE --channel C`: a CSV `sku,offer_id,chrtId` sent to the channel's offer
identities API (PUT /v1/channels/{channel}/offers) in parts of 1,000 rows.

The file is read as a stream, so a 100,000-row file never sits in memory whole (only the SKUs seen, to
report one listed twice). Parts go one after another: SKUs of two parts may hand offer ids to each other,
which the hub checks against what the earlier part wrote. A part the hub could not answer is sent again
as it was (stock_import.put_part): a mapping written twice is written once. A row that cannot be read
is reported by its line and left out; a part the hub refuses for some of its items (an offer id another
SKU holds) has those items reported and the rest sent again, since a refused request writes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from oms_local.csv_parts import CsvParts, PartsReport, Row, send_parts
from stock_push.domain.offers import MAX_OFFER_ITEMS, OfferIn

COLUMNS = ("sku", "offer_id", "chrtId")
_WHOLE = re.compile(r"\s*[+-]?[0-9]{1,19}\s*")


def _clash(item: OfferIn, line: int, first_line: dict[tuple[str, str], int]) -> tuple[str, str] | None:
    """The column whose SKU, offer id or chrtId an earlier row of the file already has (the hub would
    refuse the second), with why; else the row's are noted. An unmapped row's offer id is its SKU."""
    names = [("sku", item.sku), ("offer_id", item.offer_id or item.sku)]
    if item.chrtId is not None:
        names.append(("chrtId", str(item.chrtId)))
    for name in names:
        if name in first_line:
            return name[0], f"listed again (first on line {first_line[name]})"
    first_line.update(dict.fromkeys(names, line))
    return None


def _item(row: Row) -> OfferIn:
    """A row where every value is text: an empty cell is no value, a whole number in chrtId is a number."""
    values: dict[str, Any] = {name: row.get(name) or None for name in COLUMNS}
    chrt = values["chrtId"]
    if isinstance(chrt, str) and _WHOLE.fullmatch(chrt):
        values["chrtId"] = int(chrt)
    return OfferIn.model_validate(values)


def import_offers(client: httpx.Client, path: Path, channel_id: str) -> PartsReport:
    """Send the file part by part; see the module's docstring."""
    first_line: dict[tuple[str, str], int] = {}
    reading = CsvParts(
        "sku,offer_id[,chrtId]",
        {"sku", "offer_id"},
        _item,
        lambda item, line: _clash(item, line, first_line),
        MAX_OFFER_ITEMS,
    )
    report = PartsReport()
    parts = reading.parts(path, report)
    return send_parts(
        client,
        f"/v1/channels/{channel_id}/offers",
        parts,
        report,
        lambda i: i.model_dump(mode="json", exclude_none=True),
    )
