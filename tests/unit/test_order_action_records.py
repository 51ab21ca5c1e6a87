"""The pure rules of order actions: which status entry an announcement is about, what an event waits for."""

from __future__ import annotations

from typing import Any

from orders.domain.actions import action_key, done_results, entries_of, entry_of, target, unmet


def entry(
    status: str, event: str = "move", source: str = "operator", at: str = "2026-12-01T10:00:00.000Z"
) -> dict[str, Any]:
    return {"at": at, "status": status, "event": event, "source": source, "note": ""}


def record(name: str, status: str, n: int, state: str, **result: Any) -> dict[str, Any]:
    return {
        "name": name,
        "status": state,
        "on_status": status,
        "entry": n,
        "attempts": 1,
        "result": result,
        "claimed_at": f"t{n}",
    }


TIMELINE = [
    entry("reserved", "create"),
    entry("packed", "pack"),
    entry("packed", "action_done", "actions"),  # an action's outcome starts no entry
    entry("packed", "short_pick"),  # nor does a note written in the status
    entry("on_hold", "hold"),
    entry("packed", "pack", "partner:ozon", "2026-12-01T11:00:00.000Z"),
]


def test_a_run_of_entries_in_one_status_is_one_entry_and_the_actions_own_start_none() -> None:
    assert entries_of(TIMELINE, "packed") == 2
    assert entries_of(TIMELINE, "reserved") == 1
    assert entries_of(TIMELINE, "shipped") == 0
    assert entry_of(TIMELINE, "packed", 2) == TIMELINE[-1]
    assert entry_of(TIMELINE, "packed", 3) is None


def test_the_announcement_is_about_the_earliest_entry_whose_action_is_not_settled() -> None:
    order = {"timeline": TIMELINE, "actions": {}}
    assert target(order, "confirm", "packed").entry == 1
    order["actions"] = {action_key("confirm", "packed", 1): record("confirm", "packed", 1, "done")}
    assert target(order, "confirm", "packed").entry == 2
    order["actions"][action_key("confirm", "packed", 2)] = record("confirm", "packed", 2, "retrying")
    assert target(order, "confirm", "packed").record == order["actions"]["confirm:packed:2"]
    order["actions"]["confirm:packed:2"] = record("confirm", "packed", 2, "failed")
    assert target(order, "confirm", "packed").entry is None  # every entry settled: a duplicate, or not written yet


def test_an_event_waits_for_the_current_entrys_actions_until_done_or_skipped() -> None:
    order = {"status": "packed", "timeline": TIMELINE, "actions": {}}
    assert [(u.name, u.status) for u in unmet(order, ["confirm"])] == [("confirm", "not_started")]
    order["actions"] = {"confirm:packed:1": record("confirm", "packed", 1, "done")}  # the earlier entry's
    assert [u.status for u in unmet(order, ["confirm"])] == ["not_started"]
    for state, waits in (("running", True), ("failed", True), ("done", False), ("skipped", False)):
        order["actions"]["confirm:packed:2"] = record("confirm", "packed", 2, state)
        assert bool(unmet(order, ["confirm"])) is waits, state


def test_done_results_are_read_in_claim_order() -> None:
    order = {
        "actions": {
            "c:packed:2": record("c", "packed", 2, "done", supply_id="S2"),
            "c:packed:1": record("c", "packed", 1, "done", supply_id="S1"),
            "c:packed:3": record("c", "packed", 3, "failed", supply_id="S3"),
        }
    }
    assert done_results(order, "c", "supply_id") == ["S1", "S2"]
