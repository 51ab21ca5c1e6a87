"""Per workflow (scenario): state transitions, Lambda invocations and cost per order, happy path, with the
lifecycle's actions (docs/actions.md) run against fake partners on 127.0.0.1.

Called from bench/run.py on its hub (demo data loaded); alone: `python bench/lifecycles.py` (a hub of its
own with the demo data). Counts the same way as the courier figures (execution history, hooked AWS calls)
and prices them with the same list prices, plus SQS, SES and the actions' Lambda.

Each order is followed until the actions the statuses it went through announced have all settled (none
running or retrying, OrderActionsQueue empty). Its AWS calls are split by thread: the ones made on
OrderActionsFunction's poller thread are the actions'; the rest are the order without actions (today's
figures, printed as before). Partner requests are counted by each fake, per order.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

import boto3  # noqa: E402
import run as base  # noqa: E402  (bench/run.py, first: it sets the functions' log level before they load)

from common import secrets  # noqa: E402
from common.config import settings  # noqa: E402
from common.cost_model import LAMBDA_GB, LAMBDA_SECONDS, Usage, cost_per_1000  # noqa: E402
from notifications.adapters.sms_ru import api_id_parameter  # noqa: E402
from oms_local import demo  # noqa: E402
from oms_local.runtime import LocalHub  # noqa: E402
from tests.fakes.partners import FakeCdek, FakeOzon, FakeWildberries, FakeYandexMarket  # noqa: E402
from tests.fakes.server import serve  # noqa: E402
from tests.fakes.sms_ru import API_ID, FakeSmsRu  # noqa: E402

ACTIONS_FUNCTION = "OrderActionsFunction"
ACTIONS_THREAD = f"sqs-{ACTIONS_FUNCTION}"  # oms_local.event_sources.QueuePoller's thread
ACTIONS_WAIT_S = 60.0
UNSETTLED = frozenset({"running", "retrying"})
STOCKS = "/stocks"  # the end of every marketplace's stock push path (Ozon, Wildberries' warehouse, Market)
STORE, WAREHOUSE = "msk-store-tverskaya", "msk-wh-1"
SENDER = "orders@bench.example"
CUSTOMER = {
    "name": "Bench Customer",
    "phone": "+79165550000",
    "email": "customer@bench.example",
    "consent": {"sms": True, "email": True},
}
CAMPAIGN = 21621656
OZON_SKU = 900000001  # Ozon's own sku of the bench's offer

# The actions' Lambda time is mostly waiting for partners: run.py's 100 ms plus this per partner request.
PARTNER_REQUEST_SECONDS = 0.1


@dataclass(frozen=True)
class Scenario:
    workflow: str
    method: str
    events: list[str]
    final: str
    channel: str = "web"
    # The fewest partner requests the actions of this happy path need, per partner (see RESULTS.md).
    minimum: dict[str, int] = field(default_factory=dict)


# CDEK's create_shipment: token, look-up by the order id (a lost answer is followed, not registered twice),
# register, one read of the asynchronous request (SUCCESSFUL), the receipt ordered and read once.
CDEK_SHIPMENT = 6
SCENARIOS: dict[str, Scenario] = {
    "courier": Scenario("courier", "courier", ["confirm", "pick", "pack", "ship", "deliver"], "delivered"),
    "pickup_point": Scenario(
        "pickup_point",
        "pickup_point",
        ["confirm", "pick", "pack", "ship", "arrive", "collect"],
        "collected",
        minimum={"cdek": CDEK_SHIPMENT, "sms": 1, "ses": 1},
    ),
    "post": Scenario(
        "post",
        "post",
        ["confirm", "pick", "pack", "ship", "arrive", "deliver"],
        "delivered",
        minimum={"cdek": CDEK_SHIPMENT, "sms": 2, "ses": 2},
    ),
    "ship_from_store": Scenario(
        "ship_from_store",
        "ship_from_store",
        ["confirm", "pick", "pack", "ship", "deliver"],
        "delivered",
        minimum={"cdek": CDEK_SHIPMENT, "sms": 1, "ses": 1},
    ),
    "click_collect": Scenario(
        "click_collect",
        "click_collect",
        ["confirm", "pick", "ready", "collect"],
        "collected",
        minimum={"sms": 1, "ses": 1},
    ),
    "reserve_in_store": Scenario(
        "reserve_in_store", "reserve_in_store", ["confirm", "sell"], "sold", minimum={"sms": 1, "ses": 1}
    ),
    # Ozon: the posting's products (Ozon's sku), ship, the posting again for ship_failed, the package label's
    # task created and read once (the fake forms it at once; Ozon takes 45-60 s: 2 more per retry).
    "marketplace": Scenario(
        "marketplace", "marketplace", ["pack", "ship", "deliver"], "delivered", "bench-ozon", {"ozon": 5}
    ),
    # Wildberries, one order alone: a supply opened, the task added and read back, the supply delivered.
    "marketplace_wildberries": Scenario(
        "marketplace", "marketplace", ["pack", "ship", "deliver"], "delivered", "bench-wb", {"wildberries": 4}
    ),
    "marketplace_market": Scenario(
        "marketplace", "marketplace", ["pack", "ship", "deliver"], "delivered", "bench-ym", {"market": 1}
    ),
}


class Partners:
    """The fakes the bench's hub is pointed at while the workflows run, and what each received."""

    def __init__(self) -> None:
        self.ozon = FakeOzon()
        self.cdek = FakeCdek()
        self.fakes: dict[str, FakeOzon | FakeWildberries | FakeYandexMarket | FakeCdek] = {
            "ozon": self.ozon,
            "wildberries": FakeWildberries(),
            "market": FakeYandexMarket(),
            "cdek": self.cdek,
        }
        self.sms = FakeSmsRu()
        self.urls: dict[str, str] = {}

    @contextmanager
    def served(self) -> Iterator[Partners]:
        with ExitStack() as stack:
            for name, fake in self.fakes.items():
                self.urls[name] = stack.enter_context(serve(fake.app()))
            self.urls["sms"] = stack.enter_context(serve(self.sms.app()))
            yield self

    def received(self) -> Counter[str]:
        """Requests per partner, but the stock pushes: the marketplace channels' stock follows the orders'
        reservations (StockPushFunction, bench/marketplace_push.py), which is not an action."""
        counts = Counter(
            {
                name: sum(1 for _, path, _ in fake.requests if not path.endswith(STOCKS))
                for name, fake in self.fakes.items()
            }
        )
        counts["sms"] = len(self.sms.requests)
        return counts


class ScenarioBench(base.Bench):
    """The run's Bench, ordering with one delivery method on one channel and following that workflow's machine."""

    def __init__(self, hub: Any, calls: Any, scenario: Scenario, partners: Partners | None = None) -> None:
        super().__init__(hub, calls)
        self.scenario = scenario
        self.partners = partners
        self.executions = (os.environ["LIFECYCLE_ARN_PREFIX"] + scenario.workflow).replace(
            ":stateMachine:", ":execution:"
        )
        self.order_id = ""

    def create_order(self, external_id: str) -> tuple[int, dict[str, Any]]:
        sku = self._in_stock_at_store()
        channel = self.scenario.channel
        if channel != "web":  # a marketplace order: its external id is the partner's number
            external_id = str(zlib.crc32(external_id.encode()) % 10**8)
            if self.partners is not None and channel == "bench-ozon":
                external_id = f"{external_id}-0001-1"
                self.partners.ozon.hold(
                    {"posting_number": external_id, "products": [{"sku": OZON_SKU, "offer_id": sku, "quantity": 1}]}
                )
        delivery = {"method": self.scenario.method, "address": "Tverskaya 1, Moscow", "location_id": STORE}
        answer = self.post(
            "/v1/orders",
            {
                "channel": channel,
                "external_id": external_id,
                "customer": CUSTOMER,
                "lines": [{"sku": sku, "qty": 1, "price": 10}],
                "delivery": delivery,
                "payment": {"method": "prepaid"},
            },
        )
        order = json.loads(answer.body)
        if answer.status != 201 or order.get("status") != "reserved":
            raise RuntimeError(f"order {external_id} was not reserved: {answer.status} {answer.body[:300]!r}")
        self.order_id = order["order_id"]
        return answer.status, order

    def _in_stock_at_store(self) -> str:
        """A SKU both the store and the warehouse have (store scenarios reserve at one, shipping at the other)."""
        with self.calls.muted():
            answer = self.hub.http(
                "GET",
                "/v1/availability",
                query="channel=web&skus=" + ",".join(demo.demo_skus()[:60]),
                headers=self.headers,
            )
        for item in json.loads(answer.body)["items"]:
            free = {loc["location_id"]: loc["available"] for loc in item["locations"]}
            if free.get(STORE, 0) >= 3 and free.get(WAREHOUSE, 0) >= 3:
                sku: str = item["sku"]
                return sku
        raise RuntimeError("no demo SKU with stock at the store")

    def wait_until_waiting(self, order_id: str) -> None:
        """As an operator works: the next event once the status's actions are done too (statuses are hours
        apart on a stack, so each announcement is a batch of its own; at peak, batches fill with many orders)."""
        super().wait_until_waiting(order_id)
        if self.partners is not None:
            self.wait_for_actions()

    def wait_for_actions(self) -> list[dict[str, Any]]:
        """Until no action of the order is running or retrying and OrderActionsQueue holds nothing."""
        sqs = boto3.client("sqs")
        with self.calls.muted():
            url = sqs.get_queue_url(QueueName=f"{self.hub.template.stack}-OrderActionsQueue")["QueueUrl"]
        found: list[dict[str, Any]] = []

        def settled() -> bool:
            with self.calls.muted():
                order = json.loads(self.hub.http("GET", f"/v1/orders/{self.order_id}", headers=self.headers).body)
                attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            found[:] = order.get("actions", [])
            queued = int(attributes["ApproximateNumberOfMessages"]) + int(
                attributes["ApproximateNumberOfMessagesNotVisible"]
            )
            return queued == 0 and not any(a["status"] in UNSETTLED for a in found)

        deadline = time.monotonic() + ACTIONS_WAIT_S
        while not settled():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the actions of {self.order_id} did not settle: {found}")
            time.sleep(0.1)
        return found


@dataclass(frozen=True)
class WithActions:
    """One order's happy path: today's figures (`before`) and everything its actions added."""

    before: base.Lifecycle
    everything: base.Lifecycle  # every call on every thread, the order item with its actions
    batches: int  # OrderActionsFunction invocations (SQS batches)
    actions: list[dict[str, Any]]
    action_calls: list[base.Call]
    partner_requests: Counter[str]
    emails: int

    def count(self, name: str, calls: list[base.Call] | None = None) -> int:
        return sum(1 for call in (self.everything.calls if calls is None else calls) if call.name == name)

    def announcements(self) -> int:
        """OrderStatusEntered events put on the bus: each one is a message the rule sends to the queue."""
        return sum(
            1
            for call in self.everything.calls
            if call.name == "events.PutEvents"
            for entry in call.request.get("Entries", [])
            if entry.get("DetailType") == "OrderStatusEntered"
        )

    def sqs_requests(self) -> int:
        """Billable SQS requests per order: EventBridge's SendMessage per announcement; Lambda's poller's
        ReceiveMessage and DeleteMessageBatch per batch (the local poller's client predates the hook, and
        its empty long polls are the same with or without orders); the function's own (a retry's
        ChangeMessageVisibility)."""
        own = sum(1 for call in self.action_calls if call.service == "sqs")
        return self.announcements() + 2 * self.batches + own

    def usage(self) -> Usage:
        """The order's usage with its actions': OrderActionsFunction's batches at 100 ms each plus the time
        it waits for partners, SQS and SES."""
        used = base.usage(self.everything)
        seconds = LAMBDA_SECONDS * self.batches + PARTNER_REQUEST_SECONDS * self.partner_requests.total()
        return replace(
            used,
            lambda_requests=used.lambda_requests + self.batches,
            lambda_gb_seconds=used.lambda_gb_seconds + LAMBDA_GB * seconds,
            sqs_requests=self.sqs_requests(),
            emails=self.emails,
        )


def with_actions(scenario: ScenarioBench, partners: Partners, name: str) -> WithActions:
    hub = scenario.hub
    poller = hub.queue_reader(ACTIONS_FUNCTION)
    batches_before, received_before = poller.invocations, partners.received()
    run = base.lifecycle(scenario, f"bench-actions-{name}", scenario.scenario.events, scenario.scenario.final)
    actions = scenario.wait_for_actions()
    failed = [a for a in actions if a["status"] == "failed"]
    if failed:  # a happy path's figures with a failed action would count an operator's case instead
        raise RuntimeError(f"{name}: actions failed: {failed}")
    hub.settle()
    calls = run.calls + scenario.calls.take()
    threads = {thread.ident: thread.name for thread in threading.enumerate()}
    action_calls = [call for call in calls if threads.get(call.thread) == ACTIONS_THREAD]
    own = [call for call in calls if threads.get(call.thread) != ACTIONS_THREAD]
    everything = replace(run, calls=calls, order_item_bytes=scenario.order_item_bytes(scenario.order_id))
    return WithActions(
        before=replace(run, calls=own),
        everything=everything,
        batches=poller.invocations - batches_before,
        actions=actions,
        action_calls=action_calls,
        partner_requests=partners.received() - received_before,
        emails=sum(1 for call in action_calls if call.name in ("sesv2.SendEmail", "ses.SendEmail")),
    )


@contextmanager
def configured(bench: Any, partners: Partners) -> Iterator[None]:
    """The hub pointed at the fakes: marketplace channels, the CDEK account (the store and the warehouse hand
    parcels in at office MSK5), the catalog's weights of the demo SKUs, SMS.ru and an SES sender. Undone
    afterwards (the CDEK account and the marketplace channels lose their api_url), so later benches' orders
    ask no partner."""
    urls = partners.urls
    channels: dict[str, dict[str, Any]] = {
        "bench-ozon": {"kind": "ozon", "name": "Ozon", "credentials": {"Client-Id": "836", "Api-Key": "ozon-key"}},
        "bench-wb": {"kind": "wildberries", "name": "WB", "credentials": {"token": "wb-token"}},
        "bench-ym": {
            "kind": "yandex_market",
            "name": "Market",
            "credentials": {"Api-Key": "ym-key"},
            "warehouses": [{"partner_warehouse_id": str(CAMPAIGN), "locations": [WAREHOUSE]}],
        },
        "bench-cdek": {
            "kind": "cdek",
            "name": "CDEK",
            "credentials": {"client_id": "cdek-id", "client_secret": "cdek-secret"},
            "warehouses": [{"partner_warehouse_id": "MSK5", "locations": [STORE, WAREHOUSE]}],
        },
    }
    fake_of = {"bench-ozon": "ozon", "bench-wb": "wildberries", "bench-ym": "market", "bench-cdek": "cdek"}
    product = {"name": "Bench product", "weight_grams": 400, "length_mm": 120, "width_mm": 90, "height_mm": 100}
    saved = {name: os.environ.get(name) for name in ("SMS_GATEWAY_URL", "NOTIFY_EMAIL_FROM")}
    with bench.calls.muted():
        for channel_id, body in channels.items():
            put(bench, f"/v1/channels/{channel_id}", {**body, "api_url": urls[fake_of[channel_id]]})
        for sku in demo.demo_skus()[:60]:
            put(bench, f"/v1/products/{sku}", product)
        secrets.put_secret(api_id_parameter(), API_ID)
        boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    os.environ.update({"SMS_GATEWAY_URL": urls["sms"], "NOTIFY_EMAIL_FROM": SENDER})
    settings.cache_clear()
    try:
        yield
    finally:
        with bench.calls.muted():
            for channel_id, body in channels.items():
                put(bench, f"/v1/channels/{channel_id}", body)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        settings.cache_clear()


def put(bench: Any, path: str, body: dict[str, Any]) -> None:
    answer = bench.hub.http("PUT", path, headers=bench.headers, body=json.dumps(body).encode())
    if answer.status not in (200, 201):
        raise RuntimeError(f"PUT {path} answered {answer.status}: {answer.body[:300]!r}")


def report(bench: Any) -> None:
    partners = Partners()
    runs: dict[str, WithActions] = {}
    with partners.served(), configured(bench, partners):
        for name, scenario in SCENARIOS.items():
            runs[name] = with_actions(ScenarioBench(bench.hub, bench.calls, scenario, partners), partners, name)
    for name, run in runs.items():
        emit_figures(name, run)
    scenarios = SCENARIOS.items()
    base.note(
        "per workflow, happy path: "
        + "; ".join(f"{n}: {s.channel} {' '.join(s.events)} -> {s.final}" for n, s in scenarios)
    )
    base.note(
        "one order line, one order at a time; workflow_<name>_* are today's figures (the order's calls on "
        "every thread but OrderActionsFunction's); workflow_<name>_with_actions_* add what the actions did, "
        "counted until none of the order's actions is running or retrying and OrderActionsQueue is empty, "
        "after each status (an operator's next event comes later); with_actions_lambda_invocations = orders API "
        "+ the state machine's Lambda tasks + OrderActionsFunction's batches (the stock stream's are priced too)"
    )
    base.note(
        "with actions also priced: OrderActionsFunction at $0.20/1M requests + 512 MB for 100 ms per batch "
        f"and {PARTNER_REQUEST_SECONDS * 1000:g} ms per partner request; SQS $0.40/1M requests (EventBridge's "
        "send per announcement, a receive and a batch delete per batch, the function's visibility changes; idle "
        "long polls not per order); SES $0.10/1k "
        "emails; SMS is the SMS provider's tariff, not AWS: counted, not priced"
    )


def emit_figures(name: str, run: WithActions) -> None:
    prefix = f"workflow_{name}"
    base.emit(f"{prefix}_state_transitions_per_order", run.before.transitions, "transitions")
    base.emit(f"{prefix}_lambda_invocations_per_order", run.before.lambda_invocations, "invocations")
    base.emit(f"{prefix}_cost_per_1000_orders_usd", sum(base.cost_parts(run.before).values()), "usd")
    lambda_requests = run.everything.api_requests + run.everything.lambda_invocations + run.batches
    dynamodb = [call for call in run.everything.calls if call.service == "dynamodb"]
    actions_dynamodb = [call for call in run.action_calls if call.service == "dynamodb"]
    prefix += "_with_actions"
    base.emit(f"{prefix}_state_transitions_per_order", run.everything.transitions, "transitions")
    base.emit(f"{prefix}_lambda_invocations_per_order", lambda_requests, "invocations")
    base.emit(f"{prefix}_orders_api_lambda_invocations_per_order", run.everything.api_requests, "invocations")
    base.emit(f"{prefix}_actions_lambda_invocations_per_order", run.batches, "invocations")
    base.emit(f"{prefix}_sqs_requests_per_order", run.sqs_requests(), "requests")
    base.emit(f"{prefix}_eventbridge_events_per_order", run.announcements(), "events")
    base.emit(f"{prefix}_dynamodb_requests_per_order", len(dynamodb), "requests")
    base.emit(f"{prefix}_actions_dynamodb_requests_per_order", len(actions_dynamodb), "requests")
    measured = run.partner_requests + Counter(ses=run.emails)
    for partner in sorted(set(measured) | set(SCENARIOS[name].minimum)):
        base.emit(f"{prefix}_{partner}_requests_per_order", measured[partner], "requests")
        base.emit(f"{prefix}_{partner}_requests_minimum", SCENARIOS[name].minimum.get(partner, 0), "requests")
    base.emit(f"{prefix}_emails_per_order", run.emails, "emails")
    base.emit(f"{prefix}_sms_per_order", run.partner_requests["sms"], "sms")
    used = run.usage()
    parts = cost_per_1000(used)
    base.emit(f"{prefix}_cost_per_1000_orders_usd", sum(parts.values()), "usd")
    base.note(
        f"{name}: actions "
        + ", ".join(f"{a['name']}@{a['on_status']}={a['status']}" for a in run.actions)
        + "; actions' AWS calls: "
        + ", ".join(f"{op} x{n}" for op, n in sorted(Counter(c.name for c in run.action_calls).items()))
        + "; cost parts "
        + ", ".join(f"{part} {usd:.4f}" for part, usd in parts.items())
        + f"; for common.cost_model.MEASURED: {used!r}"
    )


def main() -> None:
    calls = base.AwsCalls()
    with LocalHub() as hub:
        demo.load(hub)
        calls.install()
        report(base.Bench(hub, calls))


if __name__ == "__main__":
    main()
