"""What a lifecycle execution's start costs on the local runtime, with moto's own start (the grammar and a
program at every start) and with the runtime's (one program per definition), interleaved in one run."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from oms_local.runtime import LocalHub

RUNS = 8  # of each kind
ENTRYPOINT = "_get_evaluation_entrypoint"  # where a worker gets its program: the runtime's patch replaces it


def _parse_every_start(worker: Any) -> Any:
    """moto's own start: the definition through the ANTLR grammar at every execution."""
    return AmazonStateLanguageParser.parse(worker._evaluation_details.state_machine_details.definition)[0]


def main(emit: Callable[[str, float, str], None]) -> None:
    with LocalHub():
        one_parse = ExecutionWorker._get_evaluation_entrypoint
        sfn = boto3.client("stepfunctions")
        courier = next(
            m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if m["name"].endswith("courier")
        )
        seconds: dict[str, list[float]] = {"moto": [], "runtime": []}
        try:
            for run in range(2 * RUNS):
                kind = "moto" if run % 2 else "runtime"
                setattr(ExecutionWorker, ENTRYPOINT, _parse_every_start if kind == "moto" else one_parse)
                # An order the table does not hold: the execution's first write fails and it ends at once,
                # so the time is the start (parse, program) plus a few states.
                started = time.perf_counter()
                arn = sfn.start_execution(
                    stateMachineArn=courier, name=f"bench-start-{run}", input=json.dumps({"order_id": f"none-{run}"})
                )["executionArn"]
                while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
                    time.sleep(0.005)
                seconds[kind].append(time.perf_counter() - started)
        finally:
            setattr(ExecutionWorker, ENTRYPOINT, one_parse)
    for kind, values in seconds.items():
        emit(f"execution_start_{kind}_ms", round(statistics.median(values) * 1000), "ms")
