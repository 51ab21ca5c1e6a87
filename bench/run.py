"""oms-hub benchmarks on the local runtime: AWS calls per request, lifecycle size, import time, cost.

Prints one figure per line as `name value unit`; lines starting with `#` say how a figure was counted.
Every figure except the import times is a count, so it does not depend on the machine.
Run from the repo root: `make bench` (bench/RESULTS.md explains the figures and their targets).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from cfn_tools import load_yaml

# The functions' metrics are not the bench's figures: off, and with the namespace powertools requires when
# a buffer of 100 fills (set before any function module makes its Metrics).
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "OmsHub")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
# The functions' JSON logs would drown the figures; a Logger reads its level when created, and the imports
# below create some before the hub sets POWERTOOLS_LOG_LEVEL from OMS_LOG_LEVEL.
os.environ.setdefault("OMS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", os.environ["OMS_LOG_LEVEL"])

from oms_local import demo  # after the environment above
from oms_local.gateway import HttpAnswer
from oms_local.invocation import running_function
from oms_local.runtime import LocalHub
from oms_local.template import TEMPLATE, load

FUNCTIONS = Path(TEMPLATE).parent / "functions"
sys.path.insert(0, str(FUNCTIONS))  # the functions import as top-level packages, as in Lambda

import deploy  # noqa: E402  (bench/deploy.py: template and CDK assembly counts)
import stock  # noqa: E402  (bench/stock.py: the inventory figures)

from common import aws as function_clients  # noqa: E402
from common.cost_model import LAMBDA_GB, LAMBDA_SECONDS, Usage, cost_per_1000  # noqa: E402
from reference import config_table  # noqa: E402

COURIER_EVENTS = ["confirm", "pick", "pack", "ship", "deliver"]
CANCEL_EVENTS = ["confirm", "cancel"]
IMPORT_RUNS = 9
WAIT_LIMIT_S = 15.0


def emit(name: str, value: float, unit: str) -> None:
    print(f"{name} {round(value, 6):g} {unit}", flush=True)


def note(text: str) -> None:
    print(f"# {text}", flush=True)


# ------------------------------------------------------------------ counting AWS calls


@dataclass(frozen=True)
class Call:
    thread: int
    function: str | None  # the function whose invocation made it (its own threads too), None for the rest
    service: str
    operation: str
    request: dict[str, Any]  # the JSON body, kept for DynamoDB (tables, items, consistency)

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"


class AwsCalls:
    """Every API call made through boto3's default session, whichever thread makes it.

    The functions and moto's Step Functions interpreter (which runs executions in background
    threads) both create their clients from that session, so one `before-call` hook sees them all.
    """

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._lock = threading.Lock()
        self._muted = threading.local()

    def install(self) -> None:
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("before-call", self._record)
        # A client copies the session's hooks when it is created: the functions must create theirs again.
        function_clients.reset()

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if getattr(self._muted, "on", False):
            return
        service = model.service_model.service_name
        body = json.loads(params["body"]) if service in ("dynamodb", "events") and params.get("body") else {}
        with self._lock:
            self._calls.append(Call(threading.get_ident(), running_function(), service, model.name, body))

    def take(self) -> list[Call]:
        """The calls recorded since the last take, from every thread."""
        with self._lock:
            taken, self._calls = self._calls, []
        return taken

    def take_own(self) -> list[Call]:
        """The calls this thread made since the last take (a request's own calls, not the lifecycle's)."""
        return [call for call in self.take() if call.thread == threading.get_ident()]

    def take_of(self, function: str) -> list[Call]:
        """The calls the function's invocations made since the last take, on whichever of their threads."""
        return [call for call in self.take() if call.function == function]

    @contextlib.contextmanager
    def muted(self) -> Iterator[None]:
        """The bench's own polling on this thread is not counted; other threads still are."""
        self._muted.on = True
        try:
            yield
        finally:
            self._muted.on = False


def operations(calls: list[Call]) -> str:
    return ", ".join(call.name for call in calls) or "none"


# ------------------------------------------------------------------ driving the hub


class Bench:
    def __init__(self, hub: LocalHub, calls: AwsCalls) -> None:
        self.hub = hub
        self.calls = calls
        self.headers = {"x-api-key": hub.api_key, "content-type": "application/json"}
        self.sfn = boto3.client("stepfunctions")
        self.dynamodb = boto3.client("dynamodb")
        self.executions = os.environ["ORDER_LIFECYCLE_ARN"].replace(":stateMachine:", ":execution:")

    def post(self, path: str, body: dict[str, Any]) -> HttpAnswer:
        return self.hub.http("POST", path, headers=self.headers, body=json.dumps(body).encode())

    def create_order(self, external_id: str) -> tuple[int, dict[str, Any]]:
        answer = self.post(
            "/v1/orders",
            {
                "channel": "web",
                "external_id": external_id,
                "customer": {"name": "Bench Customer"},
                "lines": [{"sku": "SKU-00001", "qty": 1, "price": 10}, {"sku": "SKU-00002", "qty": 2, "price": 5}],
                "delivery": {"method": "courier", "address": "Tverskaya 1, Moscow"},
                "payment": {"method": "prepaid"},
            },
        )
        order = json.loads(answer.body)
        if answer.status not in (200, 201) or order.get("status") != "reserved":
            raise RuntimeError(f"order {external_id} was not reserved: {answer.status} {answer.body[:300]!r}")
        return answer.status, order

    def send_event(self, order_id: str, event: str) -> None:
        answer = self.post(f"/v1/orders/{order_id}/events", {"event": event, "actor": "bench"})
        if answer.status != 202:
            raise RuntimeError(f"event {event} on {order_id} answered {answer.status}: {answer.body[:300]!r}")

    def execution_arn(self, order_id: str) -> str:
        return f"{self.executions}:{order_id}"

    def history(self, order_id: str) -> list[dict[str, Any]]:
        with self.calls.muted():
            pages = self.sfn.get_paginator("get_execution_history").paginate(executionArn=self.execution_arn(order_id))
            return [event for page in pages for event in page["events"]]

    def order_item(self, order_id: str) -> dict[str, Any]:
        with self.calls.muted():
            item: dict[str, Any] = self.dynamodb.get_item(
                TableName=os.environ["ORDERS_TABLE"], Key={"pk": {"S": f"ORDER#{order_id}"}}, ConsistentRead=True
            ).get("Item", {})
        return item

    def wait_until_waiting(self, order_id: str) -> None:
        """Until the lifecycle waits for the next event: the order holds a task token and no pending event.

        The same test the API makes before it accepts an event, read from the item itself (GET does not
        show the token), so a counted event never spends calls waiting for the lifecycle to catch up.
        """

        def waiting() -> bool:
            item = self.order_item(order_id)
            return "task_token" in item and "pending_event" not in item

        self._poll(waiting, f"the lifecycle of {order_id} to wait for an event")

    def wait_until_finished(self, order_id: str, status: str) -> None:
        """Poll GET until the order shows `status`, then until its execution has ended."""

        def order_shows() -> bool:
            with self.calls.muted():
                answer = self.hub.http("GET", f"/v1/orders/{order_id}", headers=self.headers)
            shown: str | None = json.loads(answer.body).get("status")
            return shown == status

        def execution_ended() -> bool:
            with self.calls.muted():
                execution_status: str = self.sfn.describe_execution(executionArn=self.execution_arn(order_id))["status"]
            return execution_status != "RUNNING"

        self._poll(order_shows, f"order {order_id} to become {status}")
        self._poll(execution_ended, f"execution {order_id} to end")

    def order_item_bytes(self, order_id: str) -> int:
        return item_bytes(self.order_item(order_id))

    @staticmethod
    def _poll(done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_LIMIT_S
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting for {what}")
            time.sleep(0.05)


def item_bytes(item: dict[str, Any]) -> int:
    """Size of an item (attribute values) by DynamoDB's item-size rules (what request units are billed on)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, Any]) -> int:
    """Size of one attribute value by DynamoDB's item-size rules (what request units are billed on)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return math.ceil(len(inner.lstrip("-").replace(".", "")) / 2) + 1
    if kind == "M":
        return 3 + sum(len(name.encode()) + _value_bytes(v) + 1 for name, v in inner.items())
    if kind == "L":
        return 3 + sum(_value_bytes(v) + 1 for v in inner)
    if kind == "SS":
        return sum(len(text.encode()) for text in inner)
    return 1  # BOOL, NULL


# ------------------------------------------------------------------ 1. intake


def intake(bench: Bench) -> str:
    """Returns the warm order, reserved and waiting for `confirm`."""
    calls = bench.calls
    # A new container: no clients, no channels or locations cached (the demo load warmed this process).
    function_clients.reset()
    config_table.forget()
    calls.take()
    _, first = bench.create_order("bench-cold")
    cold = calls.take_own()
    _, order = bench.create_order("bench-warm")
    warm = calls.take_own()
    # A retry seconds later finds the lifecycle waiting; settled executions also keep later counts clean.
    bench.wait_until_waiting(first["order_id"])
    bench.wait_until_waiting(order["order_id"])
    calls.take()
    status, _ = bench.create_order("bench-warm")
    duplicate = calls.take_own()
    if status != 200:
        raise RuntimeError(f"re-posted order answered {status}, expected 200")

    emit("intake_aws_calls_per_order", len(warm), "calls")
    emit("intake_aws_calls_cold", len(cold), "calls")
    emit("intake_aws_calls_duplicate", len(duplicate), "calls")
    note("counted: before-call hook on boto3's default session, calls on the request's own thread only")
    note(f"warm: {operations(warm)}")
    note(f"cold: {operations(cold)}")
    note(f"duplicate (lifecycle already waiting): {operations(duplicate)}")
    order_id: str = order["order_id"]
    return order_id


# ------------------------------------------------------------------ 4. operator events


def events(bench: Bench, order_id: str) -> None:
    """`confirm` on a freshly reserved order whose execution waits at AwaitConfirm."""
    bench.wait_until_waiting(order_id)
    bench.calls.take()
    bench.send_event(order_id, "confirm")
    own = bench.calls.take_own()
    bench.wait_until_waiting(order_id)  # let its lifecycle settle before the next figure counts every thread
    bench.calls.take()
    emit("events_aws_calls_per_event", len(own), "calls")
    note(f"event confirm: {operations(own)}")


# ------------------------------------------------------------------ 2. lifecycle


@dataclass(frozen=True)
class Lifecycle:
    transitions: int
    lambda_invocations: int
    api_requests: int  # orders API invocations: the intake plus one per event
    calls: list[Call]  # every thread, from the intake to the end of the execution
    order_item_bytes: int
    stream_invocations: int  # StockChangesFunction batches from the stock rows the order moved


def lifecycle(bench: Bench, external_id: str, event_names: list[str], final_status: str) -> Lifecycle:
    bench.hub.settle()
    stream_before = bench.hub.stream_reader("StockChangesFunction").invocations
    bench.calls.take()
    _, order = bench.create_order(external_id)
    order_id = order["order_id"]
    for event in event_names:
        bench.wait_until_waiting(order_id)  # an operator acts once the order shows its new status
        bench.send_event(order_id, event)
    bench.wait_until_finished(order_id, final_status)
    reader = bench.hub.stream_reader("StockChangesFunction")
    bench.hub.settle()  # the stock stream's reader has announced what the order moved
    calls = bench.calls.take()
    history = bench.history(order_id)
    # Standard workflows bill every state entered. `lambda:invoke` tasks appear as TaskScheduled with
    # resourceType "lambda" (LambdaFunctionScheduled is only for tasks whose Resource is a bare function ARN).
    transitions = sum(1 for e in history if e["type"].endswith("StateEntered"))
    invocations = sum(
        1
        for e in history
        if e["type"] == "LambdaFunctionScheduled"
        or (e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resourceType"] == "lambda")
    )
    invoked = sum(1 for call in calls if call.name == "lambda.Invoke")
    if invoked != invocations:
        raise RuntimeError(f"history shows {invocations} Lambda invocations but {invoked} Invoke calls were made")
    return Lifecycle(
        transitions,
        invocations,
        1 + len(event_names),
        calls,
        bench.order_item_bytes(order_id),
        reader.invocations - stream_before,
    )


def lifecycles(bench: Bench) -> Lifecycle:
    courier = lifecycle(bench, "bench-courier", COURIER_EVENTS, "delivered")
    cancel = lifecycle(bench, "bench-cancel", CANCEL_EVENTS, "cancelled")
    emit("lifecycle_state_transitions_per_order", courier.transitions, "transitions")
    emit("lifecycle_lambda_invocations_per_order", courier.lambda_invocations, "invocations")
    emit("lifecycle_cancel_state_transitions_per_order", cancel.transitions, "transitions")
    emit("lifecycle_cancel_lambda_invocations_per_order", cancel.lambda_invocations, "invocations")
    note("transitions: execution-history events whose type ends with StateEntered")
    note(
        "lambda: TaskScheduled events with resourceType lambda (+ LambdaFunctionScheduled, none here); "
        "equal to the lambda.Invoke calls the hook saw"
    )
    note(f"courier path: {' '.join(COURIER_EVENTS)}; cancel path: {' '.join(CANCEL_EVENTS)}")
    return courier


# ------------------------------------------------------------------ 3. import time


def import_times() -> None:
    """Cold import in a fresh interpreter, with each HTTP function's environment and code root, against a
    bare `import boto3`: wall time (what a cold start waits) and CPU time (steadier on a busy machine)."""
    template = load(TEMPLATE)
    runtime = load_yaml(Path(TEMPLATE).read_text())["Globals"]["Function"]["Runtime"]

    def environment(function: str) -> dict[str, str]:
        fn, region = template.functions[function], template.region
        return {
            "PATH": os.environ.get("PATH", ""),
            **fn.environment,
            "PYTHONPATH": str(fn.code_dir),
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
            "LAMBDA_TASK_ROOT": str(fn.code_dir),
            "_HANDLER": fn.handler,
        }

    def once(module: str, env: dict[str, str]) -> tuple[float, float]:
        code = (
            "import time; t, c = time.perf_counter(), time.process_time(); "
            f"import {module}; print(time.perf_counter() - t, time.process_time() - c)"
        )
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        wall, cpu = done.stdout.split()
        return float(wall) * 1000, float(cpu) * 1000

    functions = {"handler": "OrdersApiFunction", "delivery_handler": "DeliveryApiFunction"}
    cases = {"boto3": ("boto3", environment("OrdersApiFunction"))} | {
        name: (template.functions[fn].handler.rpartition(".")[0], environment(fn)) for name, fn in functions.items()
    }
    for module, env in cases.values():
        once(module, env)  # writes the bytecode caches; a deployment package ships them
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(IMPORT_RUNS):  # interleaved, so drift in machine load hits all alike
        for name, (module, env) in cases.items():
            runs[name].append(once(module, env))
    wall = {name: statistics.median(w for w, _ in times) for name, times in runs.items()}
    cpu = {name: statistics.median(c for _, c in times) for name, times in runs.items()}
    emit("boto3_import_ms", wall["boto3"], "ms")
    for name in functions:
        emit(f"{name}_import_ms", wall[name], "ms")
        emit(f"{name}_import_ratio", wall[name] / wall["boto3"], "x")
        emit(f"{name}_import_cpu_ratio", cpu[name] / cpu["boto3"], "x")
    note(
        f"median of {IMPORT_RUNS} fresh `python -c` runs each, interleaved: the orders and delivery APIs' "
        "handler modules vs `import boto3`, in the function's Lambda environment from template.yaml"
    )


# ------------------------------------------------------------------ 5. cost


def request_units(calls: list[Call], order_item_kb: int) -> tuple[float, float]:
    """(WRU, RRU) of the DynamoDB calls, on-demand rules, approximated.

    Writes: 1 WRU per KB of the item (2 per item in a transaction); the order is billed at its final
    size, every other item (stock, reservation) is under 1 KB. Reads: 1 RRU strongly consistent,
    0.5 eventually consistent, per item read (every read here is under 4 KB). Index writes are not counted.
    """
    orders_table = os.environ["ORDERS_TABLE"]

    def write_kb(request: dict[str, Any]) -> int:
        return order_item_kb if request["TableName"] == orders_table else 1

    wru = rru = 0.0
    for call in calls:
        if call.service != "dynamodb":
            continue
        body = call.request
        if call.operation in ("PutItem", "UpdateItem", "DeleteItem"):
            wru += write_kb(body)
        elif call.operation == "TransactWriteItems":
            wru += sum(2 * write_kb(next(iter(item.values()))) for item in body["TransactItems"])
        elif call.operation in ("GetItem", "Query"):
            rru += 1 if body.get("ConsistentRead") else 0.5
        elif call.operation == "BatchGetItem":
            rru += sum(len(r["Keys"]) * (1 if r.get("ConsistentRead") else 0.5) for r in body["RequestItems"].values())
        elif call.operation == "BatchWriteItem":  # dirty marks: items well under 1 KB
            wru += sum(len(requests) for requests in body["RequestItems"].values())
        else:
            raise ValueError(f"no request-unit rule for {call.name}")
    return wru, rru


def usage(run: Lifecycle) -> Usage:
    """What one order path used of each priced service (Lambda at LAMBDA_SECONDS per invocation)."""
    wru, rru = request_units(run.calls, math.ceil(run.order_item_bytes / 1024))
    lambda_requests = run.api_requests + run.lambda_invocations + run.stream_invocations
    events = sum(len(call.request.get("Entries", [])) or 1 for call in run.calls if call.name == "events.PutEvents")
    return Usage(run.transitions, lambda_requests, lambda_requests * LAMBDA_GB * LAMBDA_SECONDS, wru, rru, events)


def cost_parts(run: Lifecycle) -> dict[str, float]:
    """USD per 1,000 orders of one order path, by service, at common.cost_model's list prices (this path
    sends no email and no SQS request: those parts are left out)."""
    parts = cost_per_1000(usage(run))
    return {part: parts[part] for part in ("sfn", "lambda", "dynamodb", "events")}


def cost(courier: Lifecycle) -> None:
    used = usage(courier)
    wru, rru, lambda_requests = used.wru, used.rru, used.lambda_requests
    per_1000 = cost_parts(courier)
    emit("cost_per_1000_orders_usd", sum(per_1000.values()), "usd")
    for part, usd in per_1000.items():
        emit(f"cost_{part}_per_1000_orders_usd", usd, "usd")
    ddb = Counter(call.operation for call in courier.calls if call.service == "dynamodb")
    note(
        "courier happy path at us-east-1 list prices: Step Functions Standard $0.025/1k transitions; "
        "Lambda $0.20/1M requests + $0.0000133334/GB-s (512 MB arm64, assumed 100 ms each); "
        "DynamoDB on-demand $0.625/1M WRU, $0.125/1M RRU"
    )
    note(
        f"lambda requests per order: {courier.api_requests} orders API (intake + {courier.api_requests - 1} events) "
        f"+ {courier.lambda_invocations} lifecycle task + {courier.stream_invocations} stock-stream batches "
        f"(one order alone; batches of up to 500 row changes are shared by many orders at peak) = {lambda_requests}"
    )
    note(
        f"dynamodb per order, all threads, intake to end of execution: {wru:g} WRU, {rru:g} RRU from "
        + ", ".join(f"{op} x{n}" for op, n in sorted(ddb.items()))
        + f"; order item {courier.order_item_bytes} B at the end"
    )


def main() -> None:
    started = time.monotonic()
    import_times()
    calls = AwsCalls()
    with LocalHub() as hub:
        demo.load(hub)
        calls.install()
        bench = Bench(hub, calls)
        events(bench, intake(bench))
        cost(lifecycles(bench))
        __import__("sourcing").run(bench)  # bench/sourcing.py: sourcing, promise, substitution
        # bench/lifecycles.py: every workflow's happy path with its actions; last on this hub, since its
        # marketplace channels stay (without api_url) and a channel adds to every later stock change
        __import__("lifecycles").report(bench)
    __import__("execution_start").main(emit)  # bench/execution_start.py: moto's start against the runtime's
    __import__("idle").main(emit)  # bench/idle.py: an idle hub's CPU share
    __import__("load").main(emit)  # bench/load.py: oms-hub local, 8 clients to 10,000 open orders; flat intake
    stock.main(calls, emit, note)
    __import__("catalog_import").main(calls, emit, note)  # bench/catalog_import.py: a 100,000-product CSV import
    __import__("sla").main(calls, emit, note)  # bench/sla.py: SLA monitor runs with 100,000 open orders, 1 % due
    __import__("partner_connectors").main()
    __import__("marketplace_push").main()  # bench/marketplace_push.py: 100,000 SKUs pushed to 3 marketplaces
    deploy.figures()
    note(f"bench took {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
