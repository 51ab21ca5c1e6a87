"""A CSV file sent to one of the hub's bulk PUTs in parts (the offer identities', the catalog's).

The file is read as a stream: a 100,000-row file never sits in memory whole, only what a clash check keeps
(the keys seen, to report one listed twice). A row that cannot be read, or that clashes with an earlier
one, is reported by its line and left out. Parts go one after another; a part the hub could not answer is
sent again as it was (stock_import.put_part: every part is safe to repeat), and a part the hub refuses for
some of its items has those items reported and the rest sent again, since a refused request writes
nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from oms_local.stock_import import Refused, put_part

Item = TypeVar("Item", bound=BaseModel)
Row = dict[str, str | None]


@dataclass
class PartsReport:
    rows: int = 0
    written: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, field, reason)


@dataclass(frozen=True)
class CsvParts(Generic[Item]):
    """How one file is read: `required` its header's columns (`columns` named in the message), `item` a row
    to its model (a ValidationError names the fields), `clash` the (field, reason) of an item an earlier
    row already holds (it notes the item's keys otherwise), `size` the items per part."""

    columns: str
    required: Collection[str]
    item: Callable[[Row], Item]
    clash: Callable[[Item, int], tuple[str, str] | None]
    size: int

    def parts(self, path: Path, report: PartsReport) -> Iterator[list[tuple[int, Item]]]:
        """Parts of at most `size` readable rows with their line numbers; the others go to the report."""
        with path.open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.DictReader(stream)
            missing = set(self.required) - set(reader.fieldnames or ())
            if missing:
                raise ValueError(
                    f"{path.name}: header must name the columns {self.columns}; missing {', '.join(sorted(missing))}"
                )
            part: list[tuple[int, Item]] = []
            for row in reader:
                report.rows += 1
                line = reader.line_num
                if None in row:  # more fields than the header names
                    report.errors.append((line, "row", "more columns than the header"))
                    continue
                try:
                    item = self.item(row)
                except ValidationError as invalid:
                    report.errors.extend((line, ".".join(map(str, e["loc"])), e["msg"]) for e in invalid.errors())
                    continue
                clash = self.clash(item, line)
                if clash:
                    report.errors.append((line, *clash))
                    continue
                part.append((line, item))
                if len(part) == self.size:
                    yield part
                    part = []
            if part:
                yield part


def send_parts(
    client: httpx.Client,
    url_path: str,
    parts: Iterator[list[tuple[int, Item]]],
    report: PartsReport,
    dump: Callable[[Item], dict[str, Any]],
) -> PartsReport:
    """Each part PUT to `url_path` as `{"items": [...]}` (the answer's `written`, `unchanged` added up);
    see the module's docstring for what is sent again."""
    for number, whole in enumerate(parts):
        part = whole
        while part:
            body = {"items": [dump(item) for _, item in part]}
            try:
                answer = put_part(client, url_path, body, f"part {number}")
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
            break
    report.errors.sort()
    return report
