"""The local hub's state in and out of moto for `--state-dir` (the file itself: oms_local/state_dir.py;
the lifecycle entry: oms_local/resume.py).

Tables are read and written through moto's backend, not the DynamoDB API: a snapshot is a copy of
the items in memory (no scan pages, no serialisation round trip), and restored rows are loaded before
the stream readers start, so they are not announced again as stock changes. The stream records the
readers had not yet delivered are kept with the rows and delivered after the restart, as DynamoDB keeps
a stream's records for 24 hours: a reader may see a record twice (it was being delivered when the
snapshot was taken), never miss one.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer

from oms_build.workflows import logical_id as machine_of
from oms_local import resume
from oms_local.moto_patches import moto_lock
from oms_local.state_dir import Snapshot, StateDirError
from oms_local.template import ACCOUNT, LocalTemplate

if TYPE_CHECKING:
    from oms_local.runtime import LocalHub

ORDERS = "OrdersTable"
# For the open orders' fresh executions to reach their waits: moto parses the machine's definition at
# every execution start (about 0.3 s of CPU each, measured), so the allowance grows with their number.
RESUME_BASE_SECONDS, RESUME_SECONDS_PER_ORDER = 30.0, 2.0
SETTLE_SECONDS = 5.0  # on stop, for accepted events to finish applying before the last snapshot
_deserialize = TypeDeserializer().deserialize


def _tables(template: LocalTemplate) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[ACCOUNT][template.region]
    # Looked up each time: moto swaps in a copy of a table when a transaction on it fails.
    return {logical_id: backend.get_table(request["TableName"]) for logical_id, request in template.tables.items()}


def _secrets_prefix() -> str:
    return os.environ.get("SECRETS_PREFIX", "/oms-hub")


def capture(template: LocalTemplate, ssm: Any) -> Snapshot:
    """Every table's items and the channel secrets (read with the `ssm` client), copied; the caller
    holds moto's lock."""
    tables, streams = {}, {}
    for logical_id, table in _tables(template).items():
        tables[logical_id] = [item.to_json()["Attributes"] for item in table.all_items()]
        if table.stream_shard is not None and table.stream_shard.items:
            streams[logical_id] = [_undelivered(record.record) for record in table.stream_shard.items]
    secrets = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(
        Path=_secrets_prefix(), Recursive=True, WithDecryption=True
    ):
        secrets.update({parameter["Name"]: parameter["Value"] for parameter in page["Parameters"]})
    return Snapshot(tables=tables, secrets=secrets, streams=streams)


def _undelivered(record: dict[str, Any]) -> dict[str, Any]:
    """A stream record as the state file keeps it: its sequence number is given again on restore."""
    change = {key: value for key, value in record["dynamodb"].items() if key != "SequenceNumber"}
    change["ApproximateCreationDateTime"] = change["ApproximateCreationDateTime"].timestamp()
    return {**record, "dynamodb": change}


class _RestoredRecord:
    """A kept stream record back in its table's shard, read as moto's own records are."""

    def __init__(self, kept: dict[str, Any], sequence_number: int) -> None:
        change = {
            **kept["dynamodb"],
            "ApproximateCreationDateTime": datetime.fromtimestamp(kept["dynamodb"]["ApproximateCreationDateTime"], UTC),
            "SequenceNumber": str(sequence_number),
        }
        self.record: dict[str, Any] = {**kept, "dynamodb": change}

    def to_json(self) -> dict[str, Any]:
        return self.record


def restore(template: LocalTemplate, snapshot: Snapshot) -> None:
    """Load a snapshot into the freshly created tables; a row moto refuses stops the start."""
    import boto3

    tables = _tables(template)
    unknown = sorted((set(snapshot.tables) | set(snapshot.streams)) - set(tables))
    if unknown:
        # Starting would drop these rows at the next snapshot.
        raise StateDirError(f"the state dir holds tables template.yaml no longer declares: {', '.join(unknown)}")
    for logical_id, items in snapshot.tables.items():
        table = tables[logical_id]
        for number, snapshot_row in enumerate(items):
            # A task token belongs to an execution of the stopped process: it resumes no one now,
            # and resume_lifecycles waits for each open order's new one.
            attributes = (
                {key: value for key, value in snapshot_row.items() if key != "task_token"}
                if logical_id == ORDERS
                else snapshot_row
            )
            try:
                table.put_item(attributes, overwrite=True)
            except Exception as error:  # noqa: BLE001 - moto's validation errors have no common base
                raise StateDirError(
                    f"the state dir's {logical_id} row {number} cannot be restored: {type(error).__name__}: {error}"
                ) from None
        shard = table.stream_shard
        if shard is not None:  # loading the rows announces nothing; what was not yet delivered still is
            shard.starting_sequence_number += len(shard.items)
            shard.items.clear()
            for number, record in enumerate(snapshot.streams.get(logical_id, [])):
                try:
                    shard.items.append(_RestoredRecord(record, shard.starting_sequence_number + number))
                except (KeyError, TypeError, ValueError, OverflowError) as error:
                    raise StateDirError(
                        f"the state dir's {logical_id} stream record {number} cannot be restored: {error!r}"
                    ) from None
    ssm = boto3.client("ssm", region_name=template.region)
    for name, value in snapshot.secrets.items():
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def _orders(template: LocalTemplate) -> list[dict[str, Any]]:
    table = _tables(template)[ORDERS]
    with moto_lock:
        raw = [item.to_json()["Attributes"] for item in table.all_items()]
    return [{key: _deserialize(value) for key, value in attributes.items()} for attributes in raw]


def _workflows() -> dict[str, Any]:
    """The catalog the functions read (importing oms_build put their packages on the path)."""
    from orders.adapters.workflow_catalog import catalog

    return dict(catalog().workflows)


def resumable_definition(logical_id: str, definition: str) -> str:
    """A lifecycle machine's definition with the ResumeAt entry; other machines as they are."""
    for workflow in _workflows().values():
        if machine_of(workflow.name) == logical_id:
            return json.dumps(resume.resumable(json.loads(definition), workflow))
    return definition


def resume_lifecycles(hub: LocalHub) -> list[str]:
    """Start a fresh execution for every open order, wait until each waits again, and hand an event the
    snapshot caught half-applied back to its order. The ids resumed."""
    import boto3

    from orders.adapters import lifecycle_engine, order_table
    from orders.domain.records import execution_input

    flows = _workflows()
    orders = resume.open_orders(_orders(hub.template), flows)
    if not orders:
        return []
    sfn = boto3.client("stepfunctions", region_name=hub.template.region)
    prefix = os.environ["LIFECYCLE_ARN_PREFIX"]
    for order in orders:
        flow = flows[order["workflow"]]
        sfn.start_execution(
            stateMachineArn=prefix + order["workflow"],
            name=order["order_id"],
            input=json.dumps(resume.resume_input(order, flow, execution_input(order, flow)), sort_keys=True),
        )
    waiting = {order["order_id"]: order for order in orders}
    allowed = RESUME_BASE_SECONDS + RESUME_SECONDS_PER_ORDER * len(orders)
    deadline = time.monotonic() + allowed
    while waiting:
        current = {o["order_id"]: o for o in _orders(hub.template) if o.get("order_id") in waiting}
        for order_id, order in current.items():
            if order.get("task_token") and not order.get("pending_event"):
                del waiting[order_id]
        if not waiting:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{len(waiting)} restored orders did not resume within {allowed:.0f} s: {sorted(waiting)[:10]}"
            )
        time.sleep(0.05)
    for order in orders:
        event = order.get("pending_event")
        if not event:
            continue
        # The event was accepted (202) before the restart and had not been applied yet: apply it now.
        stored = order_table.get_order(order["order_id"]) or {}
        token, status = stored.get("task_token"), stored.get("status")
        if token and status and order_table.claim_token(order["order_id"], token, status, event):
            lifecycle_engine.resume(
                token,
                {"event": event, "source": resume.RESUMED_SOURCE, "note": "accepted before the local hub restarted"},
            )
    return [order["order_id"] for order in orders]


def settle_events(hub: LocalHub) -> None:
    """Give events being applied a few seconds to reach their next wait, so the last snapshot does not
    catch them half-way (a restart would still finish them, see resume_lifecycles)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while any(order.get("pending_event") for order in _orders(hub.template)) and time.monotonic() < deadline:
        time.sleep(0.05)
