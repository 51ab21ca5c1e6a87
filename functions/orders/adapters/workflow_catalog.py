"""The workflow catalog the functions run with: orders/workflows.json, written by `oms-hub workflows build`
from workflows/*.yaml and read once per container. The domain is handed the workflows it judges by."""

from __future__ import annotations

import functools
from pathlib import Path

from orders.domain.workflow import Catalog, Workflow
from reference.models import DeliveryMethod

CATALOG = Path(__file__).parents[1] / "workflows.json"


@functools.cache
def catalog() -> Catalog:
    return Catalog.model_validate_json(CATALOG.read_text())


def workflow(name: str) -> Workflow:
    return catalog().workflows[name]


def workflow_for(method: DeliveryMethod, channel: str) -> Workflow:
    return catalog().for_order(method, channel)
