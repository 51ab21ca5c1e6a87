"""Which queue entries an order's writes put in and take out of the store work table."""

from __future__ import annotations

from typing import Any

from orders.domain.store_work import Entry, entries_of, entry_changes


def order(status: str, *, order_id: str = "o-1", workflow: str = "click_collect", **fields: Any) -> dict[str, Any]:
    return {
        "pk": f"ORDER#{order_id}",
        "order_id": order_id,
        "status": status,
        "workflow": workflow,
        "created_key": f"2026-12-01T10:00:00Z#{order_id}",
        "allocations": [{"location_id": "store-1", "sku": "SKU-A", "qty": 1}],
        "delivery": {"method": "click_collect", "location_id": "store-2"},
        **fields,
    }


KEY = "2026-12-01T10:00:00Z#o-1"


def test_an_order_is_in_the_section_of_every_store_it_involves() -> None:
    assert entries_of(order("confirmed")) == {
        Entry("store-1#confirmed", KEY, "o-1"),
        Entry("store-2#confirmed", KEY, "o-1"),
    }


def test_statuses_no_store_works_on_and_other_items_put_nothing() -> None:
    assert entries_of(order("delivered")) == set()
    assert entries_of(order("reserved")) == set()  # reserved waits in a store only for reserve_in_store
    assert entries_of(order("reserved", workflow="reserve_in_store")) == {
        Entry("store-1#reserved", KEY, "o-1"),
        Entry("store-2#reserved", KEY, "o-1"),
    }
    lookup = {"pk": "LOOKUP#abc#o-1", "order_id": "o-1", "created_key": KEY}
    assert entries_of(lookup) == set()
    assert entries_of(None) == set()


def test_a_move_takes_the_entries_out_of_the_old_section_and_puts_them_in_the_new() -> None:
    changes = entry_changes([(order("confirmed"), order("picked"))])
    assert changes.put == [Entry("store-1#picked", KEY, "o-1"), Entry("store-2#picked", KEY, "o-1")]
    assert changes.delete == [Entry("store-1#confirmed", KEY, "o-1"), Entry("store-2#confirmed", KEY, "o-1")]


def test_several_writes_of_one_order_in_a_batch_leave_only_the_last_section() -> None:
    writes = [
        (None, order("reserved")),
        (order("reserved"), order("confirmed")),
        (order("confirmed"), order("picked")),
        (order("picked"), order("picked", attention="x")),
    ]
    changes = entry_changes(writes)
    assert [e.queue for e in changes.put] == ["store-1#picked", "store-2#picked"]
    assert changes.delete == []


def test_a_write_that_changes_nothing_a_store_sees_changes_no_entry() -> None:
    assert entry_changes([(order("packed"), order("packed", updated_at="later"))]) == entry_changes([])


def test_a_reallocation_moves_the_entry_to_the_new_store() -> None:
    moved = order("confirmed", allocations=[{"location_id": "store-3", "sku": "SKU-A", "qty": 1}])
    changes = entry_changes([(order("confirmed"), moved)])
    assert changes.put == [Entry("store-3#confirmed", KEY, "o-1")]
    assert changes.delete == [Entry("store-1#confirmed", KEY, "o-1")]


def test_a_deleted_order_leaves_no_entry() -> None:
    assert entry_changes([(order("held"), None)]).delete == [
        Entry("store-1#held", KEY, "o-1"),
        Entry("store-2#held", KEY, "o-1"),
    ]
