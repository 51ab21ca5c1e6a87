"""`oms-hub stock import FILE --location L`: an ERP's CSV file sent to the hub's stock API in batches.

The file is read as a stream, one part of at most 1,000 rows at a time (the API's limit), so a
100,000-row file never sits in memory whole. Every part carries the batch id (by default derived from
the file's bytes, mode and location: the same file sent again changes nothing) and its part number;
a part the hub could not answer is sent again as it was, which the batch id makes safe.

Rows that cannot be read (bad number, bad date, a SKU listed twice in one part) are reported by line
number; the other rows are applied. With --zero-unlisted the file is checked whole first and nothing
is applied if any row is malformed, since a skipped row would zero that SKU.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter
from tqdm import tqdm

from inventory.domain.stock_updates import MAX_STOCK_LINES, StockLine, StockMode

COLUMNS = ("sku", "on_hand", "expected_at")


@dataclass
class ImportReport:
    batch_id: str
    rows: int = 0
    applied: int = 0
    zeroed: int = 0
    duplicate_parts: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, sku, message)


class Unavailable(Exception):
    """The hub answered 429/5xx or not at all: the same part may be sent again."""


@dataclass(frozen=True)
class _Part:
    number: int
    lines: list[StockLine]
    line_of: dict[str, int]
    size: int  # bytes of the file it covers, for the progress bar


def batch_id_of(path: Path, location_id: str, mode: StockMode) -> str:
    digest = hashlib.sha256(f"{location_id}\x1f{mode.value}\x1f".encode())
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return f"csv-{digest.hexdigest()[:32]}"


def _rows(path: Path, mode: StockMode, report: ImportReport) -> Iterator[_Part]:
    """Parts of at most MAX_STOCK_LINES valid rows; malformed rows go to the report with their line number."""
    with path.open(newline="", encoding="utf-8-sig") as stream:
        read = _ByteCount(stream)
        reader = csv.DictReader(read)
        missing = {"sku", "on_hand"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"{path.name}: header must name the columns sku,on_hand[,expected_at]; "
                f"missing {', '.join(sorted(missing))}"
            )
        lines: list[StockLine] = []
        line_of: dict[str, int] = {}
        start, number = 0, 0
        for row in reader:
            report.rows += 1
            line_no = reader.line_num
            if None in row:  # more fields than the header names (fewer leave the optional ones empty)
                report.errors.append((line_no, row.get("sku") or "", "more columns than the header"))
                continue
            try:
                line = _line(row, mode)
            except (ValidationError, ValueError) as invalid:
                report.errors.append((line_no, row.get("sku") or "", _reason(invalid)))
                continue
            if line.sku in line_of:
                report.errors.append((line_no, line.sku, f"sku listed again (first on line {line_of[line.sku]})"))
                continue
            lines.append(line)
            line_of[line.sku] = line_no
            if len(lines) == MAX_STOCK_LINES:
                yield _Part(number, lines, line_of, read.count - start)
                lines, line_of, start, number = [], {}, read.count, number + 1
        if lines:
            yield _Part(number, lines, line_of, read.count - start)


def _line(row: dict[str, str | None], mode: StockMode) -> StockLine:
    line = StockLine.from_text({k: row[k] or None for k in COLUMNS if k in row})
    if mode is StockMode.snapshot and line.on_hand < 0:
        raise ValueError("a snapshot's on_hand must be >= 0")
    return line


class _ByteCount:
    """The lines of a text stream, counting their bytes as they go by (for the progress bar)."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.count = stream, 0

    def __iter__(self) -> Iterator[str]:
        for line in self.stream:
            self.count += len(line.encode())
            yield line


def _reason(invalid: Exception) -> str:
    if isinstance(invalid, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in invalid.errors())
    return str(invalid)


def import_file(  # noqa: PLR0913 - the file, the hub and its location, then keyword-only options with defaults
    client: httpx.Client,
    path: Path,
    location_id: str,
    *,
    mode: StockMode = StockMode.snapshot,
    zero_unlisted: bool = False,
    batch_id: str | None = None,
    progress: bool = True,
) -> ImportReport:
    """Send the file to PUT /v1/stock/{location_id} part by part; see the module's docstring."""
    report = ImportReport(batch_id or batch_id_of(path, location_id, mode))
    if zero_unlisted:
        for _ in _rows(path, mode, report):
            pass
        if report.errors:
            return report  # nothing applied: a skipped row would be zeroed
        report.rows = 0
    with tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=path.name, disable=not progress) as bar:
        parts = _rows(path, mode, report)
        part = next(parts, None)
        while part is not None:
            following = next(parts, None)
            body = {
                "mode": mode.value,
                "batch_id": report.batch_id,
                "part": part.number,
                "zero_unlisted": zero_unlisted and following is None,
                "items": [line.model_dump(mode="json", exclude_none=True) for line in part.lines],
            }
            answer = _send(client, location_id, body)
            report.applied += answer["updated"]
            report.zeroed += answer.get("zeroed", 0)
            report.duplicate_parts += bool(answer.get("duplicate"))
            report.errors.extend((part.line_of.get(e["sku"], 0), e["sku"], e["message"]) for e in answer["errors"])
            bar.update(part.size)
            part = following
    report.errors.sort()
    return report


def _send(client: httpx.Client, location_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return put_part(client, f"/v1/stock/{location_id}", body, f"part {body['part']}")


class Refused(ValueError):
    """The hub answered with a 4xx other than 429: the same part again would get the same answer."""

    def __init__(self, what: str, status: int, problem: dict[str, Any], text: str) -> None:
        super().__init__(
            f"the hub refused {what}: HTTP {status} {problem.get('error', '')}: {problem.get('message', text[:200])}"
        )
        self.status, self.problem = status, problem

    def items(self, size: int) -> dict[int, tuple[str, str]]:
        """item index -> (field, reason) of a 422 that names a part's items (`details[].loc` =
        body.items.N.field); empty when it names none (then the whole part is refused)."""
        if self.status != 422:
            return {}
        named: dict[int, tuple[str, str]] = {}
        for detail in self.problem.get("details") or []:
            loc = detail.get("loc") or []
            if len(loc) >= 3 and loc[:2] == ["body", "items"] and isinstance(loc[2], int) and 0 <= loc[2] < size:
                named.setdefault(loc[2], (".".join(map(str, loc[3:])) or "item", str(detail.get("msg", "refused"))))
        return named


@retry(
    retry=retry_if_exception_type(Unavailable),
    stop=stop_after_attempt(6),
    wait=wait_exponential_jitter(multiplier=0.2, max=5),
    reraise=True,
)
def put_part(client: httpx.Client, path: str, body: dict[str, Any], what: str) -> dict[str, Any]:
    """PUT one part of a file to the hub; a 429, a 5xx or no answer is sent again as it was (every part the
    CLI sends is safe to repeat), another refusal raises Refused."""
    try:
        answer = client.put(path, json=body)
    except httpx.TransportError as error:
        raise Unavailable(str(error)) from error
    if answer.status_code == 429 or answer.status_code >= 500:
        raise Unavailable(f"HTTP {answer.status_code}")
    if answer.status_code != 200:
        problem = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
        raise Refused(what, answer.status_code, problem, answer.text)
    accepted: dict[str, Any] = answer.json()
    return accepted
