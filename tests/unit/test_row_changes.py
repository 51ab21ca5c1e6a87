"""Which free units a batch of stock-row writes moved (the stock stream's reader decides from this)."""

from __future__ import annotations

from inventory.domain.row_changes import RowMove, row_moves


def row(available: int, reserved: int = 0, **extra: object) -> dict[str, object]:
    return {
        "sku": "SKU-A",
        "location_id": "s1",
        "available": available,
        "reserved": reserved,
        "on_hand": available + reserved,
        **extra,
    }


def test_an_import_a_reservation_and_a_return_each_say_what_they_were() -> None:
    imported = row(10, imported_at="t1", last_batch="erp-1")
    assert row_moves([(None, imported)]) == [RowMove("s1", "SKU-A", 0, 10, "import", "erp-1")]
    assert row_moves([(row(10, imported_at="t1"), row(12, imported_at="t2"))]) == [
        RowMove("s1", "SKU-A", 10, 12, "import")
    ]
    assert row_moves([(imported, row(9, 1, imported_at="t1", last_batch="erp-1"))]) == [
        RowMove("s1", "SKU-A", 10, 9, "reservation")
    ]
    assert row_moves([(row(9, imported_at="t1"), row(10, imported_at="t1"))]) == [
        RowMove("s1", "SKU-A", 9, 10, "stock")
    ]


def test_writes_of_one_row_collapse_and_a_round_trip_moves_nothing() -> None:
    reserve, release = (row(10), row(9, 1)), (row(9, 1), row(10))
    assert row_moves([reserve, release]) == []
    assert row_moves([reserve, (row(9, 1), row(7, 3))]) == [RowMove("s1", "SKU-A", 10, 7, "reservation")]


def test_rows_without_a_change_of_free_units_and_removed_rows() -> None:
    assert row_moves([(row(5), row(5, expected_at="2026-12-01"))]) == []
    assert row_moves([(row(5), None)]) == [RowMove("s1", "SKU-A", 5, 0, "stock")]
    other = {**row(3), "location_id": "s2"}
    assert row_moves([(None, row(1)), (None, other)]) == [
        RowMove("s1", "SKU-A", 0, 1, "stock"),
        RowMove("s2", "SKU-A", 0, 3, "stock"),
    ]
