"""`oms-hub channel offers import` as a retailer runs it, against `oms-hub local` over real HTTP."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.support.cli_hub import KEY, oms_hub, start_cli_hub


def _import(path: Path, url: str, channel: str = "ozon", key: str = KEY) -> subprocess.CompletedProcess[str]:
    return oms_hub("channel", "offers", "import", str(path), "--channel", channel, "--url", url, key=key)


def test_a_csv_mapping_is_sent_in_parts_bad_rows_named_by_line_and_a_repeat_changes_nothing(tmp_path: Path) -> None:
    process, url = start_cli_hub("--no-demo")
    try:
        with httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=30) as client:
            assert client.put("/v1/channels/ozon", json={"kind": "ozon", "name": "Ozon"}).status_code == 200
            # held before the import: the file's row for SKU-X asks for "taken", which the hub refuses
            held = client.put("/v1/channels/ozon/offers", json={"items": [{"sku": "HELD", "offer_id": "taken"}]})
            assert held.status_code == 200
            path = tmp_path / "offers.csv"
            rows = "".join(f"M-{n:04d},art-{n},\n" for n in range(1, 1_101))  # two parts
            bad = (
                "M-0001,again,\n"  # line 1102: the SKU listed again
                "M-BAD,art-5,\n"  # line 1103: art-5 is M-0005's
                "M BAD,x,\n"  # line 1104: a space in the SKU
                "M-CHRT,y,12\n"  # line 1105: chrtId on an Ozon channel (the hub refuses it)
                "SKU-X,taken,\n"  # line 1106: another SKU's offer id on the hub
                "M-LONG," + "x" * 256 + ",\n"  # line 1107
            )
            path.write_text("sku,offer_id,chrtId\n" + rows + bad)
            first = _import(path, url)
            assert first.returncode == 1, first.stderr
            for expected in (
                "line 1102: sku: listed again (first on line 2)",
                "line 1103: offer_id: listed again (first on line 6)",
                "line 1104: sku: String should match pattern",
                "line 1105: chrtId: Wildberries' size id: not for a ozon channel",
                "line 1106: offer_id: offer_id 'taken' is SKU 'HELD''s on this channel",
                "line 1107: offer_id: String should have at most 255 characters",
            ):
                assert expected in first.stderr, first.stderr
            assert "channel ozon: 1106 rows, 1100 written, 0 unchanged, 6 errors" in first.stdout
            listed, cursor = [], None
            while True:
                page = client.get(
                    "/v1/channels/ozon/offers", params={"limit": 1000, **({"cursor": cursor} if cursor else {})}
                )
                listed += page.json()["items"]
                cursor = page.json()["next_cursor"]
                if cursor is None:
                    break
            assert [item["sku"] for item in listed] == ["HELD", *(f"M-{n:04d}" for n in range(1, 1_101))]
            assert {item["sku"]: item["offer_id"] for item in listed}["M-0042"] == "art-42"

            again = _import(path, url)
            assert "channel ozon: 1106 rows, 0 written, 1100 unchanged, 6 errors" in again.stdout

            clean = tmp_path / "clean.csv"
            clean.write_text("sku,offer_id\nM-0001,\nM-0002,art-2\n")  # M-0001 goes back to its own name
            removed = _import(clean, url)
            assert removed.returncode == 0, removed.stderr
            assert "2 rows, 1 written, 1 unchanged, 0 errors" in removed.stdout

            assert _import(clean, url, channel="nope").returncode == 1
            wrong_key = _import(clean, url, key="nope")
            assert wrong_key.returncode == 1 and "HTTP 401" in wrong_key.stderr
            header = tmp_path / "header.csv"
            header.write_text("sku,offer\nM-1,a\n")
            no_column = _import(header, url)
            assert no_column.returncode == 1 and "missing offer_id" in no_column.stderr
    finally:
        process.terminate()
        process.wait(timeout=20)
