"""Each fuzz module gets its own hub (one warehouse, 50 units a SKU) and the schema it serves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis.specs.openapi.schemas import OpenApiSchema

from oms_local.runtime import LocalHub
from oms_local.server import build_app
from tests.support.api import Api
from tests.support.builders import one_warehouse


@pytest.fixture(scope="module")
def hub() -> Iterator[LocalHub]:
    with LocalHub() as running:
        one_warehouse(Api(running), sku_units=50)
        yield running


@pytest.fixture(scope="module")
def schema(hub: LocalHub) -> OpenApiSchema:
    return schemathesis.openapi.from_asgi("/v1/openapi.json", build_app(hub))


@pytest.fixture(scope="module")
def operations(schema: OpenApiSchema) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 11
    return found
