"""`oms-hub products import` as a retailer runs it, against `oms-hub local` over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.cli_hub import KEY, ROOT, start_cli_hub


def _import(path: Path, url: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "oms-hub"), "products", "import", str(path), "--url", url]
    return subprocess.run(
        command,
        check=False,
        cwd=ROOT,
        env={**os.environ, "OMS_API_KEY": KEY},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_csv_catalog_is_sent_in_parts_bad_rows_named_by_line_and_a_repeat_changes_nothing(tmp_path: Path) -> None:
    process, url = start_cli_hub("--no-demo")
    try:
        path = tmp_path / "products.csv"
        rows = "".join(
            f"P-{n:04d},Товар {n},460{n:010d};EAN-{n},{100 + n},120,95,{10 + n % 7}\n" for n in range(1, 1_201)
        )
        bad = (
            "P-0001,again,,1,1,1,1\n"  # line 1202: the SKU listed again
            "P-ZERO,zero,,0,1,1,1\n"  # line 1203: no weight
            "P-HALF,half,,1.5,1,1,1\n"  # line 1204: not a whole number
            "P BAD,space,,1,1,1,1\n"  # line 1205: a space in the SKU
            "P-TWICE,twice,1;1,1,1,1,1\n"  # line 1206: a barcode twice (the hub refuses it)
            "P-WIDE,wide,,1,1,10001,1\n"  # line 1207: wider than 10 m
        )
        path.write_text("sku,name,barcodes,weight_grams,length_mm,width_mm,height_mm\n" + rows + bad)
        first = _import(path, url)
        assert first.returncode == 1, first.stderr
        for expected in (
            "line 1202: sku: listed again (first on line 2)",
            "line 1203: weight_grams: Input should be greater than or equal to 1",
            "line 1204: weight_grams: Input should be a valid integer",
            "line 1205: sku: String should match pattern",
            "line 1206: barcodes.1: barcode listed again",
            "line 1207: width_mm: Input should be less than or equal to 10000",
        ):
            assert expected in first.stderr, first.stderr
        assert "products: 1206 rows, 1200 written, 0 unchanged, 6 errors" in first.stdout, first.stdout

        with httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=30) as client:
            listed, cursor = [], None
            while True:
                page = client.get("/v1/products", params={"limit": 1000, **({"cursor": cursor} if cursor else {})})
                listed += page.json()["items"]
                cursor = page.json()["next_cursor"]
                if cursor is None:
                    break
            assert [item["sku"] for item in listed] == [f"P-{n:04d}" for n in range(1, 1_201)]
            one = client.get("/v1/products/P-0042").json()
            assert (one["name"], one["barcodes"], one["weight_grams"], one["height_mm"]) == (
                "Товар 42",
                ["4600000000042", "EAN-42"],
                142,
                10,
            )

        again = _import(path, url)
        assert "products: 1206 rows, 0 written, 1200 unchanged, 6 errors" in again.stdout, again.stdout

        missing = tmp_path / "missing.csv"
        missing.write_text("sku,name,weight_grams\nP-1,x,1\n")
        refused = _import(missing, url)
        assert refused.returncode == 1 and "missing height_mm, length_mm, width_mm" in refused.stderr
    finally:
        process.terminate()
        process.wait(timeout=60)
