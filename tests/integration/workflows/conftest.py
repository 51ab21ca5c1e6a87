"""Shared by the workflow scenarios: a hub stocked for every delivery method (walking an order is in
tests/support/workflows.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oms_local.runtime import LocalHub
from tests.support import builders
from tests.support.api import Api


@pytest.fixture
def every_method_shop(api: Api) -> Api:
    """wh-1 ships (courier, pickup point, post, marketplace), store-1 serves customers in person."""
    return builders.every_method_shop(api)


@pytest.fixture
def timed_hub() -> Iterator[Api]:
    """A hub where the KPIs of the statuses these tests wait out last one second."""
    timeouts = {
        "ClickCollectLifecycle": {"ReadyForPickup": 1},
        "ReserveInStoreLifecycle": {"Held": 1},
        "ShipFromStoreLifecycle": {"Confirmed": 1, "AwaitConfirmed": 30},
    }
    with LocalHub(state_timeouts=timeouts) as hub:
        yield builders.every_method_shop(Api(hub))
