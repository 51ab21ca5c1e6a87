"""The SLA monitor's plan of one status entry (sla_monitor.domain.plan): its tiers and checks and when they are
due, the next look, and what the timeline says happened since the last look (stays, risk facts)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from common.clock import utc_moment, utc_text
from orders.domain.sla import StatusSla
from sla_monitor.domain.plan import (
    NOTIFY_RETRY,
    completed_stays,
    fulfilling_location,
    of_entry,
    plan_entry,
    risk_facts,
    sla_task_id,
    told_at,
)

T0 = "2026-12-03T08:00:00.000Z"
LADDER = ((15 * 60, "store_staff"), (45 * 60, "store_manager"), (2 * 3600, "ops"))


def _sla(**changes: Any) -> StatusSla:
    terms: dict[str, Any] = {
        "kpi_seconds": 4 * 3600,
        "deadline_from": None,
        "warn_share": 0.75,
        "warn_before_seconds": None,
        "warn_to": "store_staff",
        "breach_to": "store_manager",
        "escalate": LADDER,
        "on_timeout": "flag",
    }
    return StatusSla(**{**terms, **changes})


def _order(**changes: Any) -> dict[str, Any]:
    order = {
        "order_id": "ord_1",
        "status": "confirmed",
        "status_since": T0,
        "created_at": "2026-12-03T07:00:00.000Z",
        "allocations": [{"sku": "SKU-A", "location_id": "store-1", "qty": 1}],
        "delivery": {"method": "click_collect", "location_id": "store-2"},
    }
    return {**order, **changes}


def _at(**delta: float) -> Any:
    return utc_moment(T0) + timedelta(**delta)


def test_an_entry_has_its_warning_ladder_and_breach_at_their_times_with_their_roles() -> None:
    plan = plan_entry(_order(), _sla(), None)
    assert [(c.name, c.at, c.role) for c in plan.checks] == [
        ("warn", _at(hours=3), "store_staff"),
        ("escalate_1", _at(minutes=15), "store_staff"),
        ("escalate_2", _at(minutes=45), "store_manager"),
        ("escalate_3", _at(hours=2), "ops"),
        ("breach", _at(hours=4), "store_manager"),
    ]
    assert (plan.due_at, plan.location_id, plan.entered_at) == (utc_text(_at(hours=4)), "store-1", T0)
    assert [c.kind for c in plan.checks] == ["warn", "escalate", "escalate", "escalate", "breach"]


def test_due_checks_are_those_whose_time_came_and_not_fired_in_time_order() -> None:
    plan = plan_entry(_order(), _sla(), None)
    assert plan.due(set(), _at(minutes=14)) == []
    assert [c.name for c in plan.due(set(), _at(hours=2, minutes=1))] == ["escalate_1", "escalate_2", "escalate_3"]
    assert [c.name for c in plan.due({"escalate_1"}, _at(hours=5))] == ["escalate_2", "escalate_3", "warn", "breach"]


def test_the_next_look_is_the_earliest_check_not_done_or_soon_for_an_unsent_notification() -> None:
    plan = plan_entry(_order(), _sla(), None)
    now = _at(minutes=20)
    assert plan.next_at({"escalate_1"}, now, unsent=False) == _at(minutes=45)
    assert plan.next_at({"escalate_1"}, now, unsent=True) == now + NOTIFY_RETRY
    everything = {c.name for c in plan.checks}
    assert plan.next_at(everything, now, unsent=False) is None
    # A check that could not be done (a refused restart) is past: the next run looks again.
    assert plan.next_at(everything - {"escalate_1"}, now, unsent=False) == _at(minutes=15)


def test_the_intake_entry_checks_the_start_and_a_cancelling_status_checks_its_execution_after_the_deadline() -> None:
    intake = plan_entry(_order(status_since="2026-12-03T07:00:00.000Z"), _sla(escalate=()), 14 * 86400)
    names = {c.name: c.at for c in intake.checks}
    assert names["start"] == utc_moment("2026-12-03T07:02:00.000Z")
    assert names["alive"] == utc_moment("2026-12-03T07:00:00.000Z") + timedelta(days=14, minutes=5)
    later = plan_entry(_order(), _sla(escalate=()), None)
    assert {c.name for c in later.checks} == {"warn", "breach"}  # no start check, and a flag status: no alive


def test_a_ship_by_status_counts_its_breach_and_warning_from_the_order_s_ship_by() -> None:
    sla = _sla(deadline_from="ship_by", warn_share=None, warn_before_seconds=2 * 3600, escalate=())
    plan = plan_entry(_order(ship_by=utc_text(_at(hours=10))), sla, None)
    assert {c.name: c.at for c in plan.checks} == {"warn": _at(hours=8), "breach": _at(hours=10)}
    moved = plan_entry(_order(ship_by=utc_text(_at(hours=15))), sla, None)
    assert moved.due_at == utc_text(_at(hours=15))
    without = plan_entry(_order(), sla, None)  # no ship_by: the KPI
    assert without.due_at == utc_text(_at(hours=4))


def test_a_terminal_status_has_nothing_to_check() -> None:
    plan = plan_entry(_order(status="delivered"), None, None)
    assert (plan.checks, plan.due_at) == ((), None)
    assert plan.next_at(set(), _at(), unsent=False) is None


def test_the_fulfilling_location_is_the_first_allocation_s_else_the_delivery_s() -> None:
    assert fulfilling_location(_order()) == "store-1"
    assert fulfilling_location(_order(allocations=[])) == "store-2"
    assert fulfilling_location(_order(allocations=[], delivery={"method": "courier"})) is None
    assert told_at("store_staff", "store-1") == "store-1"
    assert told_at("ops", "store-1") is None


def test_task_ids_and_marks_belong_to_their_entry() -> None:
    first, second = sla_task_id("ord_1", T0, "ops"), sla_task_id("ord_1", utc_text(_at(hours=1)), "ops")
    assert first != second
    assert of_entry({first, second, f"{T0}#warn"}, T0) == {first, f"{T0}#warn"}


TIMELINE = [
    {"at": "2026-12-03T07:00:00.000Z", "status": "reserved", "event": "create", "source": "channel:ozon"},
    {"at": "2026-12-03T07:30:00.000Z", "status": "reserved", "event": "action_done", "source": "actions"},
    {"at": "2026-12-03T08:00:00.000Z", "status": "packed", "event": "pack", "source": "api"},
    {"at": "2026-12-03T09:00:00.000Z", "status": "shipped", "event": "ship", "source": "api"},
]


def test_stays_are_read_from_status_entries_since_the_last_look() -> None:
    stays = [(e.status, e.at, left) for e, left in completed_stays(TIMELINE, None)]
    assert stays == [
        ("reserved", "2026-12-03T07:00:00.000Z", "2026-12-03T08:00:00.000Z"),
        ("packed", "2026-12-03T08:00:00.000Z", "2026-12-03T09:00:00.000Z"),
    ]
    since_packed = completed_stays(TIMELINE, "2026-12-03T08:00:00.000Z")
    assert [e.status for e, _ in since_packed] == ["packed"]
    assert completed_stays(TIMELINE, "2026-12-03T09:00:00.000Z") == []


def test_risk_facts_count_acceptance_shipments_late_ones_and_the_seller_s_cancellations() -> None:
    day = utc_moment(T0).date()
    assert risk_facts(TIMELINE, None, "2026-12-03T10:00:00.000Z", "shipped", "cancelled") == [
        (day, "accepted"),
        (day, "shipped"),
    ]
    late = risk_facts(TIMELINE, "2026-12-03T08:00:00.000Z", "2026-12-03T08:30:00.000Z", "shipped", "cancelled")
    assert late == [(day, "shipped"), (day, "shipped_late")]
    cancelled = [*TIMELINE[:1], {"at": "2026-12-03T07:10:00.000Z", "status": "cancelled", "source": "api"}]
    by_partner = [*TIMELINE[:1], {"at": "2026-12-03T07:10:00.000Z", "status": "cancelled", "source": "partner:ozon"}]
    seen = "2026-12-03T07:00:00.000Z"
    assert risk_facts(cancelled, seen, None, "shipped", "cancelled") == [(day, "seller_cancelled")]
    assert risk_facts(by_partner, seen, None, "shipped", "cancelled") == []
