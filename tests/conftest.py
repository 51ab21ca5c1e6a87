"""Shared fixtures: a whole hub on moto, driven over its HTTP contract (helpers live in tests/support)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

os.environ.setdefault("OMS_LOG_LEVEL", "WARNING")
# powertools' Metrics reads its namespace when common.observability is first imported, which a unit
# test (connectors, clients) may do before any hub sets the template's environment; without one, the
# automatic flush at 100 metrics fails.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "OmsHub")
# The definitions moto accepted (oms_local/accepted_definitions.py), shared by this run's workers and the
# `oms-hub local` children they start, and by no other run: a run starts as a fresh machine does.
if "OMS_LOCAL_CACHE_DIR" not in os.environ:
    os.environ["OMS_LOCAL_CACHE_DIR"] = tempfile.mkdtemp(prefix="oms-hub-tests-")
    atexit.register(shutil.rmtree, os.environ["OMS_LOCAL_CACHE_DIR"], ignore_errors=True)

from oms_local.runtime import LocalHub
from tests.fakes.partners import FakeOzon
from tests.fakes.server import serve
from tests.support import builders
from tests.support.api import Api
from tests.support.partners import marketplace_channels


@pytest.fixture
def hub() -> Iterator[LocalHub]:
    with LocalHub() as running:
        yield running


@pytest.fixture
def api(hub: LocalHub) -> Api:
    return Api(hub)


@pytest.fixture
def shop(api: Api) -> Api:
    """One warehouse (10 x SKU-A, 5 x SKU-B), one store (3 x SKU-A), and the web channel with no rules."""
    return builders.warehouse_and_store(api)


@pytest.fixture
def fake_ozon() -> Iterator[tuple[FakeOzon, str]]:
    """Ozon's Seller API on 127.0.0.1: it holds every posting pushed to the hub (`push`)."""
    fake = FakeOzon()
    with serve(fake.app()) as url:
        yield fake, url


@pytest.fixture
def market(api: Api, fake_ozon: tuple[FakeOzon, str]) -> Api:
    """Warehouse wh-1 ships marketplace and courier orders (10 x SKU-A); channels ozon (its API on the fake,
    where the hub reads each pushed posting's prices), yandex, cdek, web."""
    return marketplace_channels(api, fake_ozon[1])


# Heaviest first, so the last files pytest-xdist's workers take are short ones and neither waits long
# for the other at the end: the end-to-end files (`oms-hub local` processes, whole-schema fuzzing), then
# the integration files (a hub per test), the rest after; each group in its usual order. `make test`
# passes --no-loadscope-reorder, which keeps this order: xdist would otherwise sort files by their number
# of tests, and the end-to-end files, with few tests each, came last.
HEAVY_FIRST = ("tests/e2e/", "tests/integration/")
# Ahead of those, the files that took longest (seconds of setup, calls and teardown summed, `--durations=0`
# on 2026-12-04: 1,892 s over 97 files), longest first, wherever they live: least privilege (tests/infra) came
# among the last files and kept one worker busy after the others had ended.
SLOWEST = (
    "tests/integration/test_cancellation_matrix.py",  # 151 s
    "tests/e2e/fuzz/test_generated_inputs.py",  # 103 s
    "tests/integration/test_order_actions.py",  # 90 s
    "tests/integration/test_sla_acceptance.py",  # 79 s
    "tests/e2e/test_state_dir_restarts.py",  # 78 s
    "tests/integration/test_hostile_input.py",  # 73 s
    "tests/infra/test_least_privilege.py",  # 64 s
    "tests/integration/test_stock_push.py",  # 61 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        if path in SLOWEST:
            return SLOWEST.index(path)
        group = next((n for n, prefix in enumerate(HEAVY_FIRST) if path.startswith(prefix)), len(HEAVY_FIRST))
        return len(SLOWEST) + group

    items.sort(key=rank)  # stable: the order within a group stays
