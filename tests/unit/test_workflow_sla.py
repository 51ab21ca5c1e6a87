"""The SLA terms of a status in the workflow YAML: what the build refuses, and what the monitor's one
resolver (Workflow.sla_for) gives an order by its channel and location."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from oms_build import workflows as build
from orders.adapters.workflow_catalog import workflow
from orders.domain.workflow import Workflow

FLAGSHIP = "store-msk-flagship"
LADDER = [{"after": "15m", "to": "store_staff"}, {"after": "45m", "to": "store_manager"}, {"after": "2h", "to": "ops"}]


def _store_source(**confirmed: Any) -> dict[str, Any]:
    """ship_from_store as shipped, its `confirmed` (4h, flagged) given these SLA fields instead."""
    source = yaml.safe_load((build.SOURCES / "ship_from_store.yaml").read_text())
    status = source["statuses"]["confirmed"]
    for field in ("warn_at", "warn_before", "warn_to", "breach_to", "escalate", "sla"):
        status.pop(field, None)
    status.update(confirmed)
    return source


def _store(**confirmed: Any) -> Workflow:
    return Workflow.model_validate(_store_source(**confirmed))


def test_a_status_without_sla_fields_is_watched_for_its_kpi_and_told_to_ops() -> None:
    sla = _store().sla_for("confirmed", "web", None)
    assert sla is not None
    assert (sla.kpi_seconds, sla.warn_seconds, sla.escalate) == (4 * 3600, None, ())
    assert (sla.warn_to, sla.breach_to, sla.on_timeout, sla.deadline_from) == ("ops", "ops", "flag", None)


def test_terminal_and_unknown_statuses_have_no_sla() -> None:
    flow = _store()
    assert flow.sla_for("delivered", "web", None) is None
    assert flow.sla_for("nowhere", "web", None) is None


def test_the_ladder_and_a_share_warning_in_seconds_after_the_entry() -> None:
    sla = _store(warn_at="75%", breach_to="store_manager", escalate=LADDER).sla_for("confirmed", "web", "store-1")
    assert sla is not None
    assert sla.warn_seconds == 3 * 3600
    assert sla.escalate == ((900, "store_staff"), (2700, "store_manager"), (7200, "ops"))
    assert (sla.warn_to, sla.breach_to) == ("store_staff", "store_manager")  # warned: the first rung's role


def test_a_warning_before_the_kpi_and_its_named_role() -> None:
    sla = _store(warn_before="30m", warn_to="store_manager").sla_for("confirmed", "web", None)
    assert sla is not None
    assert (sla.warn_seconds, sla.warn_to) == (3 * 3600 + 1800, "store_manager")


def test_the_first_matching_override_wins_and_keeps_what_it_does_not_set() -> None:
    flow = _store(
        warn_at="75%",
        escalate=LADDER,
        sla=[
            {
                "locations": [FLAGSHIP],
                "kpi": "20m",
                "warn_at": "50%",
                "escalate": [{"after": "10m", "to": "store_staff"}],
            },
            {"channels": ["web"], "warn_before": "1h", "breach_to": "store_manager"},
            {"channels": ["web"], "locations": ["store-2"], "kpi": "1h"},  # never reached: the one above matches first
        ],
    )
    flagship = flow.sla_for("confirmed", "web", FLAGSHIP)
    assert flagship is not None
    assert (flagship.kpi_seconds, flagship.warn_seconds, flagship.escalate) == (1200, 600, ((600, "store_staff"),))
    assert flagship.breach_to == "ops"

    web = flow.sla_for("confirmed", "web", "store-2")
    assert web is not None
    assert (web.kpi_seconds, web.warn_seconds, web.breach_to) == (4 * 3600, 3 * 3600, "store_manager")  # 1h before
    assert web.escalate == ((900, "store_staff"), (2700, "store_manager"), (7200, "ops"))

    app = flow.sla_for("confirmed", "app", None)  # no override matches an order without a location
    assert app is not None
    assert (app.kpi_seconds, app.warn_seconds, app.breach_to) == (4 * 3600, 3 * 3600, "ops")


def test_an_override_may_drop_the_ladder() -> None:
    sla = _store(escalate=LADDER, sla=[{"channels": ["app"], "escalate": []}]).sla_for("confirmed", "app", None)
    assert sla is not None
    assert (sla.escalate, sla.warn_to) == ((), "ops")


def test_ship_by_statuses_count_the_warning_back_from_the_orders_ship_by() -> None:
    sla = workflow("marketplace").sla_for("reserved", "ozon", "wh-1")
    assert sla is not None
    assert (sla.deadline_from, sla.warn_before_seconds, sla.warn_to, sla.breach_to) == ("ship_by", 7200, "ops", "ops")
    due = sla.due_seconds("2026-01-01T10:00:00.000Z", "2026-01-01T16:00:00.000Z")
    assert (due, sla.warn_after(due)) == (6 * 3600, 4 * 3600)
    late = sla.due_seconds("2026-01-01T10:00:00.000Z", "2026-01-01T11:00:00.000Z")  # 1h left: warned at once
    assert (late, sla.warn_after(late)) == (3600, 0)
    fallback = sla.due_seconds("2026-01-01T10:00:00.000Z", None)
    assert (fallback, sla.warn_after(fallback)) == (2 * 86400, 2 * 86400 - 7200)


def test_a_share_of_a_ship_by_span() -> None:
    source = yaml.safe_load((build.SOURCES / "marketplace.yaml").read_text())
    reserved = source["statuses"]["reserved"]
    reserved.pop("warn_before")
    reserved["warn_at"] = "50%"
    sla = Workflow.model_validate(source).sla_for("reserved", "ozon", None)
    assert sla is not None
    due = sla.due_seconds("2026-01-01T10:00:00.000Z", "2026-01-01T14:00:00.000Z")
    assert sla.warn_after(due) == 7200
    assert sla.warn_after(-60) == 0  # ship-by passed before the entry


def test_the_shipped_store_workflow_escalates_store_staff_then_the_manager_then_ops() -> None:
    sla = workflow("ship_from_store").sla_for("confirmed", "web", "store-1")
    assert sla is not None
    assert [role for _, role in sla.escalate] == ["store_staff", "store_manager", "ops"]
    assert sla.warn_seconds == 3 * 3600


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"warn_at": "75%", "warn_before": "30m"}, "`warn_at` or `warn_before`, not both"),
        ({"warn_before": "4h"}, "`warn_before` must be shorter than the KPI"),
        ({"warn_at": "100%"}, "String should match pattern"),
        ({"warn_at": "0.75"}, "String should match pattern"),
        ({"escalate": [{"after": "45m", "to": "store_manager"}, {"after": "15m", "to": "ops"}]}, "must increase"),
        ({"escalate": [{"after": "15m", "to": "Store-Staff"}]}, "String should match pattern"),
        ({"warn_to": "ops2"}, "String should match pattern"),
        ({"escalate": [{"after": "15m"}]}, "Field required"),
        ({"sla": [{"kpi": "20m"}]}, r"sla\[0\]: an override names `channels` and/or `locations`"),
        ({"sla": [{"channels": ["web"], "kpi": "5h"}]}, r"sla\[0\]: `kpi` may be shorter than the status's"),
        ({"sla": [{"channels": ["web"], "kpi": "20m", "warn_before": "30m"}]}, r"sla\[0\]: `warn_before` must be"),
        ({"sla": [{"channels": ["web"], "warn_at": "50%", "warn_before": "1h"}]}, r"sla\[0\]: `warn_at` or"),
        ({"sla": [{"channels": ["web"], "expire": "1h"}]}, "Extra inputs are not permitted"),
    ],
)
def test_the_build_refuses_sla_terms_that_cannot_hold(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _store(**fields)


def test_an_escalation_after_the_kpi_needs_a_flagged_status() -> None:
    late = [{"after": "15m", "to": "store_staff"}, {"after": "5h", "to": "ops"}]
    assert _store(escalate=late).sla_for("confirmed", "web", None) is not None  # flagged: the order keeps waiting
    source = _store_source(escalate=late, on_timeout="cancel")
    with pytest.raises(ValidationError, match="an escalation at or after the KPI needs `on_timeout: flag`"):
        Workflow.model_validate(source)
    # ... the override's own (shorter) KPI counts
    source = _store_source(
        on_timeout="cancel", sla=[{"locations": [FLAGSHIP], "kpi": "20m", "escalate": [{"after": "30m", "to": "ops"}]}]
    )
    with pytest.raises(ValidationError, match=r"sla\[0\]: an escalation at or after the KPI"):
        Workflow.model_validate(source)


def test_a_terminal_status_has_no_sla() -> None:
    source = _store_source()
    source["statuses"]["delivered"]["escalate"] = [{"after": "1h", "to": "ops"}]
    with pytest.raises(ValidationError, match="a terminal status has no SLA"):
        Workflow.model_validate(source)


def test_the_catalog_carries_the_terms_the_functions_resolve() -> None:
    """workflows.json (what the functions read) holds the YAML's terms: resolved from it, as from the YAML."""
    shipped = {w.name: w for w in build.load_sources()}
    for name, flow in shipped.items():
        for status in flow.statuses:
            for channel, location in (("web", None), ("ozon", "wh-1"), ("web", FLAGSHIP)):
                assert workflow(name).sla_for(status, channel, location) == flow.sla_for(status, channel, location)


def test_every_status_write_of_every_machine_is_an_entry_the_monitor_is_due_to_plan() -> None:
    """Waiting and terminal statuses alike: the entry time, the lane, due now, and no tiers fired."""
    writes = 0
    for flow in build.load_sources():
        for state in build.build_asl(flow)["States"].values():
            parameters = state.get("Parameters", {})
            if "#status = :status" not in parameters.get("UpdateExpression", ""):
                continue
            writes += 1
            expression = parameters["UpdateExpression"]
            assert "status_since = :now, sla_lane = :lane, sla_next_at = :now" in expression
            assert expression.split(" REMOVE ")[1].split(", ").count("sla_fired") == 1
            assert parameters["ExpressionAttributeValues"][":lane"] == {"S": flow.name}
    assert writes >= 20  # the status writes the ASL itself does (the stock and payment ones are Lambdas)
