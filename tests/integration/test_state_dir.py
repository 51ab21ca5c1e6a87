"""The state dir in process: what a snapshot can catch half-way (an event being applied, a failed step),
channel secrets, and what the lifecycle machines look like with and without a state dir."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from oms_build import workflows
from oms_local.runtime import LocalHub
from oms_local.state_dir import STATE_FILE, StateDirError
from tests.support.api import Api
from tests.support.builders import courier_order, one_warehouse


@contextmanager
def running(state: Path | None) -> Iterator[Api]:
    with LocalHub(state_dir=state) as hub:
        yield Api(hub)


def _edit_order(state: Path, order_id: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the saved order row as a snapshot taken at another moment would hold it."""
    path = state / STATE_FILE
    saved = json.loads(path.read_text())
    row = next(r for r in saved["tables"]["OrdersTable"] if r.get("order_id") == {"S": order_id})
    change(row)
    path.write_text(json.dumps(saved))


def _reserved_order(state: Path) -> str:
    with running(state) as api:
        one_warehouse(api, sku_units=4)
        created = api.post("/v1/orders", courier_order("ext-1", lines=[{"sku": "SKU-A", "qty": 1, "price": 10}]))
        assert created.status == 201 and created.body["status"] == "reserved"
        return created.body["order_id"]


def test_an_event_accepted_just_before_the_snapshot_is_applied_after_the_restart(tmp_path: Path) -> None:
    order_id = _reserved_order(tmp_path)

    def claimed(row: dict[str, Any]) -> None:  # what post_event leaves until the lifecycle writes the next status
        row.pop("task_token", None)
        row["pending_event"] = {"S": "confirm"}

    _edit_order(tmp_path, order_id, claimed)
    with running(tmp_path) as api:
        order = api.wait_for(order_id, "confirmed")
        assert order["timeline"][-1]["event"] == "confirm"
        api.event(order_id, "pick")
        api.wait_for(order_id, "picked")


def test_an_order_whose_step_had_failed_still_waits_for_the_operator(tmp_path: Path) -> None:
    order_id = _reserved_order(tmp_path)

    def failed(row: dict[str, Any]) -> None:
        row["attention"] = {"S": "lifecycle_failed"}
        row["last_error"] = {"S": "StockContention"}

    _edit_order(tmp_path, order_id, failed)
    with running(tmp_path) as api:
        order = api.order(order_id)
        assert (order["status"], order["attention"], order["last_error"]) == (
            "reserved",
            "lifecycle_failed",
            "StockContention",
        )
        refused = api.post(f"/v1/orders/{order_id}/events", {"event": "confirm"})
        assert refused.status == 409, refused.body  # only retry or cancel while it is flagged
        assert api.order(order_id)["status"] == "reserved"
        api.event(order_id, "retry")
        api.wait_for(order_id, "reserved")
        for _ in range(100):  # the retry clears the flag, then the order waits in its status again
            if not api.order(order_id).get("attention"):
                break
        assert api.order(order_id).get("attention") is None
        api.event(order_id, "confirm")
        api.wait_for(order_id, "confirmed")


def test_channel_secrets_survive_a_restart(tmp_path: Path) -> None:
    with running(tmp_path) as api:
        assert (
            api.put(
                "/v1/channels/mp",
                {
                    "kind": "ozon",
                    "name": "Ozon",
                    "secret": "s3cret-webhook-key",
                    "credentials": {"client_id": "1", "api_key": "k"},
                },
            ).status
            == 200
        )
        names = _secret_names(api)
        assert names, "the channel stored no secret"
    with running(tmp_path) as api:
        assert _secret_names(api) == names
        assert api.get("/v1/channels").body["items"][0]["channel_id"] == "mp"
    assert (tmp_path / STATE_FILE).stat().st_mode & 0o077 == 0  # partner credentials: owner only


def _secret_names(api: Api) -> dict[str, str]:
    import os

    ssm = boto3.client("ssm", region_name=api.hub.template.region)
    found = ssm.get_parameters_by_path(Path=os.environ["SECRETS_PREFIX"], Recursive=True, WithDecryption=True)
    return {p["Name"]: p["Value"] for p in found["Parameters"]}


def test_a_state_file_with_a_table_the_template_lacks_is_refused(tmp_path: Path) -> None:
    _reserved_order(tmp_path)
    path = tmp_path / STATE_FILE
    saved = json.loads(path.read_text())
    saved["tables"]["RetiredTable"] = [{"pk": {"S": "x"}}]
    path.write_text(json.dumps(saved))
    with pytest.raises(StateDirError, match="RetiredTable"):
        LocalHub(state_dir=tmp_path).start()
    assert json.loads(path.read_text()) == saved  # the failed start saved nothing over it
    with running(tmp_path / "other") as api:  # and the failed start left no hub half-running behind
        assert api.get("/v1/orders").body["items"] == []


def _offered(api: Api, sku: str = "SKU-A") -> int:
    answer = api.get("/v1/availability", f"channel=web&skus={sku}")
    assert answer.status == 200, answer.body
    return int(answer.body["items"][0]["available"])


def test_stock_changes_the_streams_had_not_delivered_when_the_hub_died_are_delivered_after_it(tmp_path: Path) -> None:
    crashed = tmp_path / "crashed"
    with LocalHub(state_dir=tmp_path / "running") as hub:
        api = Api(hub)
        one_warehouse(api, sku_units=4)
        hub.settle()
        assert _offered(api) == 4
        for source in hub.template.stream_sources:  # the readers fall behind, as under load
            hub.stream_reader(source.function).stop()
        assert api.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": 9}]}).status == 200
        hub.save()
        crashed.mkdir()
        # The file a kill -9 right after this snapshot leaves behind.
        (crashed / STATE_FILE).write_bytes((tmp_path / "running" / STATE_FILE).read_bytes())
    saved = json.loads((crashed / STATE_FILE).read_text())
    assert [r["eventName"] for r in saved["streams"]["StockTable"]] == ["MODIFY"]
    with LocalHub(state_dir=crashed) as hub:
        api = Api(hub)
        assert api.stock("SKU-A", "wh-1")["on_hand"] == 9
        hub.settle()
        assert _offered(api) == 9
        assert api.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": 2}]}).status == 200
        hub.settle()
        assert _offered(api) == 2  # the stream goes on after the records it was given back
    with LocalHub(state_dir=crashed) as hub:  # delivered before this stop: nothing is left to deliver
        assert json.loads((crashed / STATE_FILE).read_text()).get("streams", {}) == {}
        hub.settle()
        assert _offered(Api(hub)) == 2


def test_a_state_file_saved_before_streams_were_kept_still_starts(tmp_path: Path) -> None:
    order_id = _reserved_order(tmp_path)
    path = tmp_path / STATE_FILE
    saved = json.loads(path.read_text())
    saved.pop("streams")
    path.write_text(json.dumps(saved))
    with running(tmp_path) as api:
        assert api.order(order_id)["status"] == "reserved"


def test_a_state_file_with_a_broken_stream_record_is_refused(tmp_path: Path) -> None:
    _reserved_order(tmp_path)
    path = tmp_path / STATE_FILE
    saved = json.loads(path.read_text())
    saved["streams"] = {"StockTable": [{"eventName": "MODIFY"}]}
    path.write_text(json.dumps(saved))
    with pytest.raises(StateDirError, match="StockTable stream record 0"):
        LocalHub(state_dir=tmp_path).start()
    assert json.loads(path.read_text()) == saved


def test_a_save_interrupted_by_a_crash_leaves_the_last_snapshot(tmp_path: Path) -> None:
    order_id = _reserved_order(tmp_path)
    leftover = tmp_path / f".{STATE_FILE}.999.1.tmp"
    leftover.write_text('{"format": "oms-hub-local-state", "tabl')
    with running(tmp_path) as api:
        assert api.order(order_id)["status"] == "reserved"
    assert not leftover.exists()


def test_lifecycle_machines_are_the_template_ones_without_a_state_dir_and_gain_only_an_entry_with_one(
    tmp_path: Path,
) -> None:
    machines: dict[bool, dict[str, dict[str, Any]]] = {}
    for with_state in (False, True):
        with LocalHub(state_dir=tmp_path if with_state else None) as hub:
            client = boto3.client("stepfunctions", region_name=hub.template.region)
            created = {m["name"]: m["stateMachineArn"] for m in client.list_state_machines()["stateMachines"]}
            machines[with_state] = {}
            for logical_id, machine in hub.template.state_machines.items():
                described = client.describe_state_machine(stateMachineArn=created[machine["name"]])
                machines[with_state][logical_id] = json.loads(described["definition"])
                if not with_state:  # in memory: exactly the template's (generated) definition, as before
                    assert machines[with_state][logical_id] == json.loads(machine["definition"])
    lifecycles = {workflows.logical_id(w.name) for w in workflows.load_sources()}
    assert lifecycles <= machines[False].keys()
    for logical_id, plain in machines[False].items():
        resumable = machines[True][logical_id]
        if logical_id not in lifecycles:
            assert resumable == plain
            continue
        added = set(resumable["States"]) - set(plain["States"])
        assert "ResumeAt" in added and all(s == "ResumeAt" or s.startswith("ResumeFailed") for s in added)
        assert resumable["StartAt"] == plain["StartAt"]
        start = resumable["States"]["StartFromStatus"]
        # Intake's executions never send the marker status, so they take the same choices as before.
        assert start["Choices"][0] == {
            "Variable": "$.status",
            "StringEquals": "resume-after-restart",
            "Next": "ResumeAt",
        }
        assert start["Choices"][1:] == plain["States"]["StartFromStatus"]["Choices"]
        assert {k: v for k, v in resumable["States"].items() if k not in added | {"StartFromStatus"}} == {
            k: v for k, v in plain["States"].items() if k != "StartFromStatus"
        }


def test_a_duplicate_order_after_a_restart_reserves_nothing_more(tmp_path: Path) -> None:
    with running(tmp_path) as api:
        one_warehouse(api, sku_units=4)
        first = api.post("/v1/orders", courier_order("ext-dup", lines=[{"sku": "SKU-A", "qty": 3, "price": 10}]))
        assert first.status == 201
        before = api.stock("SKU-A", "wh-1")
        assert before == {"on_hand": 4, "reserved": 3, "available": 1}
    with running(tmp_path) as api:
        assert api.stock("SKU-A", "wh-1") == before
        again = api.post("/v1/orders", courier_order("ext-dup", lines=[{"sku": "SKU-A", "qty": 3, "price": 10}]))
        assert again.status == 200 and again.body["order_id"] == first.body["order_id"]
        assert again.body["status"] == "reserved"
        assert api.stock("SKU-A", "wh-1") == before
        assert len(api.get("/v1/orders").body["items"]) == 1


def test_an_event_is_applied_while_another_machine_starts_an_execution(api: Api) -> None:
    """moto hands a task token to its running executions in turn, and one whose worker is still parsing
    its definition (about 0.3 s after StartExecution) has no environment yet: the event failed with a 500
    whenever such an execution came first, as every restart's resumed executions and any intake do."""
    import os

    assert (
        api.put(
            "/v1/locations/wh-1", {"name": "Warehouse", "kind": "warehouse", "capabilities": ["courier", "post"]}
        ).status
        == 200
    )
    assert api.put("/v1/channels/web", {"kind": "web", "name": "Site"}).status == 200
    assert api.put("/v1/stock/wh-1", {"items": [{"sku": "SKU-A", "on_hand": 5}]}).status == 200
    line = [{"sku": "SKU-A", "qty": 1, "price": 10}]
    by_post = api.post(
        "/v1/orders", courier_order("post-1", lines=line, delivery={"method": "post", "address": "Kazan, Baumana 1"})
    )
    assert by_post.status == 201 and by_post.body["workflow"] == "post", by_post.body
    table = boto3.client("dynamodb", region_name=api.hub.template.region)
    key = {"pk": {"S": f"ORDER#{by_post.body['order_id']}"}}
    for _ in range(250):  # its execution waits with a token
        if "task_token" in table.get_item(TableName=os.environ["ORDERS_TABLE"], Key=key)["Item"]:
            break
        time.sleep(0.02)
    # The courier machine is listed before the post machine: its new execution is looked at first.
    assert api.post("/v1/orders", courier_order("courier-1", lines=line)).status == 201
    confirmed = api.post(f"/v1/orders/{by_post.body['order_id']}/events", {"event": "confirm"})
    assert confirmed.status == 202, confirmed.body
    api.wait_for(by_post.body["order_id"], "confirmed")
    assert api.stock("SKU-A", "wh-1") == {"on_hand": 5, "reserved": 2, "available": 3}
