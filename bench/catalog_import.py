"""The product catalog's CSV import: 100,000 rows through the real CLI (`oms-hub products import`).

Called by bench/run.py (`make bench`); alone: `python bench/catalog_import.py [rows]`. The hub runs in this
process behind a real HTTP server on 127.0.0.1 (bench/stock.py's), the file is sent by the CLI in a child
process. A first import (no product exists), the same file again (nothing changes), and a file where every
product changes. DynamoDB requests are counted here by operation, the hub's HTTP requests as its gateway
answers them.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from stock import Emit, Note, _serve, run_cli

from oms_local.runtime import LocalHub

IMPORT_ROWS = 100_000


def _write_csv(path: Path, rows: int, weight_shift: int) -> None:
    with path.open("w") as out:
        out.write("sku,name,barcodes,weight_grams,length_mm,width_mm,height_mm\n")
        for n in range(rows):
            weight = 100 + (n + weight_shift) % 5000
            out.write(f"SKU-{n:06d},Товар {n},46{n:011d},{weight},{100 + n % 300},{80 + n % 90},{10 + n % 50}\n")


def catalog_import(calls: Any, emit: Emit, note: Note, rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, LocalHub() as hub:
        calls.install()
        answered: Counter[str] = Counter()  # the hub's HTTP requests by path, as its gateway answers them
        answer = hub.gateway.answer

        def counted(request: Any) -> Any:
            answered[request.path] += 1
            return answer(request)

        hub.gateway.answer = counted  # type: ignore[method-assign]
        server, url = _serve(hub)
        try:
            for case, shift in (("first", 0), ("repeat", 0), ("update", 1)):
                csv_path = Path(tmp) / f"products-{case}.csv"
                _write_csv(csv_path, rows, shift)
                calls.take()
                answered.clear()
                run = run_cli(["products", "import", str(csv_path)], url, hub.api_key)
                made = Counter(call.operation for call in calls.take() if call.service == "dynamodb")
                name = "catalog_import" if case == "first" else f"catalog_import_{case}"
                emit(f"{name}_rows_per_s", rows / run.seconds, "rows/s")
                emit(f"{name}_dynamodb_requests_per_row", sum(made.values()) / rows, "requests")
                emit(f"{name}_http_requests_per_row", answered["/v1/products"] / rows, "requests")
                if case == "first":
                    emit("catalog_import_peak_mb", run.peak_kb / 1024, "MB")
                note(f"{case} import of {rows} rows: {run.output}; DynamoDB requests: {dict(sorted(made.items()))}")
        finally:
            server.should_exit = True


def main(calls: Any, emit: Emit, note: Note, rows: int = IMPORT_ROWS) -> None:
    catalog_import(calls, emit, note, rows)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    from run import AwsCalls
    from run import emit as emit_
    from run import note as note_

    os.environ.setdefault("OMS_LOG_LEVEL", "WARNING")
    main(AwsCalls(), emit_, note_, int(sys.argv[1]) if len(sys.argv) > 1 else IMPORT_ROWS)
