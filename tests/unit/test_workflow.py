"""Workflows as data: the schema refuses what the state machine could not run, and the committed
ASL and catalog are exactly what workflows/*.yaml generate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from common.errors import InvalidTransition
from oms_build import workflows as build
from oms_local.cli import main
from orders.adapters.workflow_catalog import catalog, workflow
from orders.domain.workflow import Workflow
from reference.models import DeliveryMethod

ROOT = Path(__file__).parents[2]
COURIER = workflow("courier")


def states(name: str) -> dict:
    return json.loads(build.asl_path(name).read_text())["States"]


def test_committed_asl_and_catalog_are_what_the_yaml_generates() -> None:
    assert build.stale() == []
    assert main(["workflows", "check"]) == 0


def test_check_fails_when_a_committed_file_differs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edited = json.loads(build.asl_path("courier").read_text())
    edited["States"]["RoutePicked"]["Default"] = "AwaitPacked"
    (tmp_path / "lifecycle_courier.asl.json").write_text(json.dumps(edited))
    for path in build.MACHINES.glob("lifecycle_*.asl.json"):
        if path.name != "lifecycle_courier.asl.json":
            shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(build, "MACHINES", tmp_path)
    assert build.stale() == [tmp_path / "lifecycle_courier.asl.json"]
    assert main(["workflows", "check"]) == 1


def test_every_workflow_has_its_state_machine_in_the_template() -> None:
    from oms_local.template import load

    machines = load(ROOT / "template.yaml").state_machines
    for name in catalog().workflows:
        machine = machines[build.logical_id(name)]
        assert machine["name"] == f"oms-hub-local-lifecycle-{name}"
        assert json.loads(machine["definition"])["States"]["StartFromStatus"]


def test_the_contracts_courier_lifecycle() -> None:
    assert COURIER.transitions == {
        "on_hold": {"reserve": "reserved", "cancel": "cancelled", "expire": "expired"},
        "reserved": {"confirm": "confirmed", "cancel": "cancelled", "expire": "expired"},
        # only for prepaid orders whose payment is pending at intake
        "awaiting_payment": {
            "pay": "confirmed",
            "remind": "payment_reminded",
            "cancel": "cancelled",
            "expire": "expired",
        },
        "payment_reminded": {"pay": "confirmed", "cancel": "cancelled", "expire": "expired"},
        "confirmed": {"pick": "picked", "cancel": "cancelled"},
        "picked": {"pack": "packed", "cancel": "cancelled"},
        "packed": {"ship": "shipped", "cancel": "cancelled"},
        "shipped": {"deliver": "delivered"},
    }
    assert COURIER.statuses["shipped"].stock == "consume"
    assert COURIER.sources_of("release") == [
        "awaiting_payment",
        "confirmed",
        "on_hold",
        "packed",
        "payment_reminded",
        "picked",
        "reserved",
    ]


def test_every_workflow_route_is_a_choice_of_its_graph() -> None:
    for wf in catalog().workflows.values():
        graph = states(wf.name)
        for status, moves in wf.transitions.items():
            route = graph[build.state_name("Route", status)]
            assert {c["StringEquals"] for c in route["Choices"]} == set(moves), (wf.name, status)
            for choice in route["Choices"]:
                first = choice["Next"]
                target = moves[choice["StringEquals"]]
                assert first in (build.state_name("", target), build.state_name("Announce", target))


def test_every_human_wait_has_a_hard_deadline_and_every_task_is_caught() -> None:
    for wf in catalog().workflows:
        graph = states(wf)
        waits = [
            s
            for n, s in graph.items()
            if s.get("Resource", "").endswith(".waitForTaskToken") and not n.startswith("AwaitFlagged")
        ]
        assert waits and all((s.get("TimeoutSeconds") or s.get("TimeoutSecondsPath")) and s.get("Catch") for s in waits)
        for name, state in graph.items():
            if state["Type"] == "Task" and name != "LifecycleStepFailed":
                assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name


def test_a_flagged_status_waits_for_its_next_event_without_a_deadline() -> None:
    """A deadline that flags would otherwise flag again at every run-out, every second for a ship-by already
    past at intake (its deadline is 1 s), each a paid transition and write."""
    flagging = 0
    for wf in catalog().workflows.values():
        graph = states(wf.name)
        for name, status in wf.statuses.items():
            if status.terminal or status.on_timeout != "flag" or build.state_name("Timeout", name) not in graph:
                continue
            flagging += 1
            flag = graph[build.state_name("Timeout", name)]
            rewait = graph[flag["Next"]]
            assert flag["Next"] == build.state_name("AwaitFlagged", name)
            assert rewait["Resource"].endswith(".waitForTaskToken")
            assert rewait["Next"] == build.state_name("Route", name)
            assert "TimeoutSeconds" not in rewait and "TimeoutSecondsPath" not in rewait
            assert [c["ErrorEquals"] for c in rewait["Catch"]] == [["States.ALL"]]
    assert flagging >= 5


def test_only_jsonpath_asl() -> None:
    for path in build.MACHINES.glob("lifecycle_*.asl.json"):
        text = path.read_text()
        assert "JSONata" not in text and '"Assign"' not in text and "states:startExecution" not in text


def test_next_status_and_invalid_transition() -> None:
    assert COURIER.next_status("reserved", "confirm") == "confirmed"
    assert COURIER.next_status("reserved", "expire") == "expired"
    with pytest.raises(InvalidTransition) as refused:
        COURIER.next_status("shipped", "cancel")
    assert refused.value.body() == {
        "error": "invalid_transition",
        "message": "event 'cancel' is not allowed in status 'shipped'",
        "status": "shipped",
        "allowed_events": ["deliver"],
    }
    assert set(COURIER.terminal_statuses) == {"delivered", "cancelled", "expired"}


def test_recovery_accepts_retry_and_cancel_only_where_the_workflow_allows_cancel() -> None:
    assert COURIER.recovery_events("packed") == {"retry": "packed", "cancel": "cancelled"}
    assert COURIER.recovery_events("shipped") == {"retry": "shipped"}
    retried = {c.get("StringEquals") for c in states("courier")["RetryFailedStep"]["Choices"]}
    assert set(COURIER.events()) <= retried


def test_every_hold_accepts_expire_and_releases() -> None:
    for wf in catalog().workflows.values():
        holds = [n for n, s in wf.statuses.items() if s.hold or n in ("reserved", "on_hold")]
        for name in holds:
            assert wf.statuses[wf.statuses[name].events["expire"]].stock == "release", (wf.name, name)
    assert workflow("reserve_in_store").statuses["held"].hold


def test_each_delivery_method_has_a_workflow_and_a_channel_may_have_its_own() -> None:
    assert {m: catalog().for_order(m, "web").name for m in DeliveryMethod} == {
        "courier": "courier",
        "pickup_point": "pickup_point",
        "post": "post",
        "click_collect": "click_collect",
        "reserve_in_store": "reserve_in_store",
        "ship_from_store": "ship_from_store",
        "marketplace": "marketplace",
    }


def _courier_source() -> dict:
    return yaml.safe_load((build.SOURCES / "courier.yaml").read_text())


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["statuses"]["picked"].pop("kpi"), "needs a `kpi`"),
        (lambda d: d["statuses"]["picked"]["events"].update(pack="nowhere"), "undeclared statuses"),
        (lambda d: d["statuses"]["reserved"]["events"].pop("expire"), "must accept `expire`"),
        (lambda d: d["statuses"]["picked"].update(on_timeout="teleport"), "neither `flag` nor one of its events"),
        (lambda d: d["statuses"]["picked"]["events"].update(cancel="delivered"), "leads to both"),
        (lambda d: d["statuses"]["cancelled"].update(kpi="1d"), "terminal status has no KPI"),
        (lambda d: d["statuses"]["picked"].update(deadline_from="ship_by"), "only on reserved/on_hold"),
        (lambda d: d["statuses"]["picked"].update(kpi="400d"), "longer than a Standard execution"),
        (lambda d: d["statuses"]["picked"].update(kpi="soon"), "String should match pattern"),
        (lambda d: d["statuses"]["packed"].update(stock="release"), "must be terminal"),
        (lambda d: d["statuses"].pop("on_hold"), "declare it"),
    ],
)
def test_the_schema_refuses_a_workflow_the_machine_could_not_run(edit, message) -> None:
    source = _courier_source()
    edit(source)
    with pytest.raises(ValidationError, match=message):
        Workflow.model_validate(source)


def test_a_channel_adds_a_status_with_yaml_only(tmp_path: Path) -> None:
    """An `app` courier workflow with a `labelled` status between packed and shipped: no Python changes."""
    for path in build.SOURCES.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    source = _courier_source()
    source.update(name="courier_app", channels=["app"])
    source["statuses"]["packed"]["events"] = {"label": "labelled", "cancel": "cancelled"}
    source["statuses"]["packed"].pop("requires")  # ship is labelled's now
    source["statuses"]["labelled"] = {"kpi": "1d", "events": {"ship": "shipped", "cancel": "cancelled"}}
    (tmp_path / "courier_app.yaml").write_text(yaml.safe_dump(source, sort_keys=False))

    workflows = {w.name: w for w in build.load_sources(tmp_path)}
    graph = build.build_asl(workflows["courier_app"])["States"]
    assert graph["RoutePacked"]["Choices"][0]["Next"] == "Labelled"
    assert graph["RouteLabelled"]["Choices"][0]["Next"] == "Shipped"
    assert build.build_asl(workflows["courier"]) == json.loads(build.asl_path("courier").read_text())  # unchanged
    from orders.domain.workflow import Catalog

    both = Catalog(workflows=workflows)
    assert both.for_order(DeliveryMethod.courier, "app").name == "courier_app"
    assert both.for_order(DeliveryMethod.courier, "web").name == "courier"


def test_a_second_general_workflow_for_a_method_is_refused(tmp_path: Path) -> None:
    for path in build.SOURCES.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    source = _courier_source()
    source["name"] = "courier_too"
    (tmp_path / "courier_too.yaml").write_text(yaml.safe_dump(source, sort_keys=False))
    with pytest.raises(ValidationError, match="exactly one workflow"):
        build.load_sources(tmp_path)


def test_ship_by_deadline_in_seconds_from_creation() -> None:
    market = workflow("marketplace")
    assert market.deadlines("2026-01-01T12:00:00Z", "2026-01-01T10:00:00Z") == {"on_hold": 7200, "reserved": 7200}
    assert market.deadlines("2025-12-31T00:00:00Z", "2026-01-01T10:00:00Z") == {"on_hold": 1, "reserved": 1}
    assert market.deadlines(None, "2026-01-01T10:00:00Z") == {"on_hold": 172800, "reserved": 172800}
    assert COURIER.deadlines("2026-01-01T12:00:00Z", "2026-01-01T10:00:00Z") == {}
