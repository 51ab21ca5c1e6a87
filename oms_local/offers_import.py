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

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from oms_local.stock_import import Refused, put_part
from stock_push.domain.offers import MAX_OFFER_ITEMS, OfferIn

COLUMNS = ("sku", "offer_id", "chrtId")
_WHOLE = re.compile(r"\s*[+-]?[0-9]{1,19}\s*")


@dataclass
class OffersReport:
    rows: int = 0
    written: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, field, reason)


def _items(path: Path, report: OffersReport) -> Iterator[list[tuple[int, OfferIn]]]:
    """Parts of at most MAX_OFFER_ITEMS readable rows with their line numbers; the others go to the report."""
    with path.open(newline="", encoding="utf-8-sig") as stream:
        reader = csv.DictReader(stream)
        missing = {"sku", "offer_id"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"{path.name}: header must name the columns sku,offer_id[,chrtId]; missing {', '.join(sorted(missing))}"
            )
        first_line: dict[tuple[str, str], int] = {}
        part: list[tuple[int, OfferIn]] = []
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
            clash = _clash(item, line, first_line)
            if clash:
                report.errors.append((line, *clash))
                continue
            part.append((line, item))
            if len(part) == MAX_OFFER_ITEMS:
                yield part
                part = []
        if part:
            yield part


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


def _item(row: dict[str, str | None]) -> OfferIn:
    """A row where every value is text: an empty cell is no value, a whole number in chrtId is a number."""
    values: dict[str, Any] = {name: row.get(name) or None for name in COLUMNS}
    chrt = values["chrtId"]
    if isinstance(chrt, str) and _WHOLE.fullmatch(chrt):
        values["chrtId"] = int(chrt)
    return OfferIn.model_validate(values)


def import_offers(client: httpx.Client, path: Path, channel_id: str) -> OffersReport:
    """Send the file part by part; see the module's docstring."""
    report = OffersReport()
    for number, part in enumerate(_items(path, report)):
        _send(client, channel_id, number, part, report)
    report.errors.sort()
    return report


def _send(
    client: httpx.Client, channel_id: str, number: int, part: list[tuple[int, OfferIn]], report: OffersReport
) -> None:
    """One part; items the hub names as refused are reported and the rest sent again without them."""
    while part:
        body = {"items": [item.model_dump(mode="json", exclude_none=True) for _, item in part]}
        try:
            answer = put_part(client, f"/v1/channels/{channel_id}/offers", body, f"part {number}")
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
