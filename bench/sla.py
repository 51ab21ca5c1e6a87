"""SLA monitor figures (issue 15, docs/sla.md): what one run reads and calls with many open orders of which 1 %
are due, the AWS calls of one escalation, and the monitor's cost per month at one run a minute.

The open orders are copies of one order taken over HTTP, written straight into the orders table with
BatchWriteItem (set-up, not measured), spread over every waiting status of every workflow in the catalog, both
demo stores and the warehouse, the web channel and a marketplace one (with its ship-by). Each copy carries what
the monitor would have left on it at its last look (its `sla` plan, the checks done, the tiers' tasks, its next
look on BySlaCheck), planned with the monitor's own planner (sla_monitor.domain.plan). Of the due copies, half
have a tier due (a warning, an escalation or a breach, told by email and webhook) and half have just entered a
new status (the stay they left is recorded, its task closed, the due list moved, the new entry planned). Each
run is SlaMonitorFunction's handler as its schedule fires it (LocalHub.fire_schedules), on this thread.

Called by bench/run.py (`make bench`) with its hook on boto3's calls; alone: `python bench/sla.py [open ...]`.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

import run as base  # noqa: E402  (bench/run.py, first: it sets the functions' log level before they load)

from common import aws as function_clients  # noqa: E402
from common import cost_model  # noqa: E402
from common.clock import utc_text  # noqa: E402
from common.config import settings  # noqa: E402
from common.dynamo import batch_put, from_item  # noqa: E402
from oms_local import demo  # noqa: E402
from oms_local.invocation import running_function  # noqa: E402
from oms_local.runtime import LocalHub  # noqa: E402
from oms_local.template import TEMPLATE, load  # noqa: E402
from orders.adapters.workflow_catalog import catalog  # noqa: E402
from orders.domain.workflow import Workflow  # noqa: E402
from sla_monitor.domain.plan import Check, EntryPlan, fulfilling_location, plan_entry, sla_task_id  # noqa: E402
from sla_monitor.use_cases.monitor import LOOKERS  # noqa: E402
from tests.fakes.server import serve  # noqa: E402
from tests.fakes.staff_webhook import PATH, FakeStaffWebhook  # noqa: E402

SIZES = (20_000, 100_000)  # open orders, one run each on the same hub (the table grows between them)
DUE_SHARE = 0.01
FUNCTION = "SlaMonitorFunction"
SCAN = f"{FUNCTION}.Scan"
INDEX = "BySlaCheck"
RUNS_PER_MONTH = 30 * 24 * 60  # rate(1 minute)
IN_STORE = frozenset({"click_collect", "reserve_in_store", "ship_from_store"})
STORES, WAREHOUSE = ("msk-store-tverskaya", "spb-store-nevsky"), "msk-wh-1"
MARKETPLACE = "ozon"
SECRET = "whsec-bench-0123456789"  # noqa: S105 - the bench receiver's
SENDER = "orders@bench.example"
ROLES = ("store_staff", "store_manager", "ops")  # every role the shipped ladders name
SHIP_BY_AFTER = timedelta(hours=30)  # a marketplace copy's ship-by after its entry
SINCE_RUN = timedelta(seconds=30)  # how long before the run a due copy's check came (runs are a minute apart)
CREATED_BEFORE = timedelta(minutes=5)  # a copy's intake before its entry (no `start` check is left)
# Lambda time of a run, for its GB-s (the local wall time is moto's, not Lambda's): a base per invocation plus
# the calls it waits for at in-region latencies, and each webhook post at a chat tool's. Assumptions.
BASE_SECONDS = 0.1
CALL_SECONDS = {"dynamodb": 0.008, "ssm": 0.01, "sesv2": 0.05, "states": 0.02}
WEBHOOK_SECONDS = 0.1
RRU_BYTES, WRU_BYTES = 4096, 1024

Emit = Callable[[str, float, str], None]
Note = Callable[[str], None]


# ------------------------------------------------------------------ counting


class ItemsRead:
    """Hooks on boto3's default session: the items each Query and BatchGetItem answered the function, by what
    they are (BySlaCheck's keys, orders, other reads such as the role contacts), and their sizes (read request
    units are billed on them)."""

    def __init__(self, function: str) -> None:
        self._function = function
        self.items: Counter[str] = Counter()
        self.query_bytes: list[int] = []  # per Query page
        self.got_bytes: list[int] = []  # per item BatchGetItem returned

    def install(self) -> None:
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("before-parameter-build.dynamodb.Query", self._index)
        boto3.DEFAULT_SESSION.events.register("after-call.dynamodb", self._record)
        function_clients.reset()  # a client copies the session's hooks when it is made

    @staticmethod
    def _index(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_index"] = params.get("IndexName")  # the request's context reaches its after-call

    def _record(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if running_function() != self._function:
            return
        if model.name == "Query":
            found = parsed.get("Items", [])
            self.query_bytes.append(sum(base.item_bytes(item) for item in found))
            self.items["index_keys" if context.get("bench_index") == INDEX else "other"] += len(found)
        elif model.name == "BatchGetItem":
            for table, found in parsed.get("Responses", {}).items():
                self.items["orders" if table == settings().orders_table else "other"] += len(found)
                self.got_bytes += [base.item_bytes(item) for item in found]

    def take(self) -> Read:
        taken = Read(self.items, self.query_bytes, self.got_bytes)
        self.items, self.query_bytes, self.got_bytes = Counter(), [], []
        return taken


@dataclass(frozen=True)
class Read:
    items: Counter[str]
    query_bytes: list[int]
    got_bytes: list[int]


@dataclass(frozen=True)
class Run:
    """One monitor run: its outcome, AWS calls (the function's), items read, webhook posts, local wall time; the
    thread the run started on (its own Queries and reads; the looks run on LOOKERS threads of their own)."""

    outcome: dict[str, int]
    calls: list[base.Call]
    read: Read
    posts: int
    seconds: float
    thread: int

    @property
    def items_read(self) -> int:
        return sum(self.read.items.values())

    def count(self, service: str, operation: str | None = None) -> int:
        return sum(1 for c in self.calls if c.service == service and operation in (None, c.operation))

    def emails(self) -> int:
        return self.count("sesv2", "SendEmail")

    def lambda_seconds(self) -> float:
        """The run's own waits (the due lists' Queries, the orders' reads) one after another, then the looks'
        waits (their calls and webhook posts) spread evenly over the LOOKERS threads."""
        own = sum(CALL_SECONDS.get(call.service, 0.01) for call in self.calls if call.thread == self.thread)
        looks = sum(CALL_SECONDS.get(call.service, 0.01) for call in self.calls if call.thread != self.thread)
        looks += WEBHOOK_SECONDS * self.posts
        looked = sum(self.outcome.get(kind, 0) for kind in ("planned", "moved", "taken"))
        return BASE_SECONDS + own + looks / max(1, min(LOOKERS, looked))

    def request_units(self) -> tuple[float, float]:
        """(WRU, RRU), on-demand rules. Reads: a Query by the size of its page (BySlaCheck is eventually
        consistent: half), BatchGetItem per item by its size (strongly consistent). Writes: an order by its
        size (the largest read) and BySlaCheck's keys (2 when sla_next_at moves, 1 when it is removed); a
        task 1 and its ByState copy 1; an SlaTable item 1 (all under 1 KB)."""
        order_kb = math.ceil(max(self.read.got_bytes, default=WRU_BYTES) / WRU_BYTES)
        rru = sum(0.5 * max(1, math.ceil(size / RRU_BYTES)) for size in self.read.query_bytes)
        rru += sum(math.ceil(size / RRU_BYTES) for size in self.read.got_bytes)
        wru = 0.0
        orders, tasks = settings().orders_table, settings().tasks_table
        for call in self.calls:
            if call.service != "dynamodb" or call.operation not in ("UpdateItem", "PutItem", "DeleteItem"):
                continue
            table, expression = call.request["TableName"], call.request.get("UpdateExpression", "")
            if table == orders:
                moved = "sla_next_at = " in expression
                wru += order_kb + (2 if moved else 1 if "sla_next_at" in expression else 0)
            else:
                wru += 2 if table == tasks else 1
        return wru, rru

    def cost_parts(self, gb: float) -> dict[str, float]:
        """USD of this run repeated every minute for a month, by service, the function at `gb` of memory."""
        wru, rru = self.request_units()
        per_run = {
            "lambda": cost_model.LAMBDA_USD_PER_REQUEST + gb * self.lambda_seconds() * cost_model.LAMBDA_USD_PER_GB_S,
            "dynamodb": wru * cost_model.DYNAMODB_USD_PER_WRU + rru * cost_model.DYNAMODB_USD_PER_RRU,
            "ses": self.emails() * cost_model.SES_USD_PER_EMAIL,
        }
        return {part: usd * RUNS_PER_MONTH for part, usd in per_run.items()}


# ------------------------------------------------------------------ the open orders


@dataclass(frozen=True)
class Place:
    """Where a copy waits: its workflow, status, channel and the location that fulfils it."""

    flow: Workflow
    status: str
    channel: str
    location: str

    def hard_seconds(self) -> int | None:
        """The state machine's own deadline when its timeout moves the order (None for `flag`)."""
        terms = self.flow.statuses[self.status]
        return None if terms.on_timeout == "flag" else terms.timeout_seconds()

    def before_hard_deadline(self, after: timedelta) -> bool:
        """Whether a check `after` the entry comes while the order can still be here."""
        hard = self.hard_seconds()
        return hard is None or after < timedelta(seconds=hard)

    def before(self) -> Place | None:
        """The same place one status earlier (a status an event leads here from), if there is one."""
        for name, terms in self.flow.statuses.items():
            if self.status in terms.events.values() and name != self.status:
                return Place(self.flow, name, self.channel, self.location)
        return None


def places() -> list[Place]:
    """Every waiting status of every workflow, at both stores or the warehouse; marketplace orders on Ozon."""
    found = []
    for flow in catalog().workflows.values():
        methods = {str(method) for method in flow.delivery_methods}
        channel = MARKETPLACE if flow.name == "marketplace" else "web"
        for status, terms in flow.statuses.items():
            if not terms.terminal:
                found += [Place(flow, status, channel, loc) for loc in (STORES if methods & IN_STORE else (WAREHOUSE,))]
    return found


class Copies:
    """Open orders made from one order item, each as the monitor's last look left it, all judged at `now`."""

    def __init__(self, template: dict[str, Any], now: datetime) -> None:
        self.template = template
        self.now = now
        self.places = places()
        self.made = 0
        # Every tier a copy may have due: those before the hard deadline of a status whose timeout moves the order.
        self.tiers = [
            (place, check.name)
            for place in self.places
            for check in self._order(place, now, count=False)[1].checks
            if check.tier and place.before_hard_deadline(check.at - now)
        ]
        self.movers = [(place, earlier) for place in self.places if (earlier := place.before()) is not None]

    def waiting(self, n: int) -> dict[str, Any]:
        """Not due: somewhere within its status's KPI, every check until now done, the next one later."""
        place = self.places[n % len(self.places)]
        kpi = place.flow.statuses[place.status].timeout_seconds()
        entered = self.now - timedelta(seconds=60 + (n * 7919) % max(kpi - 120, 1))
        order, plan = self._order(place, entered)
        return self._looked_at(order, plan, {c.name for c in plan.checks if c.at <= self.now})

    def tier_due(self, n: int) -> dict[str, Any]:
        """A tier came due since the last run: each place's tiers in turn."""
        return self.with_tier_due(*self.tiers[n % len(self.tiers)])

    def with_tier_due(self, place: Place, tier: str) -> dict[str, Any]:
        """The order at `place` whose `tier` came due since the last run, the tiers before it fired."""
        after = _check(self._order(place, self.now, count=False)[1], tier).at - self.now
        order, plan = self._order(place, self.now - after - SINCE_RUN)
        due = _check(plan, tier).at
        return self._looked_at(order, plan, {c.name for c in plan.checks if c.at < due})

    def moved_on(self, n: int) -> dict[str, Any]:
        """Entered its status since the last run, from the one before, halfway through that one's KPI."""
        place, earlier = self.movers[n % len(self.movers)]
        entered = self.now - SINCE_RUN
        left_from = entered - timedelta(seconds=earlier.flow.statuses[earlier.status].timeout_seconds() // 2)
        order, plan = self._order(earlier, left_from)
        order = self._looked_at(order, plan, {c.name for c in plan.checks if c.at <= entered})
        order.pop("sla_fired", None)  # every status entry clears it
        order.update(
            status=place.status,
            channel_status=f"{place.channel}#{place.status}",
            status_since=utc_text(entered),
            updated_at=utc_text(entered),
            sla_next_at=utc_text(entered),
            timeline=[*order["timeline"], self._entry(place.status, entered)],
        )
        return order

    def _order(self, place: Place, entered: datetime, *, count: bool = True) -> tuple[dict[str, Any], EntryPlan]:
        n = self.made
        self.made += count
        order_id = f"ord_benchsla{n:016d}"
        created = entered - CREATED_BEFORE
        delivery = {"method": str(place.flow.delivery_methods[0]), "address": "Tverskaya 1, Moscow"}
        if place.location != WAREHOUSE:
            delivery["location_id"] = place.location
        order = {
            **self.template,
            "pk": f"ORDER#{order_id}",
            "order_id": order_id,
            "external_id": f"bench-sla-{n}",
            "channel": place.channel,
            "workflow": place.flow.name,
            "status": place.status,
            "channel_status": f"{place.channel}#{place.status}",
            "delivery": delivery,
            "allocations": [{**a, "location_id": place.location} for a in self.template["allocations"]],
            "created_at": utc_text(created),
            "created_key": f"{utc_text(created)}#{order_id}",
            "status_since": utc_text(entered),
            "updated_at": utc_text(entered),
            "sla_lane": place.flow.name,
            "timeline": [self._entry(place.status, entered)],
        }
        if place.channel == MARKETPLACE:
            order["ship_by"] = utc_text(entered + SHIP_BY_AFTER)
        sla = place.flow.sla_for(place.status, place.channel, fulfilling_location(order))
        return order, plan_entry(order, sla, place.hard_seconds())

    def _entry(self, status: str, at: datetime) -> dict[str, Any]:
        return {**self.template["timeline"][0], "status": status, "at": utc_text(at)}

    def _looked_at(self, order: dict[str, Any], plan: EntryPlan, done: set[str]) -> dict[str, Any]:
        """The order as a look that did `done` leaves it: the plan, the tiers' tasks, the next look (none: off
        the index's range, as when nothing is left of the entry)."""
        order["sla"] = plan.record()
        if done:
            order["sla_fired"] = done
        tasks = {
            sla_task_id(order["order_id"], plan.entered_at, c.role) for c in plan.checks if c.tier and c.name in done
        }
        if tasks:
            order["sla_tasks"] = tasks
        next_at = plan.next_at(done, self.now, unsent=False)
        if next_at is not None:
            order["sla_next_at"] = utc_text(next_at)
        return order


def _check(plan: EntryPlan, name: str) -> Check:
    found = plan.check(name)
    if found is None:
        raise LookupError(f"no check {name} in {plan}")
    return found


def fill(copies: Copies, open_orders: int, due: int) -> None:
    """Write `open_orders` copies, `due` of them due (half a tier, half a new entry), the rest waiting."""
    rows = [copies.tier_due(n) if n % 2 else copies.moved_on(n) for n in range(due)]
    rows += [copies.waiting(n) for n in range(open_orders - due)]
    batch_put(boto3.client("dynamodb"), settings().orders_table, rows)


# ------------------------------------------------------------------ the hub


def template_order(hub: LocalHub) -> dict[str, Any]:
    """A courier order taken over HTTP, as stored; taken off the table so that only the copies are watched."""
    headers = {"x-api-key": hub.api_key, "content-type": "application/json"}
    body = {
        "channel": "web",
        "external_id": "bench-sla-template",
        "customer": {"name": "Bench Customer", "phone": "+79990000000", "email": "bench@example.ru"},
        "lines": [{"sku": sku, "qty": 1, "price": 990} for sku in demo.demo_skus()[:2]],
        "delivery": {"method": "courier", "address": "Tverskaya 1, Moscow"},
        "payment": {"method": "prepaid"},
    }
    answer = hub.http("POST", "/v1/orders", headers=headers, body=json.dumps(body).encode())
    if answer.status != 201:
        raise RuntimeError(f"intake answered {answer.status}: {answer.body[:300]!r}")
    client, table = boto3.client("dynamodb"), settings().orders_table
    key = {"pk": {"S": f"ORDER#{json.loads(answer.body)['order_id']}"}}
    item = from_item(client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])
    client.delete_item(TableName=table, Key=key)
    return {name: value for name, value in item.items() if not name.startswith("sla_")}  # each copy plans its own


@contextmanager
def contacts(hub: LocalHub) -> Iterator[FakeStaffWebhook]:
    """Every role of the shipped ladders told by email (SES, a verified sender) and by a webhook on 127.0.0.1."""
    receiver = FakeStaffWebhook(SECRET)
    with serve(receiver.app()) as url:
        headers = {"x-api-key": hub.api_key, "content-type": "application/json"}
        for role in ROLES:
            body = {"emails": [f"{role}@bench.example"], "webhook": {"url": url + PATH, "secret": SECRET}}
            answer = hub.http("PUT", f"/v1/roles/{role}/contacts", headers=headers, body=json.dumps(body).encode())
            if answer.status != 200:
                raise RuntimeError(f"contacts of {role} answered {answer.status}: {answer.body[:300]!r}")
        boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
        saved = os.environ.get("NOTIFY_EMAIL_FROM")
        os.environ["NOTIFY_EMAIL_FROM"] = SENDER
        settings.cache_clear()
        try:
            yield receiver
        finally:
            if saved is None:
                os.environ.pop("NOTIFY_EMAIL_FROM")
            else:
                os.environ["NOTIFY_EMAIL_FROM"] = saved
            settings.cache_clear()
        receiver.assert_conforming()


class Monitor:
    def __init__(self, hub: LocalHub, calls: base.AwsCalls, receiver: FakeStaffWebhook) -> None:
        self.hub, self.calls, self.receiver = hub, calls, receiver
        self.function = hub.template.functions["SlaMonitorFunction"].name
        self.items = ItemsRead(self.function)
        self.items.install()

    def run(self, at: datetime) -> Run:
        self.calls.take()
        self.items.take()
        posts = self.receiver.posts
        started = time.perf_counter()
        outcome: dict[str, int] = self.hub.fire_schedules(SCAN, at=at)[SCAN]
        spent = time.perf_counter() - started
        failed = outcome.get("failed", 0)
        if failed:
            raise RuntimeError(f"{failed} looks failed: {outcome}")
        own = self.calls.take_of(self.function)
        return Run(outcome, own, self.items.take(), self.receiver.posts - posts, spent, threading.get_ident())


# ------------------------------------------------------------------ figures


def main(calls: base.AwsCalls, emit: Emit, note: Note, sizes: tuple[int, ...] = SIZES) -> None:
    with LocalHub() as hub:
        demo.load(hub)
        calls.install()
        template = template_order(hub)
        with contacts(hub) as receiver:
            monitor = Monitor(hub, calls, receiver)
            now = hub.clock.now()
            monitor.run(now)  # warm: the handler's imports and clients
            copies = Copies(template, now)
            runs: dict[int, Run] = {}
            for size in sizes:
                due = round(size * DUE_SHARE)
                started = time.perf_counter()
                with calls.muted():  # set-up: its requests are not kept
                    fill(copies, size - copies.made, due)
                note(
                    f"sla: {size} open orders written straight into the table in {time.perf_counter() - started:.0f} s"
                )
                runs[size] = monitor.run(now)
                report_run(emit, f"sla_run_{size}", runs[size], size, due)
            # The same moment again: every due order was planned on to its next check, none is due now.
            idle = monitor.run(now)
            report_run(emit, "sla_run_idle", idle, copies.made, 0)
            # One order alone with its first rung due: ship_from_store's `confirmed` at a store (store_staff).
            flow = catalog().workflows["ship_from_store"]
            place = Place(flow, "confirmed", "web", STORES[0])
            with calls.muted():
                batch_put(
                    boto3.client("dynamodb"), settings().orders_table, [copies.with_tier_due(place, "escalate_1")]
                )
            escalation = monitor.run(now)
    largest = sizes[-1]
    report_escalation(emit, note, escalation, idle)
    report_costs(emit, note, idle, runs[largest], round(largest * DUE_SHARE))
    report_notes(note, runs, idle)


def report_run(emit: Emit, name: str, run: Run, open_orders: int, due: int) -> None:
    looked = sum(run.outcome.get(kind, 0) for kind in ("planned", "moved"))
    if looked != due:
        raise RuntimeError(f"{name}: {due} due but {looked} looked at: {run.outcome}")
    emit(f"{name}_open_orders", open_orders, "orders")
    emit(f"{name}_due_orders", due, "orders")
    emit(f"{name}_items_read", run.items_read, "items")
    emit(f"{name}_orders_read", run.read.items["orders"], "items")
    emit(f"{name}_index_keys_read", run.read.items["index_keys"], "items")
    emit(f"{name}_other_items_read", run.read.items["other"], "items")
    emit(f"{name}_items_read_minimum", due, "items")
    if due:
        emit(f"{name}_items_read_per_due_order", run.items_read / due, "items")
    emit(f"{name}_aws_calls", len(run.calls), "calls")
    emit(f"{name}_local_seconds", run.seconds, "s")


def report_escalation(emit: Emit, note: Note, escalation: Run, idle: Run) -> None:
    """One escalation's calls: the run's beyond an idle run's (the lanes' Queries), against the fewest it needs
    (the tier's conditional write, the task, the email; the webhook post is not an AWS call)."""
    own = Counter(c.name for c in escalation.calls) - Counter(c.name for c in idle.calls)
    # The role's contacts (a ConfigTable Query) and webhook secret (SSM) are cached for CONFIG_CACHE_SECONDS
    # (30 s), so a run a minute after the last reads them again whatever it notifies.
    contacts = Counter({"dynamodb.Query": own["dynamodb.Query"], "ssm.GetParameter": own["ssm.GetParameter"]})
    emit("sla_escalation_aws_calls", own.total(), "calls")
    emit("sla_escalation_order_aws_calls", (own - contacts).total(), "calls")
    emit("sla_escalation_aws_calls_minimum", 3, "calls")
    emit("sla_escalation_webhook_posts", escalation.posts, "posts")
    note(
        "sla escalation (one order alone, ship_from_store confirmed escalate_1 -> store_staff at its store): "
        + _ops(own)
    )


def report_costs(emit: Emit, note: Note, idle: Run, busy: Run, due: int) -> None:
    """The monitor (Lambda + DynamoDB) per month at one run a minute; the staff emails apart (they follow the
    escalations, not the monitor)."""
    function = load(TEMPLATE).functions[FUNCTION]
    for name, run in (("idle", idle), (f"due_{due}", busy)):
        parts = run.cost_parts(function.memory / 1024)
        wru, rru = run.request_units()
        emit(f"sla_cost_per_month_{name}_usd", parts["lambda"] + parts["dynamodb"], "usd")
        for part, usd in parts.items():
            emit(f"sla_cost_{part}_per_month_{name}_usd", usd, "usd")
        emit(f"sla_run_{name}_lambda_seconds_modelled", run.lambda_seconds(), "s")
        note(
            f"sla cost {name}: per run 1 Lambda request, {run.lambda_seconds():.2f} s modelled, {wru:g} WRU, "
            f"{rru:g} RRU, {run.emails()} emails, {run.posts} webhook posts; x {RUNS_PER_MONTH} runs a month; "
            f"orders read {max(run.read.got_bytes, default=0)} B at most"
        )
    note(
        f"sla pricing: Lambda $0.20/1M requests + $0.0000133334/GB-s at {function.memory} MB (template, arm64) for "
        f"{BASE_SECONDS * 1000:g} ms a run plus each call's wait ("
        + ", ".join(f"{service} {seconds * 1000:g} ms" for service, seconds in CALL_SECONDS.items())
        + f", webhook post {WEBHOOK_SECONDS * 1000:g} ms: assumed latencies, the local wall time is moto's; "
        f"the looks' waits spread over {LOOKERS} threads); "
        f"DynamoDB on-demand $0.625/1M WRU, $0.125/1M RRU; SES $0.10/1k emails; function timeout {function.timeout} s"
    )


def report_notes(note: Note, runs: dict[int, Run], idle: Run) -> None:
    for size, run in runs.items():
        note(f"sla run at {size} open: {run.outcome}; " + _ops(Counter(c.name for c in run.calls)))
    note("sla idle run: " + _ops(Counter(c.name for c in idle.calls)))
    note(
        "sla items read: counted by an after-call hook on boto3's default session (items in each Query and "
        "BatchGetItem answer to the monitor, on its own thread and its looks'); minimum = the due orders, each once"
    )


def _ops(counted: Counter[str]) -> str:
    return ", ".join(f"{op} x{n}" for op, n in sorted(counted.items())) or "none"


if __name__ == "__main__":
    main(base.AwsCalls(), base.emit, base.note, tuple(int(size) for size in sys.argv[1:]) or SIZES)
