"""The workflow data and the ASL that implements it must describe the same graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.errors import InvalidTransition
from orders.domain.workflow import COURIER

ASL = json.loads((Path(__file__).parents[2] / "state_machines" / "order_lifecycle.asl.json").read_text())
STATES = ASL["States"]


def _status_written_by(state_name: str) -> str | None:
    """The status a state sets: from its DynamoDB update, or from the lifecycle task it calls."""
    state = STATES[state_name]
    values = state.get("Parameters", {}).get("ExpressionAttributeValues", {})
    if ":status" in values:
        return values[":status"]["S"]
    action = state.get("Parameters", {}).get("Payload", {}).get("action")
    return {"ship": "shipped", "cancel": "cancelled", "expire": "expired",
            "retry_reservation": "reserved"}.get(action)


def _routes() -> dict[str, dict[str, str]]:
    """For each Route* choice: event -> the status the target state writes."""
    routes = {}
    for name, state in STATES.items():
        if name.startswith("Route") and state["Type"] == "Choice" and name not in ("RouteRetry", "RouteRecovery"):
            routes[name] = {c["StringEquals"]: _status_written_by(c["Next"]) for c in state["Choices"]}
    return routes


@pytest.mark.parametrize("status", sorted(COURIER.transitions))
def test_every_workflow_transition_is_a_route_of_the_state_machine(status: str) -> None:
    route = "Route" + "".join(part.capitalize() for part in status.split("_"))
    assert _routes()[route] == COURIER.transitions[status]


def test_state_machine_has_no_route_the_workflow_does_not_know() -> None:
    assert len(_routes()) == len(COURIER.transitions)


def test_every_human_wait_has_a_hard_deadline() -> None:
    waits = [s for s in STATES.values() if s.get("Resource", "").endswith(".waitForTaskToken")]
    assert waits and all(s.get("TimeoutSeconds") and s.get("Catch") for s in waits)


def test_next_status_and_invalid_transition() -> None:
    assert COURIER.next_status("reserved", "confirm") == "confirmed"
    with pytest.raises(InvalidTransition) as refused:
        COURIER.next_status("shipped", "cancel")
    assert refused.value.body() == {"error": "invalid_transition", "message": "event 'cancel' is not allowed in status 'shipped'",
                                    "status": "shipped", "allowed_events": ["deliver"]}
    assert COURIER.statuses()[:2] == ["reserved", "on_hold"]
    assert set(COURIER.terminal_statuses) <= set(COURIER.statuses())


def test_recovery_accepts_retry_and_cancel_only_where_the_workflow_allows_cancel() -> None:
    assert COURIER.recovery_events("packed") == {"retry": "packed", "cancel": "cancelled"}
    assert COURIER.recovery_events("shipped") == {"retry": "shipped"}
    assert {c["StringEquals"] for c in STATES["RouteRecovery"]["Choices"]} == {"retry", "cancel"}
    retried = {c.get("StringEquals"): c["Next"] for c in STATES["RetryFailedStep"]["Choices"]}
    for status, moves in COURIER.transitions.items():
        for event in moves:
            assert event in retried, f"a failed step after {event!r} could not be retried"


def test_every_task_ends_in_a_caught_failure_or_a_recorded_one() -> None:
    for name, state in STATES.items():
        if state["Type"] == "Task" and name != "LifecycleStepFailed":
            assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name
