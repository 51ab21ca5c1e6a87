"""CSV stock files sent part by part to the stock API (the code behind `oms-hub stock import`)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from oms_local.server import HubTransport
from oms_local.stock_import import StockMode, import_file
from tests.support.api import Api


@pytest.fixture
def client(shop: Api) -> httpx.Client:
    return httpx.Client(
        transport=HubTransport(shop.hub), base_url="http://hub", headers={"x-api-key": shop.hub.api_key}
    )


def _csv(tmp_path: Path, text: str, name: str = "stock.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_big_file_goes_in_parts_and_the_same_file_again_changes_nothing(
    shop: Api, client: httpx.Client, tmp_path: Path
) -> None:
    rows = "".join(f"BULK-{n},{n % 7}\n" for n in range(1_200))
    path = _csv(tmp_path, "sku,on_hand\n" + rows)
    report = import_file(client, path, "wh-1", progress=False)
    assert (report.rows, report.applied, report.errors, report.duplicate_parts) == (1_200, 1_200, [], 0)
    assert shop.stock("BULK-1199", "wh-1")["on_hand"] == 1_199 % 7
    delta = _csv(tmp_path, "sku,on_hand\nBULK-3,5\n", "delta.csv")
    assert import_file(client, delta, "wh-1", mode=StockMode.delta, progress=False).applied == 1
    assert import_file(client, delta, "wh-1", mode=StockMode.delta, progress=False).duplicate_parts == 1
    again = import_file(client, path, "wh-1", progress=False)
    assert again.duplicate_parts == 2 and again.applied == 1_200  # parts answer what they did the first time
    assert shop.stock("BULK-3", "wh-1")["on_hand"] == 3 + 5


def test_malformed_rows_are_reported_by_line_and_the_rest_applied(
    shop: Api, client: httpx.Client, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "sku,on_hand,expected_at\n"
        "OK-1,4,\n"  # line 2
        "OK-2,x,\n"  # 3: not a number
        "bad sku,1,\n"  # 4: bad sku
        "OK-3,-2,\n"  # 5: negative in a snapshot
        "OK-4,0,2026-13-01\n"  # 6: bad date
        "OK-1,9,\n"  # 7: listed twice
        "OK-5,1\n"  # 8: short row is fine (expected_at empty)
        "OK-6,1,,extra\n"  # 9: too many columns
        "OK-7,0,2026-12-24\n",
    )  # 10
    report = import_file(client, path, "wh-1", progress=False)
    assert [line for line, _, _ in report.errors] == [3, 4, 5, 6, 7, 9]
    assert "on_hand" in report.errors[0][2] and "first on line 2" in report.errors[4][2]
    assert report.applied == 3
    assert shop.stock("OK-1", "wh-1")["on_hand"] == 4 and shop.stock("OK-5", "wh-1")["on_hand"] == 1
    assert shop.stock("OK-2", "wh-1")["on_hand"] == 0
    shop.hub.settle()  # availability is the stock stream's figures
    item = shop.get("/v1/availability", "channel=web&skus=OK-7").body["items"][0]
    assert item["expected_at"] == "2026-12-24"


def test_rows_the_hub_refuses_are_reported_with_their_line(shop: Api, client: httpx.Client, tmp_path: Path) -> None:
    shop.post(
        "/v1/orders",
        {
            "channel": "web",
            "external_id": "r-1",
            "customer": {"name": "A"},
            "lines": [{"sku": "SKU-B", "qty": 5, "price": 1}],
            "delivery": {"method": "post", "address": "x"},
            "payment": {"method": "cod"},
        },
    )
    path = _csv(tmp_path, "sku,on_hand\nSKU-A,1\nSKU-B,2\n")
    report = import_file(client, path, "wh-1", progress=False)
    assert report.applied == 1 and [(line, sku) for line, sku, _ in report.errors] == [(3, "SKU-B")]


def test_zero_unlisted_applies_nothing_when_a_row_is_malformed(shop: Api, client: httpx.Client, tmp_path: Path) -> None:
    bad = _csv(tmp_path, "sku,on_hand\nSKU-A,2\nSKU-Z,?\n")
    report = import_file(client, bad, "wh-1", zero_unlisted=True, progress=False)
    assert report.errors and report.applied == 0
    assert shop.stock("SKU-A", "wh-1")["on_hand"] == 10 and shop.stock("SKU-B", "wh-1")["on_hand"] == 5
    good = _csv(tmp_path, "sku,on_hand\nSKU-A,2\n", "good.csv")
    report = import_file(client, good, "wh-1", zero_unlisted=True, progress=False)
    assert (report.applied, report.zeroed, report.errors) == (1, 1, [])
    assert shop.stock("SKU-A", "wh-1")["on_hand"] == 2 and shop.stock("SKU-B", "wh-1")["on_hand"] == 0


def test_a_file_without_the_columns_is_refused_before_sending(client: httpx.Client, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing on_hand"):
        import_file(client, _csv(tmp_path, "sku,qty\nA,1\n"), "wh-1", progress=False)


def test_an_unknown_location_stops_the_import(client: httpx.Client, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="HTTP 404"):
        import_file(client, _csv(tmp_path, "sku,on_hand\nA,1\n"), "nowhere", progress=False)
