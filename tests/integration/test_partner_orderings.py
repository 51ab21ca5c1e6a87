"""Property: whatever order a partner's messages arrive in (reversed, duplicated, the order's own creation
late, a first attempt crashing or finding the lifecycle busy), the order ends in the status the partner's
newest status implies, and its stock row says the same (released on cancel, consumed on ship).

Each partner is driven as it calls: Ozon pushes over HTTP (a push not answered 200 is sent again), Market
notifications through the partner queue (a failed message is redelivered), Wildberries statuses by the
scheduled poll of a fake server. A parked event is applied by the sweep, as the scheduled poll does.
One hub per test, a fresh order per example: each example runs real lifecycles on moto, so the counts
are small (the file takes about a minute here).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms_local.runtime import LocalHub
from orders.adapters.workflow_catalog import workflow
from orders.domain.models import order_id_for
from partners.clients import ozon, wildberries, yandex_market
from tests.fakes.partners import FakeWildberries
from tests.integration.partner_helpers import (
    FailFirst,
    busy,
    market_created,
    market_status,
    ozon_posting,
    ozon_state,
    queue_drained,
    stock_of,
    sweep,
)
from tests.support.api import Api
from tests.support.partners import fast_retry_hub, wildberries_channel
from tests.support.waiting import settled, wait_until

MARKETPLACE = workflow("marketplace")
EXAMPLES = 8
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HUB_EVENTS = ("pack", "ship", "deliver", "cancel")
NEW = "new"  # the order's own creation message, in the fuzzed sequence
_ids = itertools.count(1)


@pytest.fixture
def hub() -> Iterator[LocalHub]:
    with fast_retry_hub() as running:
        yield running


@pytest.fixture
def stocked(market: Api) -> Api:
    # Enough units for every example of a test; each example checks its own change of the row.
    assert market.put("/v1/stock/wh-1", {"mode": "snapshot", "items": [{"sku": "SKU-A", "on_hand": 200}]}).status == 200
    return market


def _by_event(table: dict[str, str | None]) -> dict[str | None, list[str]]:
    grouped: dict[str | None, list[str]] = {}
    for status, event in table.items():
        grouped.setdefault(event, []).append(status)
    return grouped


def histories(table: dict[str, str | None]) -> st.SearchStrategy[list[str]]:
    """What a partner really says of one order, oldest first: statuses it has no hub step for, then either
    its way forward (ship-ish, then deliver-ish: each stage may be skipped) or a cancellation."""
    grouped = _by_event(table)
    quiet = st.lists(st.sampled_from(grouped[None]), max_size=1)
    forward = st.tuples(
        quiet,
        st.lists(st.sampled_from(grouped["ship"]), max_size=2, unique=True),
        st.lists(st.sampled_from(grouped["deliver"]), max_size=1),
    )
    cancelled = st.tuples(quiet, st.just([]), st.lists(st.sampled_from(grouped["cancel"]), min_size=1, max_size=1))
    return st.one_of(forward, cancelled).map(lambda parts: [s for part in parts for s in part])


def expected_status(table: dict[str, str | None], history: list[str]) -> str:
    """The status the newest status with a hub step implies (reserved when none has one)."""
    mapped = [table[s] for s in history if table[s] is not None]
    return MARKETPLACE.event_target(mapped[-1]) if mapped else "reserved"


def stock_change(status: str) -> tuple[int, int, int]:
    """(on_hand, reserved, available) of a 1-unit order's row, against the row before the order."""
    return {"reserved": (0, 1, -1), "shipped": (-1, 0, -1), "delivered": (-1, 0, -1), "cancelled": (0, 0, 0)}[status]


@dataclass(frozen=True)
class Plan:
    history: list[str]  # the partner's statuses, oldest first
    arrivals: list[int | str]  # indexes into history (duplicates allowed) and NEW, in arrival order
    failures: dict[str, str]  # hub event -> "crash" | "busy": its first attempt fails so


@st.composite
def plans(draw: st.DrawFn, table: dict[str, str | None]) -> Plan:
    history = draw(histories(table))
    messages: list[int | str] = [NEW, *range(len(history))]
    duplicates = draw(st.lists(st.sampled_from(messages), max_size=2))
    arrivals = draw(st.permutations(messages + duplicates))
    failures = draw(st.dictionaries(st.sampled_from(HUB_EVENTS), st.sampled_from(["crash", "busy"]), max_size=2))
    return Plan(history, arrivals, failures)


def _arm(fail_first: FailFirst, failures: dict[str, str]) -> None:
    for event, kind in failures.items():
        fail_first.arm(event, RuntimeError("injected crash") if kind == "crash" else busy())


def _converged(
    hub: LocalHub, api: Api, fail_first: FailFirst, order_id: str, status: str, before: tuple[int, int, int]
) -> None:
    """Failures not met yet are dropped; the queue drains (a failed message is redelivered), the sweep
    applies what is parked until nothing is left; then the order and its stock row are what `status` says."""
    fail_first.armed.clear()
    queue_drained(hub)
    # A replay may find the lifecycle between two steps again: it stays parked for the next sweep.
    wait_until(
        lambda: all(r["parked"] == r["applied"] == r["ignored"] == 0 for r in sweep(hub).values()),
        what="a sweep with nothing parked",
    )
    order = settled(api, order_id, status)
    change = tuple(after - was for after, was in zip(stock_of(api), before, strict=True))
    assert change == stock_change(status), f"{status}: stock moved by {change}"
    # Each step once, in the workflow's order: no duplicate, nothing undone.
    steps = [e["event"] for e in order["timeline"] if e.get("event") in HUB_EVENTS]
    assert (
        steps
        == {
            "reserved": [],
            "shipped": ["pack", "ship"],
            "delivered": ["pack", "ship", "deliver"],
            "cancelled": ["cancel"],
        }[status]
    ), order["timeline"]


def _times(count: int) -> list[str]:
    start = datetime(2026, 11, 25, 8, tzinfo=UTC)
    return [(start + timedelta(hours=h)).isoformat().replace("+00:00", "Z") for h in range(count)]


@pytest.fixture
def fail_first(monkeypatch: pytest.MonkeyPatch) -> FailFirst:
    return FailFirst(monkeypatch)


# ------------------------------------------------------------------ Ozon push


@PROPERTY
@given(plan=plans(ozon.STATUS_EVENTS))
def test_ozon_push_orderings_converge_on_the_newest_status(
    hub: LocalHub, stocked: Api, fail_first: FailFirst, plan: Plan
) -> None:
    posting = f"90{next(_ids):06d}-0001-1"
    before = stock_of(stocked)
    times = _times(len(plan.history))
    _arm(fail_first, plan.failures)
    for message in plan.arrivals:
        for _attempt in range(3):  # Ozon sends a push again until it is answered 200
            answer = (
                ozon_posting(hub, posting)
                if message == NEW
                else ozon_state(hub, posting, plan.history[message], times[message])
            )  # type: ignore[index]
            if answer.status == 200:
                break
        assert answer.status == 200, answer.body
    _converged(
        hub,
        stocked,
        fail_first,
        order_id_for("ozon", posting),
        expected_status(ozon.STATUS_EVENTS, plan.history),
        before,
    )


# ------------------------------------------------------------------ Yandex Market notifications (queue)


@PROPERTY
@given(plan=plans(yandex_market.STATUS_EVENTS))
def test_market_notification_orderings_converge_on_the_newest_status(
    hub: LocalHub, stocked: Api, fail_first: FailFirst, plan: Plan
) -> None:
    market_order = 880000000 + next(_ids)
    before = stock_of(stocked)
    times = _times(len(plan.history))
    _arm(fail_first, plan.failures)
    for message in plan.arrivals:
        if message == NEW:
            market_created(hub, market_order)
        else:
            market_status(hub, market_order, plan.history[message], times[message])  # type: ignore[index]
    _converged(
        hub,
        stocked,
        fail_first,
        order_id_for("yandex", str(market_order)),
        expected_status(yandex_market.STATUS_EVENTS, plan.history),
        before,
    )


# ------------------------------------------------------------------ Wildberries poll


@pytest.fixture
def fake_wb(stocked: Api) -> Iterator[FakeWildberries]:
    with wildberries_channel(stocked) as fake:
        yield fake


def _task(task_id: int) -> dict[str, object]:
    return {"id": task_id, "article": "SKU-A", "price": 119000, "createdAt": "2026-11-25T06:00:00Z"}


def _poll(hub: LocalHub) -> None:
    """One scheduled run; a run that crashed is simply the next run's to catch up (as on AWS)."""
    with contextlib.suppress(Exception):  # the injected crash ends this run
        sweep(hub)


@PROPERTY
@given(
    history=histories(wildberries.STATUS_EVENTS),
    repeats=st.lists(st.integers(1, 2), min_size=4, max_size=4),
    failures=st.dictionaries(st.sampled_from(HUB_EVENTS), st.sampled_from(["crash", "busy"]), max_size=2),
)
def test_wildberries_polled_statuses_converge_on_the_newest_status(
    hub: LocalHub,
    stocked: Api,
    fake_wb: FakeWildberries,
    fail_first: FailFirst,
    history: list[str],
    repeats: list[int],
    failures: dict[str, str],
) -> None:
    # Polls see the current status only: a status the partner moved past between two polls is skipped,
    # and one seen by two polls is a duplicate.
    task_id = 13900000 + next(_ids)
    before = stock_of(stocked)
    _arm(fail_first, failures)
    fake_wb.new = [_task(task_id)]
    _poll(hub)
    fake_wb.new = []
    for status, times in zip(history, repeats, strict=False):
        fake_wb.statuses[task_id] = ("complete", status)
        for _ in range(times + 1):  # one more run than asked: a crashed run is caught up by the next
            _poll(hub)
    _converged(
        hub,
        stocked,
        fail_first,
        order_id_for("wb", str(task_id)),
        expected_status(wildberries.STATUS_EVENTS, history),
        before,
    )
