"""A hub with marketplace channels and a courier, and partners pushing to it as they do (the `market` and
`fake_ozon` fixtures are shared from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oms_local.runtime import LocalHub
from tests.support.partners import fast_retry_hub


@pytest.fixture
def hub() -> Iterator[LocalHub]:
    with fast_retry_hub() as running:
        yield running
